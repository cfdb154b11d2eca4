"""Storing what the emulators receive: contacts merged attribute by attribute."""

from __future__ import annotations

from django.db import transaction

from integrations.sandbox.models import SandboxContact


def existing(platform: str, account: str, identifiers) -> dict[str, SandboxContact]:
    rows = SandboxContact.objects.filter(
        platform=platform, account=account, identifier__in=list(identifiers)
    )
    return {row.identifier: row for row in rows}


def upsert(platform: str, account: str, changes: dict[str, dict], known: dict) -> None:
    """Create or update contacts: `changes` maps identifier → attributes to merge in."""
    rows = []
    for identifier, attributes in changes.items():
        current = known.get(identifier)
        merged = {**(current.attributes if current else {}), **attributes}
        rows.append(
            SandboxContact(
                platform=platform, account=account, identifier=identifier, attributes=merged
            )
        )
    with transaction.atomic():
        SandboxContact.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["platform", "account", "identifier"],
            update_fields=["attributes", "updated_at"],
        )


def looks_like_email(value) -> bool:
    if not isinstance(value, str) or value.count("@") != 1:
        return False
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain and " " not in value
