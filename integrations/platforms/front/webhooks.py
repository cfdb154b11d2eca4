"""Front application webhooks: signed envelopes of Front events (a shared inbox, so only
bounces map to engagement).

Facts (../shared/platforms/front.md §9, webhook-signatures.md; source
https://dev.frontapp.com/docs/application-webhooks): X-Front-Signature = base64
HMAC-SHA256(app secret, X-Front-Request-Timestamp + ":" + raw body), timestamp in ms; Front
recommends 5 minutes. Setup sends X-Front-Challenge, answered 200 with the value (JSON
{"challenge": …}: the exact form is unconfirmed). Envelope {"type", "authorization": {"id"},
"payload": {"id", "type", "emitted_at", "conversation", "target"}}.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    first,
    json_body,
    when,
)
from integrations.platforms.webhooks import (
    Method,
    WebhookScheme,
    WebhookSecret,
)

SCHEME = WebhookScheme(
    Method.HMAC,
    source="https://dev.frontapp.com/docs/application-webhooks",
    secret=WebhookSecret(
        "webhook_app_secret",
        "Front app secret",
        "Front → Settings → Developers → your app → Basic information: App secret.",
    ),
    header="X-Front-Signature",
    encoding="base64",
    message="{timestamp}:{body}",
    timestamp_header="X-Front-Request-Timestamp",
    timestamp_unit="ms",
    handshake_header="X-Front-Challenge",
    handshake_reply="json",
    steps=(
        "In Front open Settings → Developers → your app → Webhooks and enable the feature.",
        "Paste the webhook URL below; Front's challenge is answered automatically.",
        "Copy the app secret (Basic information) into this integration.",
    ),
)

EVENTS = {"message_bounce_error": Kind.BOUNCED_SOFT}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    envelope = json_body(body)
    if not isinstance(envelope, dict):
        raise ValueError("a Front webhook is one JSON object")
    payload = envelope.get("payload") or {}
    kind = EVENTS.get(str(first(payload, "type") or envelope.get("type", "")))
    if kind is None:
        return []
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(first(payload, "emitted_at", default=received_at.timestamp())),
            event_id=str(first(payload, "id")),
            email=str(first(payload, "conversation.recipient.handle", "target.data.handle")),
        )
    ]


class FrontWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    @classmethod
    def webhook_delivery_id(cls, body: bytes) -> str:
        try:
            return str(first(json_body(body), "payload.id"))
        except ValueError:
            return ""
