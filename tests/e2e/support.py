"""Helpers the end-to-end test modules share (each module names its SLUG and ACCOUNT)."""

from __future__ import annotations

from integrations.sandbox.models import SandboxContact


def stored_contacts(slug: str, account: str) -> dict[str, dict]:
    """What the platform's emulator holds: identifier → attributes."""
    rows = SandboxContact.objects.filter(platform=slug, account=account)
    return {row.identifier: row.attributes for row in rows}


def sync_states(integration) -> dict[int, str]:
    """subscriber id → sync state status, for one integration."""
    return dict(integration.sync_states.values_list("subscriber_id", "status"))
