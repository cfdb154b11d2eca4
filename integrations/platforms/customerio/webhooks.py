"""Customer.io Reporting Webhooks: one signed event per POST.

Facts (../shared/platforms/customerio.md §10, webhook-signatures.md; source
https://docs.customer.io/integrations/data-out/connections/webhooks/): headers X-CIO-Timestamp
(Unix seconds) and X-CIO-Signature = hex HMAC-SHA256(signing key, "v0:" + timestamp + ":" +
raw body). Tolerance not documented: 5 minutes. Body {"event_id", "object_type", "metric",
"timestamp", "data": {"identifiers": {"email"}, "recipient", "href", "newsletter_id" |
"campaign_id" | "broadcast_id", ...}}.
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
    source="https://docs.customer.io/integrations/data-out/connections/webhooks/",
    secret=WebhookSecret(
        "webhook_signing_key",
        "Webhook signing key",
        "Customer.io → Data & Integrations → Reporting Webhooks → the webhook: signing key.",
    ),
    header="X-CIO-Signature",
    message="v0:{timestamp}:{body}",
    timestamp_header="X-CIO-Timestamp",
    steps=(
        "In Customer.io open Data & Integrations → Reporting Webhooks and add a webhook.",
        "Paste the webhook URL below as its endpoint and choose the email events.",
        "Copy the webhook's signing key into this integration's webhook signing key.",
    ),
)

EMAIL_METRICS = {
    "delivered": Kind.DELIVERED,
    "opened": Kind.OPENED,
    "clicked": Kind.CLICKED,
    "bounced": Kind.BOUNCED_HARD,
    "spammed": Kind.COMPLAINED,
    "unsubscribed": Kind.UNSUBSCRIBED,
}
CUSTOMER_METRICS = {"unsubscribed": Kind.UNSUBSCRIBED, "subscribed": Kind.CONTACT_UPDATED}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    event = json_body(body)
    if not isinstance(event, dict):
        raise ValueError("a Customer.io reporting webhook is one JSON object")
    table = CUSTOMER_METRICS if event.get("object_type") == "customer" else EMAIL_METRICS
    kind = table.get(str(event.get("metric", "")))
    if kind is None:
        return []
    data = event.get("data") or {}
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(event.get("timestamp") or received_at.timestamp(), "s"),
            event_id=str(event.get("event_id") or ""),
            email=str(first(data, "identifiers.email", "recipient", "email_address")),
            platform_id=str(first(data, "customer_id", "identifiers.id")),
            remote_campaign_id=str(first(data, "newsletter_id", "campaign_id", "broadcast_id")),
            url=str(first(data, "href")),
        )
    ]


class CustomerIoWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    @classmethod
    def webhook_delivery_id(cls, body: bytes) -> str:
        try:
            return str(json_body(body).get("event_id") or "")
        except (ValueError, AttributeError):
            return ""
