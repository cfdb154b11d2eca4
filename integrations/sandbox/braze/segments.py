"""Braze segments in the emulator: the list and each segment's daily size series."""

from __future__ import annotations

from datetime import UTC, datetime

from django.views.decorators.http import require_GET

from integrations.sandbox.braze.auth import EMULATOR, PLATFORM, message_response
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxSegment

SEGMENTS_PER_PAGE = 100
_SEGMENT_PREFIX = "5a9d0000-0000-4000-8000-"


def segment_id(remote_id: int) -> str:
    return f"{_SEGMENT_PREFIX}{remote_id:012d}"


def _segment(account, value: str) -> SandboxSegment | None:
    if not value.startswith(_SEGMENT_PREFIX) or not value[len(_SEGMENT_PREFIX) :].isdigit():
        return None
    return SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=int(value[len(_SEGMENT_PREFIX) :])
    ).first()


@require_GET
@EMULATOR.endpoint(permission="segments.list")
def segments_list(request, account):
    try:
        page = int(request.GET.get("page", "0"))
    except ValueError:
        return message_response("page must be an integer", 400)
    order = "-remote_id" if request.GET.get("sort_direction", "asc") == "desc" else "remote_id"
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    rows = rows.order_by(order)[page * SEGMENTS_PER_PAGE : (page + 1) * SEGMENTS_PER_PAGE]
    return json_response(
        {
            "message": "success",
            "segments": [
                {
                    "id": segment_id(s.remote_id),
                    "name": s.name,
                    "analytics_tracking_enabled": s.kind != "untracked",
                    "tags": [],
                }
                for s in rows
            ],
        }
    )


@require_GET
@EMULATOR.endpoint(permission="segments.data_series")
def segments_data_series(request, account):
    segment = _segment(account, request.GET.get("segment_id", ""))
    if segment is None:
        return message_response("Invalid segment_id", 400)
    try:
        length = int(request.GET.get("length", ""))
    except ValueError:
        length = 0
    if not 1 <= length <= 100:
        return message_response("length must be an integer between 1 and 100", 400)
    if segment.kind == "untracked":
        return json_response({"message": "success", "data": []})
    today = datetime.now(UTC).date().isoformat()
    return json_response(
        {"message": "success", "data": [{"time": today, "size": segment.members().count()}]}
    )
