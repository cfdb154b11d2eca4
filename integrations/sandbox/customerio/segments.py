"""Segments (App API) and their customer counts."""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox.customerio.auth import APP, PLATFORM
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxSegment


@csrf_exempt
def segments(request, host):
    """GET lists the segments; POST creates a manual one (sandbox/customerio/manual.py)."""
    if request.method == "POST":
        from integrations.sandbox.customerio.manual import create_segment

        return create_segment(request, host)
    return _segments(request, host)


@require_GET
@APP.endpoint()
def _segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return json_response(
        {
            "segments": [
                {
                    "id": s.remote_id,
                    "deduplicate_id": f"{s.remote_id}:1700000000",
                    "name": s.name,
                    "description": "",
                    "state": "finished",
                    "progress": None,
                    "type": s.kind or "dynamic",
                    "tags": [],
                }
                for s in rows
            ]
        }
    )


@require_GET
@APP.endpoint()
def segment_customer_count(request, account, segment_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return json_response({"meta": {"error": "segment not found"}}, status=404)
    return json_response({"count": segment.members().count()})


MAX_MEMBERS_PER_PAGE = 30_000


@require_GET
@APP.endpoint()
def segment_membership(request, account, segment_id: int):
    """GET /v1/segments/{id}/membership?start=&limit= — identifiers and an opaque `next`."""
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return json_response({"meta": {"error": "segment not found"}}, status=404)
    try:
        limit = int(request.GET.get("limit") or 1000)
        start = int(request.GET.get("start") or 0)
    except ValueError:
        return json_response({"meta": {"error": "invalid start or limit"}}, status=400)
    if not 1 <= limit <= MAX_MEMBERS_PER_PAGE:
        return json_response({"meta": {"error": "limit must be 1 to 30000"}}, status=400)
    rows = list(
        segment.members()
        .filter(pk__gt=start)
        .order_by("pk")
        .values_list("pk", "identifier")[:limit]
    )
    body = {
        "identifiers": [
            {
                "email": identifier if "@" in identifier else None,
                "id": identifier,
                "cio_id": f"a{pk:07d}",
            }
            for pk, identifier in rows
        ],
        "ids": [identifier for _, identifier in rows],
    }
    if len(rows) == limit:
        body["next"] = str(rows[-1][0])
    return json_response(body)
