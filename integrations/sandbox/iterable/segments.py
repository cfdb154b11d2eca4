"""Iterable lists, their sizes and their members."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.models import SandboxSegment


@csrf_exempt
def lists(request, host):
    """GET lists the lists; POST creates a static one (integrations/sandbox/iterable/lists.py)."""
    if request.method == "POST":
        from integrations.sandbox.iterable.lists import create_list

        return create_list(request, host)
    return _lists(request, host)


@require_GET
@EMULATOR.endpoint(endpoint="lists")
def _lists(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return json_response({"lists": [_details(s) for s in rows]})


def _details(segment: SandboxSegment) -> dict:
    details = {
        "id": segment.remote_id,
        "name": segment.name,
        "description": "",
        "createdAt": 1700000000000,
        "listType": segment.kind or "Standard",
    }
    if segment.kind == "Suppression":  # the sandbox's suppression lists are all global
        details["isGlobalSuppressionEnabled"] = True
    return details


@require_GET
@EMULATOR.endpoint(endpoint="lists.size")
def list_size(request, account, list_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=list_id
    ).first()
    if segment is None:
        return error("BadParams", f"List {list_id} does not exist", 400)
    return HttpResponse(str(segment.members().count()), content_type="text/plain")


@require_GET
@EMULATOR.endpoint(endpoint="lists.getUsers")
def get_users(request, account):
    """The list's members' emails, one a line (text/plain), as `GET /api/lists/getUsers`."""
    list_id = request.GET.get("listId", "")
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=int(list_id)
    ).first() if list_id.isdigit() else None  # fmt: skip
    if segment is None:
        return error("BadParams", f"List {list_id or '(none)'} does not exist", 400)
    emails = sorted((c.attributes or {}).get("email") or c.identifier for c in segment.members())
    return HttpResponse("".join(f"{e}\n" for e in emails if "@" in e), content_type="text/plain")
