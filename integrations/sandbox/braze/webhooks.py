"""The Braze emulator's Currents (Custom Currents Export): made in Braze's app (Partner
Integrations → Data Export; Braze has no API for it), and what they post.

Real shapes (../shared/platforms/braze.md §10): `{"events": [...]}`, up to 100 a request; each
event `{"event_type": "users.messages.email.Open", "id": <uuid>, "time": <epoch seconds>,
"user": {"user_id", "external_user_id"}, "properties": {"campaign_id", "campaign_name",
"dispatch_id", "email_address", "url" (clicks)}}`. Not signed: the bearer token set on the
Current is sent as `Authorization: Bearer <token>`, with `Braze-Currents-Version: 1`.
"""

from __future__ import annotations

import hashlib
import uuid

import orjson

from integrations.sandbox import inapp, outbound
from integrations.sandbox.braze.auth import PLATFORM
from integrations.sandbox.braze.campaigns import CAMPAIGNS, CANVASES, audience
from integrations.sandbox.models import SandboxContact, SandboxSend

TYPES = {
    "delivered": "users.messages.email.Delivery",
    "opened": "users.messages.email.Open",
    "clicked": "users.messages.email.Click",
    "bounced_hard": "users.messages.email.Bounce",
    "bounced_soft": "users.messages.email.SoftBounce",
    "complained": "users.messages.email.MarkAsSpam",
    "unsubscribed": "users.messages.email.Unsubscribe",
}
_TARGETS = {**{k: v[1] for k, v in CAMPAIGNS.items()}, **{k: v[1] for k, v in CANVASES.items()}}


def _remote_id(body: dict) -> str:
    return str(body.get("campaign_id") or body.get("canvas_id") or "")


def _audience_of(account, send) -> outbound.SendAudience | None:
    body = send.body or {}
    users, refused = audience(account, body, _TARGETS.get(_remote_id(body)))
    if refused:
        return None
    emails = sorted(
        e for e in ((u.attributes or {}).get("email") or u.identifier for u in users) if "@" in e
    )
    properties = body.get("trigger_properties") or body.get("context") or {}
    key = f"{PLATFORM}:{account.account}:{send.remote_id}"
    return outbound.SendAudience(key, str(properties.get("subject") or ""), emails)


def _contact(account: str, email: str) -> SandboxContact | None:
    return SandboxContact.objects.filter(platform=PLATFORM, account=account,
                                         attributes__email=email).first()  # fmt: skip


def _event(account: str, event, topic: str) -> dict:
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    contact = _contact(account, event.email)
    external = (contact.identifier.removeprefix("external_id:") if contact else "") or None
    properties: dict = {"email_address": event.email}
    send = SandboxSend.objects.filter(platform=PLATFORM, account=account,
                                      remote_id=event.send_id).first() if event.send_id else None  # fmt: skip
    if send is not None:
        remote = _remote_id(send.body or {})
        properties.update(campaign_id=remote, campaign_name=send.name, dispatch_id=send.remote_id)
    if event.url:
        properties["url"] = event.url
    return {
        "event_type": topic,
        "id": str(uuid.UUID(digest[:32])),
        "time": int(event.occurred_at.timestamp()),
        "user": {"user_id": digest[32:56], "external_user_id": external},
        "properties": properties,
    }


def _render(batch: outbound.Batch) -> bytes:
    events = [_event(batch.hook.account, e, t) for e, t in zip(batch.events, batch.topics,
                                                                 strict=True)]  # fmt: skip
    return orjson.dumps({"events": events})


def _unsubscribe(account, email: str) -> str | None:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account,
                                         attributes__email=email.strip().lower())  # fmt: skip
    return "" if outbound.mark(rows, email_subscribe="unsubscribed") else None


WEBHOOKS = outbound.Outbound(
    topics=TYPES,
    render=_render,
    batch_max=100,
    signer=PLATFORM,
    send_kinds=("campaign_trigger", "canvas_trigger"),
    audience=_audience_of,
    unsubscribe=_unsubscribe,
    headers=lambda hook: {"Braze-Currents-Version": "1"},
    in_app=inapp.InApp(
        events=tuple(dict.fromkeys(TYPES.values())),
        secret=inapp.TYPED,
        secret_label="Bearer token",
        page="Partner Integrations → Data Export → Create Current → Custom Currents Export",
    ),
)
