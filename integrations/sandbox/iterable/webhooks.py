"""The Iterable emulator's system webhooks: made in Iterable's app (Integrations → System
Webhooks; its API has no create call), and what they post.

Real shapes (../shared/platforms/iterable.md §10): one JSON event a POST, `email` at the top,
`eventName` (emailSend, emailOpen, emailClick, emailBounce, emailComplaint, emailUnSubscribe)
and `dataFields` with `campaignId`, `templateId`, `messageId`, `createdAt` ("YYYY-MM-DD HH:MM:SS
+00:00") and the link `url` of a click. Nothing is signed: with Auth Type "Basic" Iterable
sends the Auth Token as it is in `Authorization` (no "Basic " prefix).
"""

from __future__ import annotations

import hashlib

import orjson

from integrations.sandbox import inapp, outbound
from integrations.sandbox.iterable.auth import PLATFORM
from integrations.sandbox.iterable.campaigns import _audience
from integrations.sandbox.models import SandboxSend

NAMES = {
    "delivered": "emailSend",
    "opened": "emailOpen",
    "clicked": "emailClick",
    "bounced_hard": "emailBounce",
    "complained": "emailComplaint",
    "unsubscribed": "emailUnSubscribe",
}


def _subject(send) -> str:
    return str((send.content or {}).get("subject") or (send.body.get("dataFields") or {})
               .get("subject") or "")  # fmt: skip


def _audience_of(account, send) -> outbound.SendAudience | None:
    body = send.body or {}
    users, refused = _audience(account, body.get("listIds") or [],
                               body.get("suppressionListIds") or [])  # fmt: skip
    if refused:
        return None
    emails = sorted(
        e for e in ((u.attributes or {}).get("email") or u.identifier for u in users) if "@" in e
    )
    return outbound.SendAudience(f"{PLATFORM}:{account.account}:{send.kind}:{send.remote_id}",
                                 _subject(send), emails)  # fmt: skip


def _campaign_id(account: str, send_id: str) -> int | None:
    """The Iterable campaign a recorded send belongs to (a blast is its own campaign)."""
    send = SandboxSend.objects.filter(platform=PLATFORM, account=account, remote_id=send_id,
                                      kind__in=WEBHOOKS.send_kinds).first()  # fmt: skip
    if send is None:
        return None
    return int(send.remote_id) if send.kind == "campaign" else (send.body or {}).get("campaignId")


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events  # Iterable posts one event a request
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    fields: dict = {
        "email": event.email,
        "messageId": digest[:32],
        "createdAt": event.occurred_at.strftime("%Y-%m-%d %H:%M:%S +00:00"),
    }
    if event.send_id:
        fields["campaignId"] = _campaign_id(batch.hook.account, event.send_id)
    if event.url:
        fields["url"] = event.url
    return orjson.dumps({"email": event.email, "eventName": NAMES[event.kind],
                         "dataFields": fields})  # fmt: skip


WEBHOOKS = outbound.Outbound(
    topics=NAMES,
    render=_render,
    signer=PLATFORM,
    send_kinds=("campaign", "trigger"),
    audience=_audience_of,
    unsubscribe=outbound.unsubscribe_by_address(unsubscribed=True),
    in_app=inapp.InApp(
        events=tuple(NAMES.values()),
        secret=inapp.TYPED,
        secret_label="Auth Token (Auth Type: Basic)",
        page="Integrations → System Webhooks → Create Webhook",
    ),
)
