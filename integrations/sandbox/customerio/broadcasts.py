"""API-triggered broadcasts (App API): the list of broadcasts and their triggers.

Real shapes (../shared/platforms/customerio.md §7): `POST /v1/campaigns/{broadcast_id}/triggers`
with one recipients variant (here `recipients.segment.id`, `emails`, `ids`, or none for the
broadcast's default audience) and optional `data` → `200 {"id": <trigger_id>}`; `422` with
`{"errors": [{"detail", "source": {"pointer"}, "status": "422"}]}`; 1 request per 10 s per
workspace. Each trigger is recorded as a SandboxSend (kind "trigger") for its members.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox.customerio.auth import APP, PLATFORM
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSegment, SandboxSend

# The workspace's API-triggered broadcasts (made in Customer.io's UI): id → name.
BROADCASTS = {1: "Daily issue (API-triggered)", 2: "Breaking news (API-triggered)"}


def _invalid(detail: str, pointer: str = "") -> object:
    error = {"detail": detail, "source": {"pointer": pointer}, "status": "422"}
    return json_response({"errors": [error]}, status=422)


@require_GET
@APP.endpoint()
def broadcasts(request, account):
    return json_response(
        {
            "broadcasts": [
                {"id": broadcast_id, "name": name, "type": "email", "active": True}
                for broadcast_id, name in BROADCASTS.items()
            ]
        }
    )


@csrf_exempt
@require_POST
@APP.endpoint(group="broadcast")
def trigger(request, account, broadcast_id: int):
    if broadcast_id not in BROADCASTS:
        return json_response({"meta": {"error": "broadcast not found"}}, status=404)
    body = parse_json(request)
    if not isinstance(body, dict):
        return _invalid("the body must be a JSON object", "/")
    contacts = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    recipients = body.get("recipients")
    if recipients is not None:
        segment_id = (recipients.get("segment") or {}).get("id")
        segment = SandboxSegment.objects.filter(
            platform=PLATFORM, account=account.account, remote_id=segment_id
        ).first()
        if not isinstance(segment_id, int) or segment is None:
            return _invalid(f"segment {segment_id} does not exist", "/recipients/segment/id")
        contacts = segment.members()
    elif "emails" in body:
        contacts = contacts.filter(identifier__in=body["emails"])
    with transaction.atomic():
        number = SandboxSend.objects.filter(platform=PLATFORM, account=account.account).count()
        send = SandboxSend.objects.create(
            platform=PLATFORM,
            account=account.account,
            kind="trigger",
            remote_id=str(number + 1),
            name=BROADCASTS[broadcast_id],
            status="sent",
            body=body,
            recipients=contacts.filter(suppressed=False).count(),
            sends=1,
            sent_at=timezone.now(),
        )
    return json_response({"id": int(send.remote_id)})
