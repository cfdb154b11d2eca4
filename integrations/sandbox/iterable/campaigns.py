"""Iterable campaigns and journeys in the emulator: list, read, create from a template, send or
schedule, trigger a triggered campaign or a journey for lists.

Real shapes (../shared/platforms/iterable.md §7, §12; specs/iterable/api-docs.json):
`GET /api/campaigns` (`page` from 1, `pageSize` ≤ 1000, `sort` such as `-createdAt`) →
`{"campaigns": [CampaignDetails], "nextPageUrl", "totalCampaignsCount"}`;
`GET /api/campaigns/{id}` → CampaignDetails, 404 when unknown; `POST /api/campaigns/create`
(`name`, `templateId`, `listIds` required; `sendAt` UTC "YYYY-MM-DD HH:MM:SS" ≤ 21 days;
`scheduleSend` defaults to true) → `{"campaignId"}`, the campaign with a copy of the template;
`POST /api/campaigns/{id}/send` and `.../schedule` `{"sendAt"}` (ISO 8601, ≤ 7 days) for a
campaign that is Ready; `POST /api/campaigns/cancel {"campaignId"}` cancels a Scheduled one
(state "Cancelled", the emulator's name; 400 for one not scheduled); `POST /api/campaigns/trigger` (`campaignId`, non-empty `listIds`);
`GET /api/journeys` (`pageSize` ≤ 50) → `{"journeys", "totalJourneysCount"}`;
`POST /api/workflows/triggerWorkflow` (`workflowId`, `listId`). Errors are
`{"code": "BadParams", "msg", "params"}` with 400.

The project's triggered campaigns and journeys are made in Iterable, so here they are fixed
(TRIGGERED, JOURNEYS). A send reaches the stored members of its lists, minus the members of
the suppression lists it names and forgotten users. Created campaigns are SandboxSends of kind
"campaign" (ids from 1001; sent at once, "Finished"; or "Scheduled", held until its time
(integrations/sandbox/scheduled.py) and then sent to its lists as they are then; or "Ready"
when `scheduleSend` is false); triggers of kinds "trigger" and "journey_trigger". A journey that
does not accept entrances is refused (400); the wait before a list may trigger the same
journey again is not emulated.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from django.db.models import Q
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import deliveries, scheduled
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.iterable.templates import templates_of
from integrations.sandbox.models import SandboxContact, SandboxSend

FIRST_CAMPAIGN_ID = 1001
CREATOR = "editor@sharpsend.example"
SEEDED_AT = 1767600000000  # epoch ms: when the fixed campaigns and journeys were made
# id → name: triggered campaigns made in Iterable (the target names one)
TRIGGERED = {101: "Daily issue (triggered)", 102: "Breaking news (triggered)"}
# id → (name, accepting new entrances)
JOURNEYS = {201: ("Welcome journey", True), 202: ("Winback journey (paused)", False)}


def _bad(msg: str):
    return error("BadParams", msg, 400)


def _ints(value) -> list[int] | None:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        return None
    return value


def _campaign_rows(account):
    return SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind="campaign")


def _details(send: SandboxSend | None, triggered_id: int | None = None) -> dict:
    if send is None:
        return {
            "id": triggered_id,
            "name": TRIGGERED[triggered_id],
            "type": "Triggered",
            "campaignState": "Running",
            "messageMedium": "Email",
            "createdAt": SEEDED_AT,
            "updatedAt": SEEDED_AT,
            "createdByUserId": CREATOR,
        }
    created = int(send.created_at.timestamp() * 1000)
    details = {
        "id": int(send.remote_id),
        "name": send.name,
        "type": "Blast",
        "campaignState": send.status,
        "messageMedium": "Email",
        "createdAt": created,
        "updatedAt": created,
        "createdByUserId": CREATOR,
        "templateId": send.body.get("templateId"),
        "listIds": send.body.get("listIds"),
        "suppressionListIds": send.body.get("suppressionListIds") or [],
        "sendSize": send.recipients,
    }
    start = send.sent_at or scheduled.due_at(send)  # when it went, or is to go
    if start:
        details["startAt"] = int(start.timestamp() * 1000)
    return details


def _audience(account, list_ids: list[int], suppression_ids: list[int]):
    """The users a send to `list_ids` reaches, or the BadParams message."""
    included = Q()
    for list_id in list_ids:
        found = deliveries.segment_of(PLATFORM, account.account, list_id)
        if found is None:
            return None, f"List {list_id} does not exist"
        if found.kind == "Suppression":
            return None, f"List {list_id} is a suppression list"
        included |= Q(pk__in=found.members().values("pk"))
    members = SandboxContact.objects.filter(included)
    for list_id in suppression_ids:
        found = deliveries.segment_of(PLATFORM, account.account, list_id)
        if found is None:
            return None, f"Suppression list {list_id} does not exist"
        members = members.exclude(pk__in=found.members().values("pk"))
    return deliveries.reached(members), ""


@require_GET
@EMULATOR.endpoint(endpoint="campaigns")
def campaigns(request, account):
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("pageSize", "20"))
    except ValueError:
        return _bad("page and pageSize must be numbers")
    if page < 1 or not 1 <= size <= 1000:
        return _bad("page starts at 1; pageSize is 1 to 1000")
    rows = [_details(None, key) for key in TRIGGERED]
    rows += [_details(send) for send in _campaign_rows(account)]
    sort = request.GET.get("sort", "id")
    field = sort.lstrip("+-")
    if field not in ("id", "name", "createdAt", "updatedAt", "startAt"):
        return _bad(f"Cannot sort by {field}")
    rows.sort(key=lambda r: (r.get(field) or 0, r["id"]), reverse=sort.startswith("-"))
    answer = {
        "campaigns": rows[(page - 1) * size : page * size],
        "totalCampaignsCount": len(rows),
    }
    if page * size < len(rows):
        query = request.GET.copy()
        query["page"] = str(page + 1)
        answer["nextPageUrl"] = request.build_absolute_uri(f"?{query.urlencode()}")
    return json_response(answer)


@require_GET
@EMULATOR.endpoint(endpoint="campaigns")
def campaign(request, account, campaign_id: int):
    if campaign_id in TRIGGERED:
        return json_response(_details(None, campaign_id))
    send = _campaign_rows(account).filter(remote_id=str(campaign_id)).first()
    if send is None:
        return error("NotFound", "Campaign not found", 404)
    return json_response(_details(send))


def _send_at(value) -> datetime | None:
    try:
        return datetime.strptime(str(value), "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
    except ValueError:
        return None


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def create(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return error("BadJsonBody", "The body must be a JSON object", 400)
    name, template_id = body.get("name"), body.get("templateId")
    list_ids, suppression_ids = (
        _ints(body.get("listIds")),
        _ints(body.get("suppressionListIds", [])),
    )
    if not isinstance(name, str) or not name.strip():
        return _bad("name is required")
    if not list_ids:
        return _bad("listIds must be a non-empty array of list ids (a blast campaign)")
    if suppression_ids is None:
        return _bad("suppressionListIds must be an array of list ids")
    template = templates_of(account).filter(remote_id=str(template_id)).first()
    if isinstance(template_id, bool) or not isinstance(template_id, int) or template is None:
        return _bad(f"Template {template_id} does not exist")
    users, refused = _audience(account, list_ids, suppression_ids)
    if refused:
        return _bad(refused)
    at = None
    if "sendAt" in body:
        at = _send_at(body["sendAt"])
        if at is None:
            return _bad("sendAt must be YYYY-MM-DD HH:MM:SS (UTC)")
        if at - timezone.now() > timedelta(days=21):
            return _bad("sendAt may be at most 21 days in the future")
    if body.get("scheduleSend", True) is False:
        status = "Ready"
    else:
        status = "Scheduled" if at and at > timezone.now() else "Finished"
    number = FIRST_CAMPAIGN_ID + _campaign_rows(account).count()
    send = SandboxSend(
        platform=PLATFORM,
        account=account.account,
        kind="campaign",
        remote_id=str(number),
        name=name,
        status=status,
        body=body,
        content=dict(template.content),  # the campaign's copy of the template
        recipients=users.count(),
        sends=1 if status == "Finished" else 0,
        sent_at=timezone.now() if status == "Finished" else None,
    )
    if status == "Scheduled":
        scheduled.hold(send, at, "Scheduled")
    send.save()
    return json_response({"campaignId": number})


def _ready(account, campaign_id: int):
    send = _campaign_rows(account).filter(remote_id=str(campaign_id)).first()
    if send is None:
        return None, error("NotFound", "Campaign not found", 404)
    if send.status != "Ready":
        return None, _bad(f"Campaign {campaign_id} is {send.status}: it cannot be sent again")
    return send, None


def _ok(msg: str):
    return json_response({"code": "Success", "msg": msg, "params": None})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def send_now(request, account, campaign_id: int):
    send, refused = _ready(account, campaign_id)
    if refused:
        return refused
    send.status, send.sends, send.sent_at = "Finished", send.sends + 1, timezone.now()
    send.save()
    return _ok(f"Sent campaign {campaign_id}")


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def schedule(request, account, campaign_id: int):
    body = parse_json(request) or {}
    try:
        at = datetime.fromisoformat(str(body.get("sendAt", "")).replace("Z", "+00:00"))
    except ValueError:
        return _bad("sendAt must be an ISO-8601 date time")
    if at.tzinfo is None or at - timezone.now() > timedelta(days=7):
        return _bad("sendAt must have a time zone and be at most 7 days in the future")
    send, refused = _ready(account, campaign_id)
    if refused:
        return refused
    scheduled.hold(send, at, "Scheduled")
    send.save(update_fields=["status", "content"])
    return _ok(f"Scheduled campaign {campaign_id}")


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def trigger(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return error("BadJsonBody", "The body must be a JSON object", 400)
    campaign_id = body.get("campaignId")
    list_ids, suppression_ids = (
        _ints(body.get("listIds")),
        _ints(body.get("suppressionListIds", [])),
    )
    if campaign_id not in TRIGGERED:
        return _bad(f"Campaign {campaign_id} is not a triggered campaign of this project")
    if not list_ids or suppression_ids is None:
        return _bad("listIds must be a non-empty array of list ids")
    if not isinstance(body.get("dataFields", {}), dict):
        return _bad("dataFields must be an object")
    users, refused = _audience(account, list_ids, suppression_ids)
    if refused:
        return _bad(refused)
    deliveries.record_sent(
        PLATFORM, account.account, "trigger", TRIGGERED[campaign_id], body, users.count()
    )
    return _ok(f"Triggered campaign {campaign_id}")


@require_GET
@EMULATOR.endpoint(endpoint="campaigns")
def journeys(request, account):
    try:
        page = int(request.GET.get("page", "1"))
        size = int(request.GET.get("pageSize", "10"))
    except ValueError:
        return _bad("page and pageSize must be numbers")
    if page < 1 or not 1 <= size <= 50:
        return _bad("page starts at 1; pageSize is 1 to 50")
    rows = [
        {
            "id": key,
            "name": name,
            "enabled": enabled,
            "isArchived": False,
            "journeyType": "Published",
            "createdAt": SEEDED_AT,
            "updatedAt": SEEDED_AT,
            "creatorUserId": CREATOR,
        }
        for key, (name, enabled) in JOURNEYS.items()
    ]
    answer = {"journeys": rows[(page - 1) * size : page * size], "totalJourneysCount": len(rows)}
    if page * size < len(rows):
        query = request.GET.copy()
        query["page"] = str(page + 1)
        answer["nextPageUrl"] = request.build_absolute_uri(f"?{query.urlencode()}")
    return json_response(answer)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def trigger_workflow(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return error("BadJsonBody", "The body must be a JSON object", 400)
    journey = JOURNEYS.get(body.get("workflowId"))
    if journey is None:
        return _bad(f"Journey {body.get('workflowId')} does not exist")
    name, enabled = journey
    if not enabled:
        return _bad(f"Journey {body['workflowId']} is not accepting new entrances")
    if not isinstance(body.get("dataFields", {}), dict):
        return _bad("dataFields must be an object")
    list_id = body.get("listId")
    if isinstance(list_id, bool) or not isinstance(list_id, int):
        return _bad("The sandbox triggers journeys for a list only: listId is required")
    users, refused = _audience(account, [list_id], [])
    if refused:
        return _bad(refused)
    deliveries.record_sent(PLATFORM, account.account, "journey_trigger", name, body, users.count())
    return _ok(f"Triggered journey {body['workflowId']}")


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="campaigns")
def cancel(request, account):
    body = parse_json(request)
    campaign_id = body.get("campaignId") if isinstance(body, dict) else None
    send = _campaign_rows(account).filter(remote_id=str(campaign_id)).first()
    if send is None:
        return error("NotFound", "Campaign not found", 404)
    if send.status != "Scheduled":
        return _bad(f"Campaign {campaign_id} is {send.status}: only a scheduled one is cancelled")
    scheduled.release(send, "Cancelled")
    send.save(update_fields=["status", "content"])
    return _ok(f"Cancelled campaign {campaign_id}")


def deliver_scheduled(send: SandboxSend) -> str:
    """At its time: the blast goes to its lists' users as they are then, less its suppression
    lists' (none when a list is gone)."""
    lists = send.body.get("listIds") or []
    suppressed = send.body.get("suppressionListIds") or []
    users, _ = _audience(SimpleNamespace(account=send.account), lists, suppressed)
    send.recipients = users.count() if users is not None else 0
    return "Finished"
