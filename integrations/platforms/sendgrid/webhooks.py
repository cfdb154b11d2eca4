"""SendGrid Event Webhook: batched JSON arrays, signed with ECDSA (P-256, SHA-256).

Facts (../shared/platforms/sendgrid.md §10, webhook-signatures.md; source
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
X-Twilio-Email-Event-Webhook-Signature (base64 DER ECDSA) over timestamp header + raw body
(no separator), public key base64 DER SubjectPublicKeyInfo from the signed-webhook settings.
Tolerance not documented: 5 minutes. Events: email, timestamp (seconds; Single Sends show
ms), event, sg_event_id, url (click), type bounce|blocked (bounce), singlesend_id.
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
    Method.ECDSA,
    source="https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/"
    "getting-started-event-webhook-security-features",
    secret=WebhookSecret(
        "webhook_public_key",
        "Event Webhook verification key",
        "SendGrid → Settings → Mail Settings → Event Webhook → Signature verification: the "
        "public key (base64).",
    ),
    header="X-Twilio-Email-Event-Webhook-Signature",
    message="{timestamp}{body}",
    timestamp_header="X-Twilio-Email-Event-Webhook-Timestamp",
    steps=(
        "In SendGrid open Settings → Mail Settings → Event Webhook and create a webhook.",
        "Paste the webhook URL below as its Post URL and tick the events.",
        "Enable Signed Event Webhook and copy the verification key into this integration.",
    ),
)

EVENTS = {
    "delivered": Kind.DELIVERED,
    "open": Kind.OPENED,
    "click": Kind.CLICKED,
    "spamreport": Kind.COMPLAINED,
    "unsubscribe": Kind.UNSUBSCRIBED,
    "group_unsubscribe": Kind.UNSUBSCRIBED,
}


def _kind(event: dict) -> Kind | None:
    if event.get("event") == "bounce":
        return Kind.BOUNCED_SOFT if event.get("type") == "blocked" else Kind.BOUNCED_HARD
    return EVENTS.get(str(event.get("event", "")))


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    events = json_body(body)
    if not isinstance(events, list):
        raise ValueError("a SendGrid Event Webhook body is a JSON array")
    out = []
    for event in events:
        if not isinstance(event, dict) or (kind := _kind(event)) is None:
            continue
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(event.get("timestamp") or received_at.timestamp()),
                event_id=str(event.get("sg_event_id") or ""),
                email=str(event.get("email") or ""),
                remote_campaign_id=str(first(event, "singlesend_id", "campaign_id")),
                url=str(event.get("url") or ""),
            )
        )
    return out


class SendGridWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
