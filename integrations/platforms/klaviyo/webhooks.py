"""Klaviyo system webhooks: signed, batched event deliveries.

Facts (../shared/platforms/klaviyo.md §10, webhook-signatures.md; source
https://developers.klaviyo.com/en/docs/working_with_system_webhooks): headers
Klaviyo-Webhook-Id, Klaviyo-Timestamp, Klaviyo-Signature = hex HMAC-SHA256(secret_key set at
creation, raw body + Klaviyo-Timestamp) — body first, no separator (from several independent
implementations: verify with a test delivery). Timestamp seen as HTTP-date and ISO: parsed
leniently, 5 minutes. Body {"data": [{"external_id", "topic": "event:klaviyo.opened_email",
"payload": {...as Get Event...}}], "meta": {...}}.

Registration (klaviyo.md §10; specs/klaviyo/stable.json `create_webhook`): `POST /api/webhooks`
{"data": {"type": "webhook", "attributes": {"name", "description", "endpoint_url" (https),
"secret_key"}, "relationships": {"webhook-topics": {"data": [{"type": "webhook-topic", "id"}]}}}}
→ 201; the secret key is the console's own (made, stored encrypted, then sent). The account's
topics come from `GET /api/webhook-topics` (they follow its metrics); `GET /api/webhooks` shows
`endpoint_url` truncated, so the console finds its hook again by name. 1/s, 15/m each; OAuth
apps and CDP accounts only (scopes webhooks:read / webhooks:write).
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.klaviyo.api import API
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    first,
    json_body,
    when,
)
from integrations.platforms.webhook_registration import (
    RemoteWebhook,
    WebhookRegistration,
    hook_name,
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


REGISTRATION = WebhookRegistration(
    source="https://developers.klaviyo.com/en/docs/working_with_system_webhooks",
    events=(
        "event:klaviyo.email_delivered",
        "event:klaviyo.opened_email",
        "event:klaviyo.clicked_email",
        "event:klaviyo.bounced_email",
        "event:klaviyo.marked_email_as_spam",
        "event:klaviyo.unsubscribed_from_email_marketing",
    ),
    console_secret=SCHEME.secret.key,
)
RATE = "webhooks"


def _remote(item: dict, *, created: bool = False) -> RemoteWebhook:
    attributes = item.get("attributes") or {}
    topics = first(item, "relationships.webhook-topics.data", default=[]) or []
    return RemoteWebhook(
        str(item.get("id", "")),
        url=str(attributes.get("endpoint_url") or ""),
        name=str(attributes.get("name") or ""),
        events=tuple(str(t.get("id")) for t in topics if isinstance(t, dict)),
        active=attributes.get("enabled", True) is not False,
        created=created,
    )


class KlaviyoWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    def registered_webhooks(self) -> list[RemoteWebhook]:
        data = self.request(
            "GET", API, "/api/webhooks", params={"include": "webhook-topics"}, rate=RATE
        ).json()
        return [_remote(item) for item in data.get("data") or [] if isinstance(item, dict)]

    def webhook_topics(self) -> set[str]:
        data = self.request("GET", API, "/api/webhook-topics", rate=RATE).json()
        return {str(item.get("id")) for item in data.get("data") or [] if isinstance(item, dict)}

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        available = self.webhook_topics()
        topics = [topic for topic in events if topic in available]
        if not topics:
            raise ValidationFailed(
                "Klaviyo offers this account none of the email topics the console takes "
                f"({', '.join(events)}); it has: {', '.join(sorted(available)) or 'none'}."
            )
        body = {
            "data": {
                "type": "webhook",
                "attributes": {
                    "name": hook_name(url),
                    "description": "Email engagement for the SharpSend console",
                    "endpoint_url": url,
                    "secret_key": secret,
                },
                "relationships": {
                    "webhook-topics": {
                        "data": [{"type": "webhook-topic", "id": topic} for topic in topics]
                    }
                },
            }
        }
        data = self.request(
            "POST", API, "/api/webhooks", json=body, ok=(201,), rate=RATE, repeatable=False
        ).json()
        return _remote(data.get("data") or {}, created=True)
