"""The Front emulator's application webhooks: made on the app's page in Front's settings (the
Core API has no call for them), checked with a signed challenge on saving, and what they post.

Real shapes (../shared/platforms/front.md §9, webhook-signatures.md; dev.frontapp.com
application-webhooks): on saving, Front posts `{"type": "sync", "authorization": {"id":
"cmp_…"}}` with X-Front-Challenge and keeps the webhook only if the answer is 200 echoing the
value (as JSON {"challenge": …} or as it is: the exact form is unconfirmed, both are taken).
Events are posted one a request, `{"type", "authorization": {"id"}, "payload"}`, the payload an
Event as specs/front/core-api.json's EventResponse has it (`id`, `type`, `emitted_at` in
seconds, `source`, `target`, `conversation` with its main `recipient`); signed X-Front-Signature
= base64 HMAC-SHA256(app secret, X-Front-Request-Timestamp (ms) + ":" + body). Front's events
are about conversations: a contact's own changes are reported by none, so the emulator posts
what happens to a contact's messages (a bounce, a message received from them).
"""

from __future__ import annotations

import hashlib
import secrets

import orjson
import requests

from integrations import clock
from integrations.sandbox import accounts, inapp, outbound
from integrations.sandbox import webhooks as signing
from integrations.sandbox.front.auth import PLATFORM
from integrations.sandbox.front.contacts import _contact_id
from integrations.sandbox.models import SandboxWebhook, SandboxWebhookEvent

API = "https://sandbox.api.frontapp.com"
CHALLENGE = "X-Front-Challenge"
CHALLENGE_TIMEOUT = 10.0
INBOX = {"id": "inb_sbx1", "name": "Newsletter replies", "is_private": False}
SENDER = "news@sandbox.example"
# The emulator's happening → the Front event type reporting it (EventResponse.type).
TOPICS = {"bounced_soft": "message_bounce_error", "inbound_message": "inbound"}


def app_secret(account: str) -> str:
    """The app's secret (Basic information) in that company (fake, like every sandbox key)."""
    return f"sandbox-front-app-secret-{account}"


def company_id(account: str) -> str:
    return f"cmp_{account}"  # as /me answers


# --- what happens -------------------------------------------------------------------------------


def message_bounces(email: str, account: str = "") -> SandboxWebhookEvent:
    """A message Front sent to `email` bounces (message_bounce_error)."""
    chosen = account or accounts.demo_account(PLATFORM).account
    return outbound.record_change(PLATFORM, chosen, "bounced_soft", email=email)


def contact_writes_in(email: str, account: str = "") -> SandboxWebhookEvent:
    """`email` writes to the company's inbox (inbound)."""
    chosen = account or accounts.demo_account(PLATFORM).account
    return outbound.record_change(PLATFORM, chosen, "inbound_message", email=email)


# --- what the webhooks post ---------------------------------------------------------------------


def _id(prefix: str, event, part: str) -> str:
    return prefix + hashlib.sha256(f"{part}:{event.pk}:{event.key}".encode()).hexdigest()[:8]


def _recipient(email: str, role: str) -> dict:
    return {
        "_links": {"related": {"contact": f"{API}/contacts/{_contact_id(email)}"}},
        "name": None,
        "handle": email,
        "role": role,
    }


def _payload(event, topic: str) -> dict:
    inbound = topic == "inbound"
    at = event.occurred_at.timestamp()
    event_id, message, conversation = (_id(p, event, p) for p in ("evt_", "msg_", "cnv_"))
    subject = "Re: This week's letter" if inbound else "This week's letter"
    reader = _recipient(event.email, "from" if inbound else "to")
    return {
        "_links": {"self": f"{API}/events/{event_id}"},
        "id": event_id,
        "type": topic,
        "emitted_at": at,
        "source": {
            "_meta": {"type": "inboxes" if inbound else "api"},
            "data": [INBOX] if inbound else None,
        },  # fmt: skip
        "target": {
            "_meta": {"type": "message"},
            "data": {
                "_links": {"self": f"{API}/messages/{message}"},
                "id": message,
                "type": "email",
                "is_inbound": inbound,
                "created_at": at,
                "subject": subject,
                "recipients": [reader, _recipient(SENDER, "to" if inbound else "from")],
            },
        },
        "conversation": {
            "_links": {"self": f"{API}/conversations/{conversation}"},
            "id": conversation,
            "subject": subject,
            "status": "unassigned" if inbound else "archived",
            "recipient": reader,
            "created_at": at,
        },
    }


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events  # Front posts one event a request
    return orjson.dumps(
        {
            "type": batch.topic,
            "authorization": {"id": company_id(batch.hook.account)},
            "payload": _payload(event, batch.topic),
        }
    )


# --- the challenge on saving --------------------------------------------------------------------


def _echoed(reply: requests.Response, value: str) -> bool:
    if reply.headers.get(CHALLENGE) == value or reply.text.strip() == value:
        return True
    try:
        return (reply.json() or {}).get("challenge") == value
    except (ValueError, AttributeError):
        return False


def challenge(hook: SandboxWebhook) -> str:
    """Front's check of a webhook URL on saving: a signed sync request whose X-Front-Challenge
    must come back; why the webhook is refused, "" when it is not."""
    value = secrets.token_hex(16)
    body = orjson.dumps({"type": "sync", "authorization": {"id": company_id(hook.account)}})
    signed = signing.sign(PLATFORM, body, hook.secret, clock.now())
    headers = {"Content-Type": signing.JSON, CHALLENGE: value, **signed.headers}
    try:
        reply = requests.post(hook.url, data=body, headers=headers, timeout=CHALLENGE_TIMEOUT)
    except requests.RequestException as exc:
        return f"Front could not reach the webhook URL ({type(exc).__name__})."
    if reply.status_code != 200 or not _echoed(reply, value):
        return f"The webhook URL did not answer Front's challenge (HTTP {reply.status_code})."
    return ""


WEBHOOKS = outbound.Outbound(
    topics=TOPICS,
    render=_render,
    signer=PLATFORM,
    in_app=inapp.InApp(
        events=tuple(TOPICS.values()),
        secret=inapp.APP,
        secret_label="App secret",
        page="Settings → Developers → your app → Webhooks",
        app_secret=app_secret,
        check=challenge,
    ),
)
