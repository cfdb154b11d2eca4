"""Iterable static lists created and filled through the API in the emulator.

`POST /api/lists` `{"name","description"}` → `{"listId"}`; `POST /api/lists/subscribe` adds
users (creating those it does not know, as `updateExistingUsersOnly:false` does in an
email-based project) and `POST /api/lists/unsubscribe` removes them, each answering like
bulkUpdate (counts and failedUpdates: invalid emails, forgotten users). Only static lists
take members; a rule-defined (Dynamic) demo list refuses them.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.iterable.contacts import FAILURE_LISTS
from integrations.sandbox.models import SandboxContact, SandboxSegment


@EMULATOR.endpoint(methods=("POST",), write=True, endpoint="lists")
def create_list(request, account):
    data = parse_json(request)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip():
        return error("BadParams", "name is required", 400)
    created = SandboxSegment.create_static(PLATFORM, account.account, name.strip(), "Standard")
    return json_response({"listId": created.remote_id})


def _membership(request, account, adding: bool):
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("subscribers"), list):
        return error("BadParams", "listId and subscribers are required", 400)
    if isinstance(data.get("listId"), bool) or not isinstance(data.get("listId"), int):
        return error("BadParams", "listId must be a number", 400)
    if data.get("channelUnsubscribe"):
        return error("BadParams", "The sandbox does not emulate channel unsubscribes", 400)
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=data.get("listId")
    ).first()
    if segment is None:
        return error("BadParams", f"List {data.get('listId')} does not exist", 400)
    if not segment.static:
        return error("BadParams", f"List {segment.remote_id} is not a static list", 400)
    failed: dict[str, list] = {name: [] for name in FAILURE_LISTS}
    wanted: dict[str, str] = {}
    for subscriber in data["subscribers"]:
        email = subscriber.get("email") if isinstance(subscriber, dict) else None
        if not email or not store.looks_like_email(email):
            failed["invalidEmails"].append(email or "")
        else:
            wanted[email.lower()] = email
    known = store.existing(PLATFORM, account.account, wanted)
    for identifier, contact in known.items():
        if contact.suppressed:
            failed["forgottenEmails"].append(wanted.pop(identifier))
    if adding:
        new = {i: {"email": e} for i, e in wanted.items() if i not in known}
        store.upsert(PLATFORM, account.account, new, {})
    contacts = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=list(wanted)
    )
    if adding:
        segment.static_members.add(*contacts)
    else:
        segment.static_members.remove(*contacts)
    return json_response(
        {
            "successCount": len(wanted),
            "failCount": sum(len(v) for v in failed.values()),
            "invalidEmails": failed["invalidEmails"],
            "invalidUserIds": [],
            "failedUpdates": failed,
        }
    )


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="lists.subscribe")
def subscribe(request, account):
    return _membership(request, account, adding=True)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="lists.subscribe")
def unsubscribe(request, account):
    return _membership(request, account, adding=False)
