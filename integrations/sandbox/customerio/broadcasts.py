"""API-triggered broadcasts (App API): the list of broadcasts and their triggers.

Real shapes (../shared/platforms/customerio.md §7): `POST /v1/campaigns/{broadcast_id}/triggers`
with one recipients variant (here `recipients.segment.id`, `emails`, `ids`, or none for the
broadcast's default audience) and optional `data` → `200 {"id": <trigger_id>}`; `422` with
`{"errors": [{"detail", "source": {"pointer"}, "status": "422"}]}`; 1 request per 10 s per
workspace. Each trigger is recorded as a SandboxSend (kind "trigger") for its members.
"""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import deliveries, engagement
from integrations.sandbox.customerio.auth import APP, PLATFORM
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSend

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
        segment = deliveries.segment_of(PLATFORM, account.account, segment_id)
        if segment is None:
            return _invalid(f"segment {segment_id} does not exist", "/recipients/segment/id")
        contacts = segment.members()
    elif "emails" in body:
        contacts = contacts.filter(identifier__in=body["emails"])
    send = deliveries.record_sent(
        PLATFORM,
        account.account,
        "trigger",
        BROADCASTS[broadcast_id],
        body,
        _reached(contacts).count(),
    )
    return json_response({"id": int(send.remote_id)})


PERIODS = {"hours": (timedelta(hours=1), 24), "days": (timedelta(days=1), 45)}


def _recipients(account, body: dict):
    """Who a recorded trigger went to (its segment, its emails, or the whole workspace)."""
    contacts = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    segment_id = ((body.get("recipients") or {}).get("segment") or {}).get("id")
    if segment_id is not None:
        segment = deliveries.segment_of(PLATFORM, account.account, segment_id)
        contacts = segment.members() if segment else contacts.none()
    elif "emails" in body:
        contacts = contacts.filter(identifier__in=body["emails"])
    return deliveries.emails(_reached(contacts))


def _reached(contacts):
    """Who a broadcast reaches: not the suppressed, and not the unsubscribed (an API-triggered
    broadcast sends to subscribed people unless told to send to the unsubscribed)."""
    return deliveries.reached(contacts).exclude(attributes__unsubscribed=True)


@require_GET
@APP.endpoint()
def broadcast_metrics(request, account, broadcast_id: int):
    """GET /v1/broadcasts/{id}/metrics?period=&steps= — every trigger of the broadcast, one
    integer a period (oldest first), from the sandbox's seeded engagement."""
    if broadcast_id not in BROADCASTS:
        return json_response({"meta": {"error": "broadcast not found"}}, status=404)
    period = request.GET.get("period", "days")
    if period not in PERIODS:
        return json_response({"meta": {"error": "period must be hours or days"}}, status=400)
    length, longest = PERIODS[period]
    try:
        steps = int(request.GET.get("steps") or longest)
    except ValueError:
        return json_response({"meta": {"error": "steps must be a number"}}, status=400)
    steps = max(1, min(steps, longest)) + 1  # steps=N answers N + 1 periods, as the real API
    now = timezone.now()
    start = now - steps * length
    names = {
        "sent": "sent", "delivered": "delivered", "opened": "opened", "clicked": "clicked",
        "bounced_hard": "bounced", "bounced_soft": "bounced", "unsubscribed": "unsubscribed",
        "complained": "spammed",
    }  # fmt: skip
    series = {name: [0] * steps for name in set(names.values()) | {"converted"}}
    triggers = SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="trigger", name=BROADCASTS[broadcast_id]
    )
    for send in triggers.filter(sent_at__isnull=False):
        subject = (send.body.get("data") or {}).get("subject", "")
        key = f"customerio:{account.account}:{send.remote_id}"
        for email in _recipients(account, send.body):
            if start <= send.sent_at <= now:
                series["sent"][int((send.sent_at - start) / length)] += 1
            for event in engagement.reader_events(key, email, subject, send.sent_at):
                if start <= event.at <= now and event.kind in names:
                    series[names[event.kind]][int((event.at - start) / length)] += 1
    return json_response({"metric": {"series": series}})
