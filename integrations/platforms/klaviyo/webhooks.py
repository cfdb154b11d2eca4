"""Klaviyo system webhooks: signed, batched event deliveries.

Facts (../shared/platforms/klaviyo.md §10, webhook-signatures.md; source
https://developers.klaviyo.com/en/docs/working_with_system_webhooks): headers
Klaviyo-Webhook-Id, Klaviyo-Timestamp, Klaviyo-Signature = hex HMAC-SHA256(secret_key set at
creation, raw body + Klaviyo-Timestamp) — body first, no separator (from several independent
implementations: verify with a test delivery). Timestamp seen as HTTP-date and ISO: parsed
leniently, 5 minutes. Body {"data": [{"external_id", "topic": "event:klaviyo.opened_email",
"payload": {...as Get Event...}}], "meta": {...}}.
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
    source="https://developers.klaviyo.com/en/docs/working_with_system_webhooks",
    secret=WebhookSecret(
        "webhook_secret_key",
        "Webhook secret key",
        "The secret_key given when the webhook was created (Klaviyo → Settings → Webhooks, "
        "or the Webhooks API).",
    ),
    header="Klaviyo-Signature",
    message="{body}{timestamp}",
    timestamp_header="Klaviyo-Timestamp",
    timestamp_unit="any",
    # "a mismatch indicates tampering" (Klaviyo's guide, via klaviyo.md §10)
    body_matches_header=("meta.klaviyo_webhook_id", "Klaviyo-Webhook-Id"),
    steps=(
        "In Klaviyo (Settings → Webhooks, CDP accounts) or with the Webhooks API create a "
        "webhook with the URL below and the email topics.",
        "Give it a long random secret key and paste the same key into this integration.",
    ),
)

TOPICS = {
    "event:klaviyo.received_email": Kind.DELIVERED,
    "event:klaviyo.email_delivered": Kind.DELIVERED,
    "event:klaviyo.opened_email": Kind.OPENED,
    "event:klaviyo.clicked_email": Kind.CLICKED,
    "event:klaviyo.bounced_email": Kind.BOUNCED_HARD,
    "event:klaviyo.marked_email_as_spam": Kind.COMPLAINED,
    "event:klaviyo.unsubscribed_from_email_marketing": Kind.UNSUBSCRIBED,
    "event:klaviyo.unsubscribed": Kind.UNSUBSCRIBED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    delivery = json_body(body)
    if not isinstance(delivery, dict) or not isinstance(delivery.get("data"), list):
        raise ValueError("a Klaviyo webhook is {'data': [...], 'meta': {...}}")
    out = []
    for item in delivery["data"]:
        if not isinstance(item, dict) or (kind := TOPICS.get(str(item.get("topic")))) is None:
            continue
        payload = item.get("payload") or {}
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(
                    first(payload, "datetime", "attributes.datetime", "timestamp")
                    or received_at.timestamp()
                ),
                event_id=str(item.get("external_id") or ""),
                email=str(first(payload, "email", "profile.email", "attributes.profile.email")),
                platform_id=str(first(payload, "profile_id", "profile.id")),
                remote_campaign_id=str(
                    first(
                        payload, "event_properties.$message", "attributes.event_properties.$message"
                    )
                ),
                url=str(first(payload, "event_properties.URL", "attributes.event_properties.URL")),
            )
        )
    return out


class KlaviyoWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
