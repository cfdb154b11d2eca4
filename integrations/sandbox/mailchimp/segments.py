"""The Mailchimp emulator's segments and tags, with member counts."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.state import _subscribed, member_hash
from integrations.sandbox.models import SandboxSegment

# --- segments and tags ---------------------------------------------------------------------


def _segment_view(account, segment: SandboxSegment) -> dict:
    return {
        "id": segment.remote_id,
        "name": segment.name,
        "member_count": _subscribed(segment.members()).count(),
        "type": segment.kind or "static",
        "created_at": "2024-01-01T00:00:00+00:00",
        "updated_at": "2024-01-01T00:00:00+00:00",
        "list_id": account.credentials["list_id"],
    }


@csrf_exempt
def segments(request, host, list_id):
    """GET pages the segments; POST creates a tag (integrations/sandbox/mailchimp/tags.py)."""
    from integrations.sandbox.mailchimp import tags

    if request.method == "POST":
        return tags.create_tag(request, host, list_id=list_id)
    return _segments(request, host, list_id=list_id)


@csrf_exempt
def segment(request, host, list_id, segment_id: int):
    """GET one segment; POST adds and removes a tag's members."""
    from integrations.sandbox.mailchimp import tags

    if request.method == "POST":
        return tags.change_members(request, host, list_id=list_id, segment_id=segment_id)
    return _segment(request, host, list_id=list_id, segment_id=segment_id)


@require_GET
@endpoint()
def _segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    total = rows.count()
    try:
        count = min(int(request.GET.get("count", 10)), 1000)
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        return problem(400, "Invalid Resource", "count and offset must be integers.")
    page = rows.order_by("remote_id")[offset : offset + count]
    return json_response(
        {
            "segments": [_segment_view(account, s) for s in page],
            "list_id": account.credentials["list_id"],
            "total_items": total,
        }
    )


@require_GET
@endpoint()
def _segment(request, account, segment_id: int):
    row = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if row is None:
        return problem(404, "Resource Not Found", "The requested resource could not be found.")
    return json_response(_segment_view(account, row))


@require_GET
@endpoint()
def segment_members(request, account, segment_id: int):
    """GET /lists/{id}/segments/{id}/members?count=&offset= — subscribed members, by id."""
    row = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if row is None:
        return problem(404, "Resource Not Found", "The requested resource could not be found.")
    try:
        count = min(int(request.GET.get("count", 10)), 1000)
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        return problem(400, "Invalid Resource", "count and offset must be integers.")
    members = _subscribed(row.members()).order_by("pk")
    page = members.values_list("identifier", flat=True)[offset : offset + count]
    return json_response(
        {
            "members": [
                {"id": member_hash(email), "email_address": email, "status": "subscribed"}
                for email in page
            ],
            "total_items": members.count(),
        }
    )
