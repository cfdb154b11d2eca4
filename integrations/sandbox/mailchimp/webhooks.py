"""The Mailchimp emulator's audience webhooks: registering them, and what they post.

Real shapes (../shared/platforms/mailchimp.md §10): `POST /3.0/lists/{list_id}/webhooks
{"url", "events": {...}, "sources": {...}}` → the webhook with its `id` (and, created with
signing, its one-time `signing_secret`: this emulator signs every webhook it creates);
`GET …/webhooks` → {"webhooks": [...], "list_id", "total_items"}. Mailchimp probes the URL on
creation and refuses one that does not answer 2xx. Deliveries are form-encoded, one event each
(`type=unsubscribe|cleaned…&fired_at=…&data[email]=…`), signed `X-Mailchimp-Signature:
t=…,v1=…`; audience webhooks report no opens or clicks.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

import requests
from django.views.decorators.csrf import csrf_exempt

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.mailchimp import variate
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.campaigns import _audience_of
from integrations.sandbox.mailchimp.state import _members, member_hash
from integrations.sandbox.models import SandboxWebhook
from integrations.sandbox.webhooks import FORM

EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SOURCES = ("user", "admin", "api")


def _view(hook: SandboxWebhook, list_id: str) -> dict:
    return {
        "id": hook.remote_id,
        "url": hook.url,
        "events": {name: name in hook.events for name in EVENTS},
        "sources": hook.settings.get("sources", {}),
        "list_id": list_id,
        "signing_enabled": hook.signed,
    }


def _invalid(detail: str, field: str):
    return problem(400, "Invalid Resource", detail, [{"field": field, "message": detail}])


def _answers(url: str) -> bool:
    """Mailchimp's probe of a new webhook URL: it must answer 2xx."""
    if not is_console_webhook_url(url):
        return False
    try:
        return requests.get(url, timeout=outbound.POST_TIMEOUT).ok
    except requests.RequestException:
        return False


@csrf_exempt
@endpoint(write=True)
def webhooks(request, account):
    list_id = account.credentials["list_id"]
    rows = SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)
    if request.method == "GET":
        views = [_view(hook, list_id) for hook in rows]
        return json_response({"webhooks": views, "list_id": list_id, "total_items": len(views)})
    if request.method != "POST":
        return problem(405, "Method Not Allowed", "The requested method is not allowed.")
    body = parse_json(request)
    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
        return _invalid("The resource submitted could not be validated.", "url")
    events, sources = body.get("events") or {}, body.get("sources") or {}
    if not isinstance(events, dict) or set(events) - set(EVENTS):
        return _invalid("Unknown webhook events.", "events")
    if not isinstance(sources, dict) or set(sources) - set(SOURCES):
        return _invalid("Unknown webhook sources.", "sources")
    if not _answers(body["url"]):
        return _invalid("The URL did not answer 200 to Mailchimp's check.", "url")
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=secrets.token_hex(5),
        url=body["url"],
        events=[name for name, on in events.items() if on],
        secret=secrets.token_urlsafe(24),
        signed=True,
        settings={"sources": sources},
    )
    return json_response({**_view(hook, list_id), "signing_secret": hook.secret})


# --- what the webhooks post ---------------------------------------------------------------------


def _audience(account, send) -> outbound.SendAudience | None:
    """The campaign's readers, seeded as its report is (reports.py). A variate campaign's are
    those of its test and winner sends, each with its own subject (variate.py)."""
    if send.kind in (variate.TEST, variate.WINNER):
        subject = send.body["settings"]["subject_line"]
        key = f"{PLATFORM}:{account.account}:{send.remote_id}"
        return outbound.SendAudience(key, subject, send.body["emails"])
    if send.body.get("type") == "variate":
        return None
    members, _ = _audience_of(account, send.body)
    if members is None:
        return None
    subject = (send.body.get("settings") or {}).get("subject_line", "")
    emails = members.values_list("identifier", flat=True)
    return outbound.SendAudience(f"{PLATFORM}:{account.account}:{send.remote_id}", subject, emails)


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events
    list_id = batch.account.credentials["list_id"]
    data = {
        "type": batch.topic,
        "fired_at": event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
        "data[id]": member_hash(event.email),
        "data[list_id]": list_id,
        "data[email]": event.email,
        "data[email_type]": "html",
    }
    if event.kind == "unsubscribed":
        data.update({"data[action]": "unsub", "data[reason]": "manual"})
    else:  # cleaned: a hard bounce or an abuse report
        data["data[reason]"] = "abuse" if event.kind == "complained" else "hard"
    if event.send_id:
        data["data[campaign_id]"] = event.send_id
    return urlencode(data).encode()


def _unsubscribe(account, email: str) -> str | None:
    rows = _members(account).filter(identifier=email.strip().lower())
    return member_hash(email) if outbound.mark(rows, status="unsubscribed") else None


WEBHOOKS = outbound.Outbound(
    topics={"unsubscribed": "unsubscribe", "bounced_hard": "cleaned", "complained": "cleaned"},
    render=_render,
    content_type=FORM,
    batch_max=1,
    signer=PLATFORM,
    send_kinds=("campaign", variate.TEST, variate.WINNER),
    audience=_audience,
    unsubscribe=_unsubscribe,
)
