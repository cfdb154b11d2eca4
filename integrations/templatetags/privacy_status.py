"""{% load privacy_status %}{% overdue_privacy_requests as late %}: the console home's flag."""

from django import template

from integrations.services import privacy

register = template.Library()


@register.simple_tag
def overdue_privacy_requests() -> int:
    """How many privacy requests are past their deadline and not complete."""
    return privacy.overdue_requests().count()
