"""What the integration commands share: finding the integration they are about."""

from __future__ import annotations

from django.core.management.base import CommandError

from integrations.models import Integration
from integrations.services import audit

# Appended to the help of the commands that change or run an integration.
OPERATOR_NOTE = (
    " It runs as the operator of the machine: no console user or role is checked (whoever "
    "can run manage.py holds every right), and the audit log records it with no actor, "
    "via 'manage.py <command>'."
)


def audited(command: str, action: str, target: Integration, summary: str) -> None:
    """An audit entry for what a command did (no actor: the machine's operator)."""
    audit.record(action, via=f"manage.py {command}", target=target, summary=summary)


def find_integration(ident: str) -> Integration:
    """The integration with this numeric id or exact name; CommandError listing them if none."""
    ident = ident.strip()
    integration = None
    if ident.isdigit():
        integration = Integration.objects.filter(pk=int(ident)).first()
    if integration is None:
        integration = Integration.objects.filter(name=ident).first()
    if integration is not None:
        return integration
    known = [
        f"  {pk}: {name} ({platform})"
        for pk, name, platform in Integration.objects.order_by("pk").values_list(
            "pk", "name", "platform"
        )
    ]
    listing = "\n".join(known) if known else "  (there are no integrations yet)"
    raise CommandError(f"No integration with id or name '{ident}'. Integrations:\n{listing}")
