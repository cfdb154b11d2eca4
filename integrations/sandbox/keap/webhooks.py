"""The Keap emulator's REST Hooks (v1 only): subscribing, the verification handshake, and what
they post.

Real shapes (../shared/platforms/keap.md §10): `GET /crm/rest/v1/hooks/event_keys`; `POST
/crm/rest/v1/hooks {"eventKey", "hookUrl"}` → {key, eventKey, hookUrl, status}. On creating a
hook (and on `POST /v1/hooks/{key}/verify`) Keap POSTs to the hookUrl with an `X-Hook-Secret`
header and the hook is `Verified` only if the answer is 200 echoing that header; events go only
to verified hooks. `GET /crm/rest/v1/hooks` lists them. Deliveries are not signed (the
console's token rides in the URL), one event key each, ids only:
{"event_key", "object_type": "contact", "object_keys": [{"id", "apiUrl", "timestamp"}]}.
"""

from __future__ import annotations

import secrets

import orjson
import requests
from django.http import HttpResponse

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.keap.auth import PLATFORM, _error, gated
from integrations.sandbox.keap.state import _by_email
from integrations.sandbox.models import SandboxWebhook

EVENT_KEYS = (
    "contact.add", "contact.edit", "contact.delete",
    "contactGroup.applied", "contactGroup.removed", "contactGroup.delete",
)  # fmt: skip
VERIFIED, UNVERIFIED = "Verified", "Unverified"
HANDSHAKE = "X-Hook-Secret"


def _hooks(account):
    return SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)


def _view(hook: SandboxWebhook) -> dict:
    return {
        "key": hook.remote_id,
        "eventKey": hook.events[0] if hook.events else "",
        "hookUrl": hook.url,
        "status": VERIFIED if hook.status == outbound.ACTIVE else UNVERIFIED,
    }


def verify(hook: SandboxWebhook) -> bool:
    """Keap's check of the hook URL: a POST with X-Hook-Secret that must be echoed (200)."""
    value = secrets.token_hex(16)
    answered = False
    if is_console_webhook_url(hook.url):
        try:
            reply = requests.post(hook.url, headers={HANDSHAKE: value}, timeout=30)
            answered = reply.status_code == 200 and reply.headers.get(HANDSHAKE) == value
        except requests.RequestException:
            answered = False
    hook.status = outbound.ACTIVE if answered else "unverified"
    hook.save(update_fields=["status"])
    return answered


@gated
def event_keys(request, account):
    return json_response(list(EVENT_KEYS))


@gated
def hooks(request, account):
    if request.method == "GET":
        return json_response([_view(hook) for hook in _hooks(account)])
    if request.method != "POST":
        return HttpResponse(status=405)
    body = parse_json(request)
    if not isinstance(body, dict) or body.get("eventKey") not in EVENT_KEYS:
        return _error(400, "eventKey must be one of GET /hooks/event_keys", "Bad Request")
    if not isinstance(body.get("hookUrl"), str) or not body["hookUrl"].startswith("http"):
        return _error(400, "hookUrl is required", "Bad Request")
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=str(1000 + _hooks(account).count() + 1),
        url=body["hookUrl"],
        events=[body["eventKey"]],
        status="unverified",
    )
    verify(hook)
    return json_response(_view(hook))


@gated
def verify_hook(request, account, key: str):
    if request.method != "POST":
        return HttpResponse(status=405)
    hook = _hooks(account).filter(remote_id=key).first()
    if hook is None:
        return _error(404, "Hook not found", "Not Found")
    verify(hook)
    return json_response(_view(hook))


# --- what the hooks post ------------------------------------------------------------------------


def _render(batch: outbound.Batch) -> bytes:
    return orjson.dumps(
        {
            "event_key": batch.topic,
            "object_type": "contact",
            "object_keys": [
                {
                    "id": int(event.contact_id) if event.contact_id.isdigit() else event.contact_id,
                    "apiUrl": f"https://api.infusionsoft.com/crm/rest/v1/contacts/{event.contact_id}",
                    "timestamp": event.occurred_at.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                }
                for event in batch.events
            ],
        }
    )


def _unsubscribe(account, email: str) -> str | None:
    """The reader opts out: their address becomes non-marketable (an edit of the contact)."""
    rows = outbound.mark(_by_email(account.account, email), email_status="LIST_UNSUBSCRIBE")
    return rows[-1].identifier if rows else None


WEBHOOKS = outbound.Outbound(
    topics={
        "unsubscribed": "contact.edit",
        "contact_updated": "contact.edit",
        "contact_created": "contact.add",
    },  # fmt: skip
    render=_render,
    batch_max=1000,
    one_topic_per_post=True,
    unsubscribe=_unsubscribe,
)
