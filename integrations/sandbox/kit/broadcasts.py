"""Kit broadcasts (v4): created with a send time (scheduled) or none (a draft).

Real shapes (../shared/platforms/kit.md §7): `POST /v4/broadcasts` with subject, preview_text,
content, description, public, send_at, subscriber_filter (`[{"all": [{"type": "segment" |
"tag", "ids": [...]}]}]`) → 201 `{"broadcast": {...}}`; `GET /v4/broadcasts` (paginated) and
`GET /v4/broadcasts/{id}`. Scheduling needs subject and content. Recorded as SandboxSend
(kind "broadcast"): a `send_at` still to come is held ("scheduled", integrations/sandbox/
scheduled.py) and sent at that time to the subscribers the filter reaches then, "completed"
(Kit's v3 status, kit.md §8) with `sends` 1; a `send_at` already past sends it at once.
`GET /v4/broadcasts/{id}/stats` (kit.md §8) → {"broadcast": {"id", "stats": {"recipients",
"open_rate", "emails_opened", "click_rate", "unsubscribe_rate"}}}, rates in percent, from the
sandbox's seeded engagement of the readers the broadcast reached.
"""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox import deliveries, engagement, scheduled
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.kit.auth import PLATFORM, endpoint, errors
from integrations.sandbox.kit.state import paginate
from integrations.sandbox.models import SandboxContact, SandboxSegment, SandboxSend

INACTIVE_STATES = ("cancelled", "bounced", "complained", "inactive")
SENT = "completed"  # a broadcast that went out, as Kit's v3 stats name it (kit.md §8)


def _view(send: SandboxSend) -> dict:
    body = send.body
    return {
        "id": int(send.remote_id),
        "created_at": send.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "subject": body.get("subject"),
        "preview_text": body.get("preview_text"),
        "description": body.get("description"),
        "content": body.get("content"),
        "public": bool(body.get("public")),
        "published_at": None,
        "send_at": body.get("send_at"),
        "thumbnail_alt": None,
        "thumbnail_url": None,
        "email_address": None,
        "email_template": {"id": 1, "name": "Text Only"},
        "subscriber_filter": body.get("subscriber_filter")
        or [{"all": [{"type": "all_subscribers"}]}],
    }


def _audience(account, subscriber_filter):
    """The ids of the subscribers a filter reaches, or an error message."""
    groups = (subscriber_filter or [{}])[0].get("all") or []
    members = None
    for group in groups:
        kind = group.get("type")
        if kind == "all_subscribers":
            continue
        if kind not in ("segment", "tag"):
            return None, f"subscriber_filter type '{kind}' is not valid"
        for number in group.get("ids") or []:
            row = SandboxSegment.objects.filter(
                platform=PLATFORM, account=account.account, kind=kind, remote_id=number
            ).first()
            if row is None:
                return None, f"{kind.capitalize()} {number} not found"
            # Kit sends to active subscribers only: not to the unsubscribed (cancelled),
            # bounced or complained ones, whatever tag or segment holds them.
            reached = deliveries.reached(row.members()).exclude(
                attributes__state__in=INACTIVE_STATES
            )
            ids = set(reached.values_list("pk", flat=True))
            members = ids if members is None else members & ids
    if members is None:  # all subscribers: the active ones
        everyone = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
        active = deliveries.reached(everyone).exclude(attributes__state__in=INACTIVE_STATES)
        members = set(active.values_list("pk", flat=True))
    return members, None


@csrf_exempt
@endpoint
def broadcasts(request, account):
    rows = SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind="broadcast")
    if request.method == "GET":
        page, pagination = paginate([_view(r) for r in rows.order_by("pk")], request)
        return json_response({"broadcasts": page, "pagination": pagination})
    if request.method != "POST":
        return errors(405, "Method not allowed")
    body = parse_json(request)
    if not isinstance(body, dict):
        return errors(422, "The request body is not valid JSON")
    if body.get("send_at") and not (body.get("subject") and body.get("content")):
        return errors(422, "Subject and content are required to schedule a broadcast")
    members, problem = _audience(account, body.get("subscriber_filter"))
    if problem:
        return errors(422, problem)
    due = _send_at(body.get("send_at"))
    if body.get("send_at") and due is None:
        return errors(422, "send_at must be an ISO 8601 time")
    send = SandboxSend(
        platform=PLATFORM,
        account=account.account,
        kind="broadcast",
        remote_id=str(rows.count() + 1001),
        name=str(body.get("description") or ""),
        status="draft",
        body=body,
    )
    if due is not None and due > timezone.now():
        scheduled.hold(send, due)  # whom it reaches is counted when it goes
    elif due is not None:  # a time already past: Kit sends it now
        send.status, send.recipients, send.sends = SENT, len(members), 1
        send.sent_at = timezone.now()
    send.save()
    return json_response({"broadcast": _view(send)}, status=201)


def _send_at(value) -> datetime | None:
    """The broadcast's `send_at` as a UTC time (no offset: UTC); None when none or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def deliver_scheduled(send: SandboxSend) -> str:
    """At its time: the broadcast goes to the active subscribers its filter reaches then."""
    members, _ = _audience(
        SimpleNamespace(account=send.account), send.body.get("subscriber_filter")
    )
    send.recipients = len(members or ())
    return SENT


@require_GET
@endpoint
def broadcast(request, account, broadcast_id: int):
    send = SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="broadcast", remote_id=str(broadcast_id)
    ).first()
    if send is None:
        return errors(404, "Not Found")
    return json_response({"broadcast": _view(send)})


def _percent(count: int, of: int) -> float:
    return round(100 * count / of, 2) if of else 0.0


@require_GET
@endpoint
def stats(request, account, broadcast_id: int):
    send = SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="broadcast", remote_id=str(broadcast_id)
    ).first()
    if send is None:
        return errors(404, "Not Found")
    figures = {"recipients": 0, "open_rate": 0.0, "emails_opened": 0, "click_rate": 0.0,
               "unsubscribe_rate": 0.0}  # fmt: skip
    if send.sent_at is not None and send.sent_at <= timezone.now():
        members, _ = _audience(account, send.body.get("subscriber_filter"))
        readers = SandboxContact.objects.filter(pk__in=members or ())
        t = engagement.totals(
            f"{PLATFORM}:{account.account}:{send.remote_id}",
            readers.values_list("identifier", flat=True),
            str(send.body.get("subject") or ""),
            send.sent_at,
            timezone.now(),
        )
        figures = {
            "recipients": t["sent"],
            "open_rate": _percent(t["opened"], t["sent"]),
            "emails_opened": t["opened"],
            "click_rate": _percent(t["clicked"], t["sent"]),
            "unsubscribe_rate": _percent(t["unsubscribed"], t["sent"]),
        }
    return json_response({"broadcast": {"id": int(send.remote_id), "stats": figures}})
