"""What the Kit emulator's views share: v4 cursor pagination and the subscriber rows."""

from __future__ import annotations

from datetime import UTC

from integrations.sandbox.kit.auth import PLATFORM
from integrations.sandbox.models import SandboxContact, SandboxFieldType


def paginate(items: list, request, total: bool = False) -> tuple[list, dict]:
    """Cursor pagination: `after` is the index of the next item, as a string."""
    try:
        per_page = max(1, min(int(request.GET.get("per_page", 500)), 1000))
        start = int(request.GET.get("after") or 0)
    except ValueError:
        start, per_page = 0, 500
    page = items[start : start + per_page]
    end = start + len(page)
    pagination = {
        "has_previous_page": start > 0,
        "has_next_page": end < len(items),
        "start_cursor": str(start) if page else None,
        "end_cursor": str(end) if page else None,
        "per_page": per_page,
    }
    if total or request.GET.get("include_total_count") == "true":
        pagination["total_count"] = len(items)
    return page, pagination


def subscriber_rows(account):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account.account)


def field_rows(account) -> list[SandboxFieldType]:
    return list(
        SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account).order_by("pk")
    )


def subscriber_view(contact: SandboxContact, with_fields: bool = True) -> dict:
    attrs = contact.attributes
    view = {
        "id": contact.pk,
        "first_name": attrs.get("first_name"),
        "email_address": attrs.get("email_address", contact.identifier),
        "state": attrs.get("state", "active"),
        "created_at": contact.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if with_fields:
        view["fields"] = attrs.get("fields", {})
    return view


def subscriber_row(account, subscriber_id: int):
    return subscriber_rows(account).filter(pk=subscriber_id, suppressed=False).first()
