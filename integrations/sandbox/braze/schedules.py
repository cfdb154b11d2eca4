"""Braze's scheduled API-triggered campaigns and Canvases in the emulator: created, deleted,
and delivered at their time (integrations/sandbox/scheduled.py).

Real shapes (Braze's "schedule messages" reference; the fact sheet, ../shared/platforms/
braze.md §7, names the endpoints): `POST /campaigns/trigger/schedule/create` and `POST /canvas/
trigger/schedule/create` take the trigger's body plus `"schedule": {"time": ISO 8601,
"in_local_time", "at_optimal_time"}` → `201 {"dispatch_id", "schedule_id", "message":
"success"}`; `POST /campaigns/trigger/schedule/delete {"campaign_id", "schedule_id"}` and
`POST /canvas/trigger/schedule/delete {"canvas_id", "schedule_id"}` → `{"message": "success"}`.
Each schedule is a SandboxSend of kind "campaign_trigger" or "canvas_trigger" (id the dispatch
id, `content["schedule_id"]`), held until its time and then delivered to the segment's users as
they are then. A time already past, local-time or optimal-time sends (not emulated) and an
unknown schedule id are 400s with a message.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from types import SimpleNamespace

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import scheduled
from integrations.sandbox.braze.auth import EMULATOR, PLATFORM, message_response
from integrations.sandbox.braze.campaigns import (
    CAMPAIGNS,
    CANVASES,
    audience,
    body_of,
    campaign_refusal,
    canvas_refusal,
)
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxSend

KINDS = {"campaign_trigger": ("campaign_id", CAMPAIGNS), "canvas_trigger": ("canvas_id", CANVASES)}


def _due(body: dict):
    """(the UTC time, None), or (None, the refusal) for the body's schedule."""
    schedule = body.get("schedule")
    if not isinstance(schedule, dict) or not isinstance(schedule.get("time"), str):
        return None, message_response("schedule.time is required (ISO 8601)", 400)
    if schedule.get("in_local_time") or schedule.get("at_optimal_time"):
        return None, message_response("The sandbox does not emulate local or optimal time", 400)
    try:
        due = datetime.fromisoformat(schedule["time"].replace("Z", "+00:00"))
    except ValueError:
        return None, message_response("schedule.time must be an ISO 8601 time", 400)
    due = due if due.tzinfo else due.replace(tzinfo=UTC)  # without an offset: UTC
    if due <= timezone.now():
        return None, message_response("schedule.time must be in the future", 400)
    return due, None


def _schedule(account, body: dict, kind: str, name: str, segment_id, stopped: bool = False):
    due, refused = _due(body)
    if refused is not None:
        return refused
    _, refused = audience(account, body, segment_id)
    if refused:
        return message_response(refused, 400)
    dispatch, schedule_id = secrets.token_hex(16), secrets.token_hex(12)
    if stopped:
        notice = "The Canvas is stopped: resume it for trigger requests to take effect."
        answer = {"dispatch_id": dispatch, "schedule_id": schedule_id, "notice": notice}
        return json_response({**answer, "message": "success"}, status=201)
    send = SandboxSend(
        platform=PLATFORM, account=account.account, kind=kind, remote_id=dispatch, name=name,
        body=body, content={"schedule_id": schedule_id},
    )  # fmt: skip
    scheduled.hold(send, due)
    send.save()
    answer = {"dispatch_id": dispatch, "schedule_id": schedule_id, "message": "success"}
    return json_response(answer, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="campaigns.trigger.schedule.create")
def campaigns_schedule_create(request, account):
    body = body_of(request)
    campaign, refused = campaign_refusal(account, body)
    if refused is not None:
        return refused
    name, segment_id, _ = campaign
    return _schedule(account, body, "campaign_trigger", name, segment_id)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="canvas.trigger.schedule.create")
def canvas_schedule_create(request, account):
    body = body_of(request)
    canvas, refused = canvas_refusal(body)
    if refused is not None:
        return refused
    name, segment_id, stopped = canvas
    return _schedule(account, body, "canvas_trigger", name, segment_id, stopped)


def _delete(request, account, kind: str):
    body = body_of(request) or {}
    key, known = KINDS[kind]
    if body.get(key) not in known:
        return message_response(f"Invalid {key.replace('_id', '').title()} ID", 400)
    held = [
        s
        for s in SandboxSend.objects.filter(
            platform=PLATFORM, account=account.account, kind=kind, status=scheduled.SCHEDULED
        )
        if s.content.get("schedule_id") == body.get("schedule_id") and s.body.get(key) == body[key]
    ]
    if not held:
        return message_response("Invalid schedule_id", 400)
    scheduled.release(held[0], status="deleted")
    held[0].save()
    return json_response({"message": "success"})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="campaigns.trigger.schedule.delete")
def campaigns_schedule_delete(request, account):
    return _delete(request, account, "campaign_trigger")


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="canvas.trigger.schedule.delete")
def canvas_schedule_delete(request, account):
    return _delete(request, account, "canvas_trigger")


def deliver_scheduled(send: SandboxSend) -> None:
    """At its time: the trigger reaches its segment's users as they are then."""
    key, known = KINDS[send.kind]
    segment_id = known[send.body[key]][1]
    users, _ = audience(SimpleNamespace(account=send.account), send.body, segment_id)
    send.recipients = users.count() if users is not None else 0
