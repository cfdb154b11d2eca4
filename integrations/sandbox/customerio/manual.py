"""Customer.io manual segments created and filled through the API in the emulator.

App API `POST /v1/segments` `{"segment":{"name","description"}}` creates an empty manual
segment; Track API `POST /api/v1/segments/{id}/add_customers?id_type=email` and
`remove_customers` with `{"ids":[…]}` (≤ 1,000) change its members, answering `{}`. People
the workspace does not have are skipped (the sandbox creates no one here); a data-driven
segment refuses members.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox.customerio.auth import APP, PLATFORM, TRACK
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSegment

MAX_IDS = 1000
ID_TYPES = ("id", "email", "cio_id")


def _refused(message: str, status: int = 400):
    return json_response({"meta": {"error": message}}, status=status)


@APP.endpoint(methods=("POST",))
def create_segment(request, account):
    data = parse_json(request)
    segment = data.get("segment") if isinstance(data, dict) else None
    name = segment.get("name") if isinstance(segment, dict) else None
    if not isinstance(name, str) or not name.strip():
        return _refused("segment.name is required")
    created = SandboxSegment.create_static(PLATFORM, account.account, name.strip(), "manual")
    return json_response(
        {
            "segment": {
                "id": created.remote_id,
                "deduplicate_id": f"{created.remote_id}:1700000000",
                "name": created.name,
                "description": segment.get("description", ""),
                "state": "finished",
                "progress": None,
                "type": "manual",
                "tags": [],
            }
        }
    )


def _change(request, account, segment_id: int, adding: bool):
    id_type = request.GET.get("id_type", "id")
    if id_type not in ID_TYPES:
        return _refused(f"id_type must be one of {', '.join(ID_TYPES)}")
    data = parse_json(request)
    ids = data.get("ids") if isinstance(data, dict) else None
    if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
        return _refused(f"ids must list 1 to {MAX_IDS} people")
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return _refused("segment not found", 404)
    if not segment.static:
        return _refused("only manual segments take people")
    wanted = [str(v).lower() if id_type == "email" else f"{id_type}:{v}" for v in ids]
    people = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=wanted
    )
    if adding:
        segment.static_members.add(*people)
    else:
        segment.static_members.remove(*people)
    return json_response({})


@csrf_exempt
@require_POST
@TRACK.endpoint()
def add_customers(request, account, segment_id: int):
    return _change(request, account, segment_id, adding=True)


@csrf_exempt
@require_POST
@TRACK.endpoint()
def remove_customers(request, account, segment_id: int):
    return _change(request, account, segment_id, adding=False)
