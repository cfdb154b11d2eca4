"""Braze API-triggered campaigns and Canvases in the emulator: the lists, send ids, triggers.

Real shapes (../shared/platforms/braze.md §7, §11–§13; Braze's export pages for the lists):
`GET /campaigns/list` → `{"message", "campaigns": [{"id", "last_edited", "name",
"is_api_campaign", "tags"}]}` and `GET /canvas/list` → `{"canvases": [{"id", "last_edited",
"name", "tags"}], "message"}`, 100 a page (`page` from 0); `POST /sends/id/create`
`{"campaign_id", "send_id"}` → `201 {"message": "success", "send_id"}` (ASCII, ≤ 64
characters; 100 a day); `POST /campaigns/trigger/send` and `POST /canvas/trigger/send` →
`201 {"dispatch_id", "message": "success"}`; fatal errors are `400 {"message": ...}`
("Invalid Campaign ID", "No Recipients"). A stopped Canvas answers success with a `notice` and
sends nothing.

The workspace's campaigns and Canvases are made in the Braze dashboard, so here they are fixed
(CAMPAIGNS, CANVASES), each with the segment it targets: `broadcast: true` reaches that
segment's stored users, minus blocked ones and those whose `email_subscribe` is
`unsubscribed`. Up to 50 `recipients` (by `external_user_id` or `email`) may be named instead.
Connected audiences are not emulated (400). Each trigger that sends is a SandboxSend (kinds
"campaign_trigger", "canvas_trigger", id the dispatch id); each send id one of kind "send_id".
Creating a send id that exists for the campaign answers it again (Braze documents no error for
it). Both trigger endpoints count against the 250-a-minute limit of sends to a segment.
Scheduled triggers: schedules.py.
"""

from __future__ import annotations

import secrets

import orjson
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import deliveries
from integrations.sandbox.braze.auth import EMULATOR, PLATFORM, message_response
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSend

PER_PAGE = 100
MAX_RECIPIENTS = 50
MAX_SEND_ID = 64
MAX_CONTEXT = 50_000
LAST_EDITED = "2026-01-05T09:00:00+00:00"

# id → (name, the segment it targets (SandboxSegment.remote_id), an API campaign (content
# sent with each /messages/send, not triggerable))
CAMPAIGNS = {
    "c4a1d7e0-5e11-4d2b-9a10-000000000001": ("Daily issue (API-triggered)", 3, False),
    "c4a1d7e0-5e11-4d2b-9a10-000000000002": ("Growth picks (API-triggered)", 1, False),
    "c4a1d7e0-5e11-4d2b-9a10-000000000003": ("Receipts (API campaign)", None, True),
}
# id → (name, the segment it targets, stopped)
CANVASES = {
    "ca7a5000-1d2e-4f3a-8b4c-000000000001": ("Welcome journey (API-triggered entry)", 3, False),
    "ca7a5000-1d2e-4f3a-8b4c-000000000002": ("Winback journey (stopped)", 3, True),
}


def _page(request, rows: list[dict]) -> list[dict] | None:
    try:
        page = int(request.GET.get("page", "0"))
    except ValueError:
        return None
    if request.GET.get("sort_direction") == "desc":
        rows = rows[::-1]
    return rows[page * PER_PAGE : (page + 1) * PER_PAGE]


@require_GET
@EMULATOR.endpoint(permission="campaigns.list")
def campaigns_list(request, account):
    rows = [
        {"id": key, "last_edited": LAST_EDITED, "name": name, "is_api_campaign": api, "tags": []}
        for key, (name, _, api) in CAMPAIGNS.items()
    ]
    page = _page(request, rows)
    if page is None:
        return message_response("page must be an integer", 400)
    return json_response({"message": "success", "campaigns": page})


@require_GET
@EMULATOR.endpoint(permission="canvas.list")
def canvas_list(request, account):
    rows = [
        {"id": key, "last_edited": LAST_EDITED, "name": name, "tags": []}
        for key, (name, _, _) in CANVASES.items()
    ]
    page = _page(request, rows)
    if page is None:
        return message_response("page must be an integer", 400)
    return json_response({"canvases": page, "message": "success"})


def body_of(request) -> dict | None:
    body = parse_json(request)
    return body if isinstance(body, dict) else None


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="sends.id.create", endpoint="sends.id.create")
def send_id_create(request, account):
    body = body_of(request)
    if body is None:
        return message_response("Invalid JSON in the request body", 400)
    campaign_id = body.get("campaign_id")
    if campaign_id not in CAMPAIGNS:
        return message_response("Invalid Campaign ID", 400)
    send_id = body.get("send_id") or secrets.token_hex(16)
    if not isinstance(send_id, str) or not send_id.isascii() or len(send_id) > MAX_SEND_ID:
        return message_response("Invalid send_id: ASCII, at most 64 characters", 400)
    row, _ = SandboxSend.objects.get_or_create(
        platform=PLATFORM,
        account=account.account,
        kind="send_id",
        remote_id=send_id,
        defaults={"name": campaign_id, "status": "created", "body": body},
    )
    if row.name != campaign_id:
        return message_response("Invalid send_id: it belongs to another campaign", 400)
    return json_response({"message": "success", "send_id": send_id}, status=201)


def audience(account, body: dict, segment_id: int | None):
    """The users a trigger reaches, or the fatal message Braze answers."""
    if body.get("audience") is not None:
        return None, "The sandbox does not emulate connected audiences"
    recipients = body.get("recipients")
    if body.get("broadcast") is True:
        if recipients:
            return None, "broadcast cannot be true when recipients are given"
        segment = deliveries.segment_of(PLATFORM, account.account, segment_id)
        users = segment.members() if segment else SandboxContact.objects.none()
    elif isinstance(recipients, list) and recipients:
        if len(recipients) > MAX_RECIPIENTS:
            return None, "Max Input Length Exceeded (at most 50 recipients)"
        wanted = set()
        for recipient in recipients:
            if not isinstance(recipient, dict):
                return None, "each recipient must be an object"
            if recipient.get("external_user_id"):
                wanted.add(f"external_id:{recipient['external_user_id']}")
            elif recipient.get("email"):
                wanted.add(str(recipient["email"]).lower())
        users = SandboxContact.objects.filter(
            platform=PLATFORM, account=account.account, identifier__in=wanted
        )
    else:
        return None, "No Recipients"
    unsubscribed = users.filter(attributes__email_subscribe="unsubscribed")
    return deliveries.reached(users).exclude(pk__in=unsubscribed), ""


def _trigger(account, body: dict, kind: str, name: str, segment_id: int | None, stopped=False):
    users, refused = audience(account, body, segment_id)
    if refused:
        return message_response(refused, 400)
    if stopped:
        notice = "The Canvas is stopped: resume it for trigger requests to take effect."
        answer = {"dispatch_id": secrets.token_hex(16), "message": "success", "notice": notice}
        return json_response(answer, status=201)
    send = deliveries.record_sent(
        PLATFORM, account.account, kind, name, body, users.count(), remote_id=secrets.token_hex(16)
    )
    return json_response({"dispatch_id": send.remote_id, "message": "success"}, status=201)


def campaign_refusal(account, body: dict | None):
    """(the campaign, None) for a valid campaign trigger body, else (None, Braze's answer)."""
    if body is None:
        return None, message_response("Invalid JSON in the request body", 400)
    campaign = CAMPAIGNS.get(body.get("campaign_id"))
    if campaign is None or campaign[2]:
        return None, message_response("Invalid Campaign ID", 400)
    if not isinstance(body.get("trigger_properties", {}), dict):
        return None, message_response("trigger_properties must be an object", 400)
    send_id = body.get("send_id")
    if send_id is not None:
        known = SandboxSend.objects.filter(
            platform=PLATFORM, account=account.account, kind="send_id", remote_id=send_id
        ).first()
        if known is None or known.name != body["campaign_id"]:
            refused = message_response("Invalid send_id: create it with /sends/id/create", 400)
            return None, refused
    return campaign, None


def canvas_refusal(body: dict | None):
    """(the Canvas, None) for a valid Canvas trigger body, else (None, Braze's answer)."""
    if body is None:
        return None, message_response("Invalid JSON in the request body", 400)
    canvas = CANVASES.get(body.get("canvas_id"))
    if canvas is None:
        return None, message_response("Invalid Canvas ID", 400)
    context = body.get("context", {})
    if not isinstance(context, dict):
        return None, message_response("context must be an object", 400)
    if len(orjson.dumps(context)) > MAX_CONTEXT:
        return None, message_response("context must be at most 50 KB", 400)
    return canvas, None


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="campaigns.trigger.send", endpoint="broadcast")
def campaigns_trigger_send(request, account):
    body = body_of(request)
    campaign, refused = campaign_refusal(account, body)
    if refused is not None:
        return refused
    name, segment_id, _ = campaign
    return _trigger(account, body, "campaign_trigger", name, segment_id)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="canvas.trigger.send", endpoint="broadcast")
def canvas_trigger_send(request, account):
    body = body_of(request)
    canvas, refused = canvas_refusal(body)
    if refused is not None:
        return refused
    name, segment_id, stopped = canvas
    return _trigger(account, body, "canvas_trigger", name, segment_id, stopped)
