"""What the Mailchimp emulator's endpoints share: members, merge fields, and their views."""

from __future__ import annotations

import hashlib

from integrations.sandbox.mailchimp.auth import PLATFORM
from integrations.sandbox.models import SandboxContact, SandboxFieldType

# The demo audience's merge fields: tag → (name, type).
DEMO_MERGE_FIELDS = {
    "FNAME": ("First Name", "text"),
    "LNAME": ("Last Name", "text"),
    "INTEREST": ("Interest", "text"),
    "JOINED": ("Joined", "date"),
}


def member_hash(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's id


def _members(account):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account.account)


def _subscribed(queryset):
    return queryset.filter(attributes__status="subscribed")


def _merge_fields(account) -> dict[str, tuple[int, str, str]]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account).order_by(
        "pk"
    )
    return {
        row.name: (row.pk, DEMO_MERGE_FIELDS.get(row.name, (row.name,))[0], row.type)
        for row in rows
    }


def _member_view(account, attributes: dict) -> dict:
    email = attributes.get("email_address", "")
    return {
        "id": member_hash(email),
        "email_address": email,
        "unique_email_id": member_hash(email)[:10],
        "status": attributes.get("status", ""),
        "merge_fields": attributes.get("merge_fields", {}),
        "timestamp_signup": attributes.get("timestamp_signup", ""),
        "list_id": account.credentials["list_id"],
        "tags": [],
    }
