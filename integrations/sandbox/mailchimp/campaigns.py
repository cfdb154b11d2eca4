"""The Mailchimp emulator's regular campaigns: create, content, send checklist, send/schedule.

Real shapes (../shared/platforms/mailchimp.md §7): `POST /3.0/campaigns` → the campaign
(`id`, `status: "save"`, `recipients`, `settings`); `PUT .../content` → the content;
`GET .../send-checklist` → `is_ready`, `items[]`; `POST .../actions/send` and
`.../actions/schedule` `{"schedule_time"}` (quarter hours, UTC) → 204; `.../actions/unschedule`
→ 204 takes a scheduled campaign back to a draft ("save"; 400 when it is not scheduled). A
regular campaign scheduled is held (status "schedule", integrations/sandbox/scheduled.py) and
goes at its time to the list's or segment's subscribed members as they are then; a variate
one is only marked scheduled (not delivered). A campaign that is not a draft any more cannot
be sent again (400). Each is a SandboxSend of kind "campaign"; a
variate campaign (Mailchimp's A/B test) is one too, its test and winner sends in variate.py.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from types import SimpleNamespace

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import scheduled
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.mailchimp import variate
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.state import _members, _subscribed
from integrations.sandbox.models import SandboxSegment, SandboxSend


def _view(send: SandboxSend) -> dict:
    if send.body.get("type") == "variate":
        variate_settings = variate.view(send)  # may send the winner (its wait is over)
        return {**_regular_view(send), "variate_settings": variate_settings}
    return _regular_view(send)


def _regular_view(send: SandboxSend) -> dict:
    return {
        "id": send.remote_id,
        "type": send.body.get("type", "regular"),
        "status": send.status,
        "emails_sent": send.recipients if send.sends else 0,
        "recipients": send.body.get("recipients", {}),
        "settings": send.body.get("settings", {}),
        "tracking": send.body.get("tracking", {}),
    }


def _campaign(account, campaign_id: str) -> SandboxSend | None:
    return SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="campaign", remote_id=campaign_id
    ).first()


def _not_found():
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


def _audience_of(account, body: dict):
    """The members the campaign's recipients name, or an error answer."""
    recipients = body.get("recipients") or {}
    if recipients.get("list_id") != account.credentials["list_id"]:
        return None, problem(400, "Invalid Resource", "The resource submitted could not be validated.",
                             [{"field": "recipients.list_id", "message": "Invalid list."}])  # fmt: skip
    segment_id = (recipients.get("segment_opts") or {}).get("saved_segment_id")
    if segment_id is None:
        return _subscribed(_members(account)), None
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return None, problem(400, "Invalid Resource", "The segment does not exist.",
                             [{"field": "recipients.segment_opts", "message": "Invalid segment."}])  # fmt: skip
    return _subscribed(segment.members()), None


@csrf_exempt
@endpoint(audience=False, write=True)
def campaigns(request, account):
    if request.method == "GET":
        rows = SandboxSend.objects.filter(
            platform=PLATFORM, account=account.account, kind="campaign"
        )
        list_id = request.GET.get("list_id")
        views = [_view(r) for r in rows.order_by("-created_at", "-pk")]
        if list_id:
            views = [v for v in views if v["recipients"].get("list_id") == list_id]
        return json_response({"campaigns": views, "total_items": len(views)})
    if request.method != "POST":
        return HttpResponse(status=405)
    body = parse_json(request)
    if not isinstance(body, dict) or body.get("type") not in ("regular", "variate"):
        return problem(400, "Invalid Resource", "The resource submitted could not be validated.")
    if body["type"] == "variate" and (refused := variate.refused(body)) is not None:
        return refused
    _, refused = _audience_of(account, body)
    if refused is not None:
        return refused
    send = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="campaign",
        remote_id=secrets.token_hex(5),
        name=(body.get("settings") or {}).get("title", ""),
        body=body,
    )
    return json_response(_view(send))


@csrf_exempt
@endpoint(audience=False, write=True)
def campaign(request, account, campaign_id: str):
    """GET the campaign; DELETE a draft (204; one that went out cannot be deleted)."""
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    if request.method == "GET":
        return json_response(_view(send))
    if request.method != "DELETE":
        return HttpResponse(status=405)
    if send.status != "save":
        return problem(400, "Bad Request", f"This campaign cannot be deleted: it is {send.status}.")
    send.delete()
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@endpoint(audience=False, write=True)
def send_test(request, account, campaign_id: str):
    """`{"test_emails": [...], "send_type": "html" | "plaintext"}` → 204; recorded as a
    SandboxSend of kind "test" (what the testers got), never as a send of the campaign."""
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    body = parse_json(request)
    emails = body.get("test_emails") if isinstance(body, dict) else None
    if (
        not isinstance(emails, list)
        or not emails
        or not all(isinstance(e, str) and "@" in e.strip("@") for e in emails)
        or body.get("send_type") not in ("html", "plaintext")
    ):
        return problem(400, "Invalid Resource", "Test emails must be valid email addresses.",
                       [{"field": "test_emails", "message": "Invalid email."}])  # fmt: skip
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="test",
        remote_id=secrets.token_hex(5),
        name=send.name,
        status="sent",
        body={"campaign_id": send.remote_id, **body, "settings": send.body.get("settings", {})},
        content=send.content,
        recipients=len(emails),
        sends=1,
        sent_at=timezone.now(),
    )
    return HttpResponse(status=204)


@csrf_exempt
@endpoint(audience=False, write=True)
def content(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    if request.method == "PUT":
        body = parse_json(request)
        if not isinstance(body, dict):
            return problem(
                400, "Invalid Resource", "The resource submitted could not be validated."
            )
        contents = body.get("variate_contents")
        if contents is not None:
            if send.body.get("type") != "variate" or not (
                isinstance(contents, list)
                and all(isinstance(c, dict) and c.get("content_label") for c in contents)
            ):
                return problem(400, "Invalid Resource",
                               "variate_contents is for variate campaigns: a list of "
                               "{content_label, html, plain_text}.")  # fmt: skip
            send.content = {"variate_contents": contents}
        else:
            send.content = {k: body[k] for k in ("html", "plain_text") if k in body}
        send.save(update_fields=["content"])
    answer = {"html": send.content.get("html", ""),
              "plain_text": send.content.get("plain_text", "")}  # fmt: skip
    if "variate_contents" in send.content:
        answer["variate_contents"] = send.content["variate_contents"]
    return json_response(answer)


def _checklist(send: SandboxSend) -> list[dict]:
    settings = send.body.get("settings") or {}
    items = []
    for field, heading in (("subject_line", "Subject"), ("from_name", "From name"),
                           ("reply_to", "Reply-to address")):  # fmt: skip
        if not settings.get(field):
            items.append({"type": "error", "id": len(items), "heading": heading,
                          "details": f"Add a {heading.lower()}."})  # fmt: skip
    if (
        not send.content.get("html")
        and not send.content.get("plain_text")
        and not variate.has_content(send)
    ):
        items.append({"type": "error", "id": len(items), "heading": "Content",
                      "details": "Add content to the campaign."})  # fmt: skip
    return items


@require_GET
@endpoint(audience=False)
def send_checklist(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    items = _checklist(send)
    return json_response({"is_ready": not items, "items": items})


def _go(account, campaign_id: str, status: str, at: datetime | None = None):
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    if send.status != "save":
        return problem(400, "Bad Request", f"This campaign cannot be sent: it is {send.status}.")
    if _checklist(send):
        return problem(400, "Bad Request", "Your campaign is not ready to send.")
    members, _ = _audience_of(account, send.body)
    if send.body.get("type") == "variate" and status == "sent":
        variate.send_test(send, members)  # the test share now, the winner after the wait
        return HttpResponse(status=204)
    if at is not None and send.body.get("type") != "variate":
        scheduled.hold(send, at, "schedule")  # its audience is counted when it goes
        send.save()
        return HttpResponse(status=204)
    send.status = status
    send.recipients = members.count() if members is not None else 0
    if status == "sent":
        send.sends += 1
        send.sent_at = timezone.now()
    send.save()
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@endpoint(audience=False, write=True)
def send_now(request, account, campaign_id: str):
    return _go(account, campaign_id, "sent")


@csrf_exempt
@require_POST
@endpoint(audience=False, write=True)
def schedule(request, account, campaign_id: str):
    body = parse_json(request) or {}
    try:
        at = datetime.fromisoformat(str(body.get("schedule_time", "")).replace("Z", "+00:00"))
    except ValueError:
        return problem(400, "Invalid Resource", "schedule_time must be an ISO 8601 time.")
    if at.minute % 15 or at.second:
        return problem(400, "Invalid Resource",
                       "Schedule time must be on the quarter-hour (:00, :15, :30, :45).")  # fmt: skip
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)  # Mailchimp's schedule_time is UTC
    if at <= timezone.now():
        return problem(400, "Invalid Resource", "Schedule time must be in the future.")
    return _go(account, campaign_id, "schedule", at)


@csrf_exempt
@require_POST
@endpoint(audience=False, write=True)
def unschedule(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None:
        return _not_found()
    if send.status != "schedule":
        return problem(
            400, "Bad Request", f"This campaign cannot be unscheduled: it is {send.status}."
        )
    scheduled.release(send, "save")
    send.recipients = 0
    send.save()
    return HttpResponse(status=204)


def deliver_scheduled(send: SandboxSend) -> str:
    """At its time: the campaign goes to its list's or segment's subscribed members then."""
    list_id = send.body["recipients"]["list_id"]  # the account's list: checked at create
    account = SimpleNamespace(account=send.account, credentials={"list_id": list_id})
    members, _ = _audience_of(account, send.body)
    send.recipients = members.count() if members is not None else 0
    return "sent"
