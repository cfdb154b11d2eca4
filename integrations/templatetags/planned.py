"""Template filters for showing planned platform requests."""

from __future__ import annotations

import json

from django import template

register = template.Library()


@register.filter
def pretty_json(value) -> str:
    """A request body as indented JSON (what was planned, not re-encoded as the platform gets it)."""
    return json.dumps(value, indent=2, ensure_ascii=False, default=str)
