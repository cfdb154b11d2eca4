"""SendGrid lists created through the API in the emulator, and their members.

`POST /v3/marketing/lists` `{"name"}` (≤ 100 characters) creates a list (201). Contacts join
it through the contacts upsert's `list_ids` (the contact's `list_ids`, as SendGrid shows them,
and the list's kept membership); `DELETE /v3/marketing/lists/{id}/contacts?contact_ids=a,b`
takes them out (202 and a job id; the contacts stay).
"""

from __future__ import annotations

import uuid

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSegment
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.state import _jobs, _jobs_lock, contact_id, list_uuid


@EMULATOR.endpoint(write=True)
def create_list(request, account):
    data = parse_json(request)
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        return _errors("name is required (at most 100 characters)", 400, "name")
    created = SandboxSegment.create_static(PLATFORM, account.account, name.strip(), "list")
    uid = list_uuid(created.remote_id)
    return json_response(
        {"id": uid, "name": created.name, "contact_count": 0, "_metadata": {"self": uid}},
        status=201,
    )


def join_static_lists(account: str, list_ids: list, identifiers) -> None:
    """Upserted contacts join the static lists they were sent with."""
    lists = [s for s in _static_lists(account) if list_uuid(s.remote_id) in set(list_ids)]
    if not lists:
        return
    contacts = SandboxContact.objects.filter(
        platform=PLATFORM, account=account, identifier__in=list(identifiers)
    )
    for segment in lists:
        segment.static_members.add(*contacts)


def _static_lists(account: str):
    return SandboxSegment.objects.filter(platform=PLATFORM, account=account, static=True)


@csrf_exempt
@require_http_methods(["DELETE"])
@EMULATOR.endpoint(write=True)
def list_contacts(request, account, list_id: str):
    segment = next((s for s in _static_lists(account.account) if list_uuid(s.remote_id) == list_id),
                   None)  # fmt: skip
    if segment is None:
        return _errors("list not found", 404)
    ids = [i for i in request.GET.get("contact_ids", "").split(",") if i]
    if not ids:
        return _errors("contact_ids is required", 400, "contact_ids")
    leaving = [
        c for c in segment.static_members.all() if contact_id(c.account, c.identifier) in ids
    ]
    segment.static_members.remove(*leaving)
    for contact in leaving:
        attributes = dict(contact.attributes or {})
        attributes["list_ids"] = [i for i in attributes.get("list_ids", []) if i != list_id]
        SandboxContact.objects.filter(pk=contact.pk).update(attributes=attributes)
    job_id = str(uuid.uuid4())
    with _jobs_lock:
        _jobs[job_id] = {"account": account.account, "job_type": "delete", "status": "completed",
                         "results": {"requested_count": len(ids)}, "errors": [], "polls": 0}  # fmt: skip
    return json_response({"job_id": job_id}, status=202)
