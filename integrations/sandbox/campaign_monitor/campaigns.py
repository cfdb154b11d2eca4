"""The Campaign Monitor emulator's campaigns: create a draft (its content fetched from HtmlUrl
and TextUrl over HTTP), the client's drafts, scheduled and sent lists, send, and a sent
campaign's summary from the sandbox's seeded engagement.

Real shapes (../shared/platforms/campaign_monitor.md §7, §8, §12): `POST /campaigns/{clientid}
.json` → 201 with the campaign id as a JSON string; `POST /campaigns/{id}/send.json
{"ConfirmationEmail", "SendDate": "Immediately" | "YYYY-MM-DD HH:MM"}` → 200; drafts and
scheduled are arrays, sent campaigns (`campaigns.json`) a paged envelope, newest first;
`summary.json` → Recipients, TotalOpened, UniqueOpened, Clicks, Unsubscribed, Bounced …
Errors are 400 `{Code, Message}`: 303 duplicate campaign name, 304 subject, 305 from name, 307
from email, 308 reply-to, 101/103 an unknown list or segment, 301 unknown campaign, 331 already
sent, 332 no recipients, 5 invalid date (Campaign Monitor's reference; scheduling: scheduling.py); a missing name (302)
and a content URL that cannot be fetched (310) get the emulator's own codes, as the fact sheet
gives none. A preview (`sendpreview.json`) is a SandboxSend of kind "test"; a DELETE of
`/campaigns/{id}.json` removes the campaign. Each campaign is a SandboxSend of kind "campaign"; at its send it is delivered to
the active members of its lists and segments (their addresses kept in `content["delivered"]`).
"""

from __future__ import annotations

import secrets

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import engagement, store
from integrations.sandbox.campaign_monitor import scheduling
from integrations.sandbox.campaign_monitor.auth import (
    EMULATOR,
    PLATFORM,
    _error,
    _rows,
    list_id,
    segment_id,
)
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.fetch import fetch_text
from integrations.sandbox.models import SandboxSend

KIND = "campaign"
DATE = "%Y-%m-%d %H:%M:%S"
REQUIRED = (  # field, code, message (Campaign Monitor's)
    ("Subject", 304, "Campaign Subject Required"),
    ("FromName", 305, "From Name Required"),
)


def _campaigns(account):
    return SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind=KIND)


def _audience(account, body: dict):
    """The lists and segments the campaign names (None: one of them is unknown)."""
    lists = {list_id(s.remote_id): s for s in _rows(account, "list")}
    segments = {segment_id(s.remote_id): s for s in _rows(account, "segment")}
    chosen = []
    for key, known in (("ListIDs", lists), ("SegmentIDs", segments)):
        for ref in body.get(key) or []:
            if ref not in known:
                return None, _error(101 if key == "ListIDs" else 103, f"Invalid {key[:-1]}")
            chosen.append(known[ref])
    return chosen, None


def _refusal(account, body) -> HttpResponse | None:
    if not isinstance(body, dict):
        return _error(400, "Failed to deserialize your request.")
    if not body.get("Name"):
        return _error(302, "Campaign Name Required")
    if _campaigns(account).filter(name=body["Name"]).exists():
        return _error(303, "Duplicate Campaign Name")
    for field, code, message in REQUIRED:
        if not body.get(field):
            return _error(code, message)
    if not store.looks_like_email(body.get("FromEmail")):
        return _error(307, "Invalid From Email Address")
    if not store.looks_like_email(body.get("ReplyTo")):
        return _error(308, "Reply to Address Required")
    return _audience(account, body)[1]


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def create(request, account, client_id: str):
    body = parse_json(request)
    refused = _refusal(account, body)
    if refused is not None:
        return refused
    # Fetched before anything is stored: the console answers it in another thread.
    html = fetch_text(body.get("HtmlUrl"))
    if html is None:
        return _error(310, "HTML content could not be imported from HtmlUrl")
    text = fetch_text(body["TextUrl"]) if body.get("TextUrl") else ""  # none: made from HTML
    if text is None:
        return _error(310, "Text content could not be imported from TextUrl")
    send = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind=KIND,
        remote_id=secrets.token_hex(16),
        name=body["Name"],
        status="draft",
        body=body,
        content={"html": html, "text": text},
    )
    return json_response(send.remote_id, status=201)


def _listing(send: SandboxSend) -> dict:
    body = send.body
    row = {
        "CampaignID": send.remote_id,
        "Name": send.name,
        "Subject": body.get("Subject", ""),
        "FromName": body.get("FromName", ""),
        "FromEmail": body.get("FromEmail", ""),
        "ReplyTo": body.get("ReplyTo", ""),
        "DateCreated": timezone.localtime(send.created_at).strftime(DATE),
    }
    if send.status == "sent":
        row["SentDate"] = timezone.localtime(send.sent_at).strftime(DATE)
        row["TotalRecipients"] = send.recipients
    if send.status == "scheduled":
        row["DateScheduled"] = send.content.get("scheduled_for", "")
    return row


@require_GET
@EMULATOR.endpoint()
def drafts(request, account, client_id: str):
    return json_response([_listing(s) for s in _rows_of(account, client_id, "draft")])


@require_GET
@EMULATOR.endpoint()
def scheduled(request, account, client_id: str):
    return json_response([_listing(s) for s in _rows_of(account, client_id, "scheduled")])


@require_GET
@EMULATOR.endpoint()
def sent(request, account, client_id: str):
    try:
        page = int(request.GET.get("page", 1))
        size = int(request.GET.get("pagesize", 1000))
    except ValueError:
        page, size = 0, 0
    if page < 1 or not 10 <= size <= 1000:
        return _error(1, "page must be 1 or more and pagesize 10 to 1000")
    rows = _rows_of(account, client_id, "sent").order_by("-sent_at", "-pk")
    if request.GET.get("orderdirection", "desc") == "asc":
        rows = rows.reverse()
    total = rows.count()
    chunk = list(rows[(page - 1) * size : page * size])
    return json_response(
        {
            "Results": [_listing(s) for s in chunk],
            "ResultsOrderedBy": "SentDate",
            "OrderDirection": request.GET.get("orderdirection", "desc"),
            "PageNumber": page,
            "PageSize": size,
            "RecordsOnThisPage": len(chunk),
            "TotalNumberOfRecords": total,
            "NumberOfPages": (total + size - 1) // size,
        }
    )


def _rows_of(account, client_id: str, status: str):
    rows = _campaigns(account).filter(status=status)
    return rows if _rows(account, "list", client_id) else rows.none()  # another client: none


def _delivered(account, send: SandboxSend) -> list[str]:
    chosen, _ = _audience(account, send.body)
    emails = set()
    for segment in chosen or []:
        members = segment.members().filter(attributes__State="Active", suppressed=False)
        emails.update(members.values_list("identifier", flat=True))
    return sorted(emails)


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def send(request, account, campaign_id: str):
    campaign = _campaigns(account).filter(remote_id=campaign_id).first()
    if campaign is None:
        return _error(301, "Invalid CampaignID")
    body = parse_json(request)
    if not isinstance(body, dict) or not store.looks_like_email(body.get("ConfirmationEmail")):
        return _error(400, "ConfirmationEmail must be an email address")
    when = str(body.get("SendDate", ""))
    if campaign.status != "draft":
        return _error(331, "Campaign has already been sent")
    if not (campaign.body.get("ListIDs") or campaign.body.get("SegmentIDs")):
        return _error(332, "No Recipients Added")
    if when.lower() != "immediately":  # held for its time (scheduling.py)
        refused = scheduling.schedule(campaign, when)
        if refused is not None:
            return refused
        campaign.save()
        return HttpResponse(status=200)
    delivered = _delivered(account, campaign)
    campaign.content = {**campaign.content, "delivered": delivered}
    campaign.status, campaign.sent_at = "sent", timezone.now()
    campaign.recipients = len(delivered)
    campaign.sends += 1
    campaign.save()
    return HttpResponse(status=200)


PERSONALIZE = ("fallback", "random")


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def send_preview(request, account, campaign_id: str):
    """`{"PreviewRecipients": [...], "Personalize": "Fallback" | "Random" | <an email>}` → 200;
    recorded as a SandboxSend of kind "test" (what the testers got), never as a send of the
    campaign: the draft stays a draft and its `sends` count does not move."""
    campaign = _campaigns(account).filter(remote_id=campaign_id).first()
    if campaign is None:
        return _error(301, "Invalid CampaignID")
    body = parse_json(request)
    recipients = body.get("PreviewRecipients") if isinstance(body, dict) else None
    if (
        not isinstance(recipients, list)
        or not recipients
        or not all(store.looks_like_email(r) for r in recipients)
    ):
        return _error(400, "PreviewRecipients must be a list of email addresses")
    personalize = str(body.get("Personalize", "Fallback"))
    if personalize.lower() not in PERSONALIZE and not store.looks_like_email(personalize):
        return _error(400, "Personalize must be Fallback, Random or a subscriber's email")
    if campaign.status != "draft":
        return _error(333, "Only a draft campaign can be previewed")  # the emulator's own code
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="test",
        remote_id=secrets.token_hex(8),
        name=campaign.name,
        status="sent",
        body={"campaign_id": campaign.remote_id, **body, "Subject": campaign.body.get("Subject")},
        content=campaign.content,
        recipients=len(recipients),
        sends=1,
        sent_at=timezone.now(),
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_http_methods(["DELETE"])
@EMULATOR.endpoint()
def delete(request, account, campaign_id: str):
    """`DELETE /campaigns/{campaignid}.json` → 200: the campaign is gone (a draft or scheduled
    one is then never sent)."""
    deleted, _ = _campaigns(account).filter(remote_id=campaign_id).delete()
    if not deleted:
        return _error(301, "Invalid CampaignID")
    return HttpResponse(status=200)


@csrf_exempt
def create_or_delete(request, host: str, ref: str):
    """`/campaigns/{ref}.json`: POST creates a campaign for the client `ref`, DELETE deletes
    the campaign `ref` (one path shape, two meanings, as in Campaign Monitor's API)."""
    if request.method == "DELETE":
        return delete(request, host, campaign_id=ref)
    return create(request, host, client_id=ref)


def send_key(account, send: SandboxSend) -> str:
    return f"{PLATFORM}:{account.account}:{send.remote_id}"


@require_GET
@EMULATOR.endpoint()
def summary(request, account, campaign_id: str):
    send = _campaigns(account).filter(remote_id=campaign_id, status="sent").first()
    if send is None:
        return _error(301, "Invalid CampaignID")
    t = engagement.totals(
        send_key(account, send),
        send.content.get("delivered") or [],
        send.body.get("Subject", ""),
        send.sent_at,
        timezone.now(),
    )
    web = f"https://sandbox.createsend.com/t/{send.remote_id}"
    return json_response(
        {
            "Name": send.name,
            "Recipients": t["sent"],
            "TotalOpened": t["opened"],
            "UniqueOpened": t["opened"],
            "Clicks": t["clicked"],
            "Unsubscribed": t["unsubscribed"],
            "Bounced": t["bounced_hard"] + t["bounced_soft"],
            "SpamComplaints": t["complained"],
            "Forwards": 0,
            "Likes": 0,
            "Mentions": 0,
            "WebVersionURL": web,
            "WebVersionTextURL": f"{web}/t",
            "WorldviewURL": f"{web}/worldview",
        }
    )


def history(account, email: str) -> list[dict]:
    """A subscriber's campaign history (history.json): the campaigns delivered to them, with
    what they did by now (opens and clicks from the seeded engagement)."""
    actions = {"opened": "Open", "clicked": "Click", "unsubscribed": "Unsubscribe"}
    found = []
    for send in _campaigns(account).filter(status="sent").order_by("sent_at", "pk"):
        if email not in (send.content.get("delivered") or []):
            continue
        events = engagement.reader_events(
            send_key(account, send), email, send.body.get("Subject", ""), send.sent_at
        )
        found.append(
            {
                "ID": send.remote_id,
                "Type": "Campaign",
                "Name": send.name,
                "Actions": [
                    {
                        "Event": actions[e.kind],
                        "Date": timezone.localtime(e.at).strftime(DATE),
                        "IPAddress": "192.0.2.1",
                        "Detail": "",
                    }
                    for e in events
                    if e.kind in actions and e.at <= timezone.now()
                ],
            }
        )
    return found
