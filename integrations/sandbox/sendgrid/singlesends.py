"""SendGrid Single Sends and senders.

Real shapes (../shared/platforms/sendgrid.md §7; tsg_mc_singlesends_v3.json,
tsg_mc_senders_v3.json): `POST /v3/marketing/singlesends` → 201 the Single Send (`status:
"draft"`); `GET /v3/marketing/singlesends/{id}`; `PUT .../{id}/schedule {"send_at": "now" |
ISO 8601}` → 201 `{send_at, status}` — refused (400) without a verified sender and an
unsubscribe group, or when it is not a draft; "now" sends it ("triggered"), a time holds it
("scheduled", integrations/sandbox/scheduled.py) until it goes to its lists and segments as
they are then; `DELETE .../{id}/schedule` → 200 `{send_at: null, status: "draft"}` takes a
scheduled one back to a draft (404 when it is not scheduled, as the spec gives no other error); `POST /v3/marketing/singlesends/search
{"name"}` (a wildcard match); `GET /v3/marketing/senders/{id}` (sender 1 verified, 2 not).
Recorded as SandboxSend (kind "single_send").
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from types import SimpleNamespace

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import deliveries, scheduled
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSend
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.segments import _find_segment
from integrations.sandbox.sendgrid.state import _segment_count, list_uuid

SENDERS = {1: True, 2: False}  # sender id → verified


def _view(send: SandboxSend) -> dict:
    return {
        "id": send.remote_id,
        "name": send.name,
        "status": send.status,
        "categories": send.body.get("categories") or [],
        "send_at": _stamp(send.sent_at or scheduled.due_at(send)),
        "send_to": send.body.get("send_to") or {},
        "email_config": send.body.get("email_config") or {},
        "created_at": send.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


def _stamp(at: datetime | None) -> str | None:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if at else None


def _rows(account):
    return SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="single_send"
    )


@require_GET
@EMULATOR.endpoint()
def sender(request, account, sender_id: int):
    if sender_id not in SENDERS:
        return _errors("resource not found", 404)
    return json_response(
        {
            "id": sender_id,
            "nickname": f"Sender {sender_id}",
            "from": {"email": f"news{sender_id}@example.com", "name": "SharpSend"},
            "reply_to": {"email": "desk@example.com", "name": "Desk"},
            "verified": SENDERS[sender_id],
            "locked": False,
        }
    )


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True)
def singlesends(request, account):
    body = parse_json(request)
    if not isinstance(body, dict) or not 1 <= len(str(body.get("name") or "")) <= 100:
        return _errors("name is required (1 to 100 characters)", 400, "name")
    send = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="single_send",
        remote_id=str(uuid.uuid4()),
        name=body["name"],
        status="draft",
        body=body,
    )
    return json_response(_view(send), status=201)


@require_GET
@EMULATOR.endpoint()
def singlesend(request, account, singlesend_id: str):
    send = _rows(account).filter(remote_id=singlesend_id).first()
    return _errors("resource not found", 404) if send is None else json_response(_view(send))


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def search(request, account):
    body = parse_json(request) or {}
    name = str(body.get("name") or "")
    found = [_view(s) for s in _rows(account) if name in s.name]
    return json_response({"result": found, "_metadata": {"count": len(found)}})


def _recipients(account, send_to: dict) -> int | None:
    """How many the send reaches: the lists' and segments' members but the globally
    unsubscribed (SendGrid drops those, however they got on the list)."""
    total = 0
    for kind, key in (("list", "list_ids"), ("segment", "segment_ids")):
        for remote in send_to.get(key) or []:
            segment = _find_segment(account, kind, remote)
            if segment is None:
                return None
            total += _segment_count(segment) - _unsubscribed_in(segment)
    return total


def _unsubscribed_in(segment) -> int:
    """Members of `segment` that a send skips (global unsubscribes, suppressed contacts)."""
    if segment.kind == "list":
        wanted = list_uuid(segment.remote_id)
        contacts = SandboxContact.objects.filter(platform=PLATFORM, account=segment.account)
        members = [c.pk for c in contacts if wanted in (c.attributes or {}).get("list_ids", [])]
        contacts = contacts.filter(pk__in=members)
    else:
        contacts = segment.members()
    return contacts.count() - deliveries.reached(contacts).count()


@csrf_exempt
@require_http_methods(["PUT", "DELETE"])
@EMULATOR.endpoint(write=True)
def schedule(request, account, singlesend_id: str):
    send = _rows(account).filter(remote_id=singlesend_id).first()
    if send is None:
        return _errors("resource not found", 404)
    if request.method == "DELETE":
        return _unschedule(send)
    if send.status != "draft":
        return _errors(f"the Single Send is {send.status}, not a draft", 400)
    config = send.body.get("email_config") or {}
    if not SENDERS.get(config.get("sender_id")):
        return _errors("a verified sender_id is required", 400, "sender_id")
    if not (config.get("suppression_group_id") or config.get("custom_unsubscribe_url")):
        return _errors("an unsubscribe group is required", 400, "suppression_group_id")
    recipients = _recipients(account, send.body.get("send_to") or {})
    if recipients is None:
        return _errors("a list or segment does not exist", 400, "send_to")
    when = (parse_json(request) or {}).get("send_at")
    if when == "now":
        send.status, send.recipients = "triggered", recipients
        send.sends += 1
        send.sent_at = timezone.now()
    else:
        try:
            due = datetime.fromisoformat(str(when).replace("Z", "+00:00"))
        except ValueError:
            return _errors('send_at must be "now" or an ISO 8601 time', 400, "send_at")
        due = due if due.tzinfo else due.replace(tzinfo=UTC)
        if due <= timezone.now():
            return _errors("send_at must be in the future", 400, "send_at")
        scheduled.hold(send, due)  # whom it reaches is counted when it goes
    send.save()
    return json_response({"send_at": when, "status": send.status}, status=201)


def _unschedule(send: SandboxSend):
    if send.status != scheduled.SCHEDULED:
        return _errors("the Single Send is not scheduled", 404)
    scheduled.release(send, "draft")
    send.save()
    return json_response({"send_at": None, "status": "draft"})


def deliver_scheduled(send: SandboxSend) -> str:
    """At its time: the Single Send goes to its lists' and segments' members as they are then
    (one deleted since counts none)."""
    account = SimpleNamespace(account=send.account)
    send.recipients = _recipients(account, send.body.get("send_to") or {}) or 0
    return "triggered"
