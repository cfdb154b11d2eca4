"""Customer.io Reporting Webhooks: one signed event per POST.

Facts (../shared/platforms/customerio.md §10, webhook-signatures.md; source
https://docs.customer.io/integrations/data-out/connections/webhooks/): headers X-CIO-Timestamp
(Unix seconds) and X-CIO-Signature = hex HMAC-SHA256(signing key, "v0:" + timestamp + ":" +
raw body). Tolerance not documented: 5 minutes. Body {"event_id", "object_type", "metric",
"timestamp", "data": {"identifiers": {"email"}, "recipient", "href", "newsletter_id" |
"campaign_id" | "broadcast_id", ...}}.

Registration (customerio.md §10; specs/customerio/cio_journeys_app_api.json, createWebhook and
listWebhooks): App API `POST /v1/reporting_webhooks {"name", "endpoint", "events", "disabled",
"full_resolution", "with_content"}` → 200 with the webhook and its `id`; `GET
/v1/reporting_webhooks` → {"reporting_webhooks": [...]}. Neither returns the signing key: it is
shown on the webhook's page in Customer.io, so a person copies it into the integration.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP
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
            remote_send_id=str(first(data, "trigger_id")),
            url=str(first(data, "href")),
        )
    ]


REGISTRATION = WebhookRegistration(
    source="https://docs.customer.io/api/app/",
    events=(
        "email_delivered",
        "email_opened",
        "email_clicked",
        "email_bounced",
        "email_spammed",
        "email_unsubscribed",
        "customer_unsubscribed",
        "customer_subscribed",
    ),
    secret_by_hand=(
        "Customer.io's API does not hand out the webhook's signing key: copy it from "
        "Customer.io → Data & Integrations → Reporting Webhooks → the webhook into this "
        "integration's webhook signing key (until then its deliveries are refused and "
        "Customer.io holds them back and retries)."
    ),
)


def _remote(item: dict, *, created: bool = False) -> RemoteWebhook:
    return RemoteWebhook(
        str(item.get("id", "")),
        url=str(item.get("endpoint") or ""),
        name=str(item.get("name") or ""),
        events=tuple(str(e) for e in item.get("events") or ()),
        active=not item.get("disabled", False),
        created=created,
    )


class CustomerIoWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def registered_webhooks(self) -> list[RemoteWebhook]:
        data = self.request("GET", APP, "/v1/reporting_webhooks").json()
        hooks = data.get("reporting_webhooks") if isinstance(data, dict) else None
        return [_remote(item) for item in hooks or [] if isinstance(item, dict)]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        body = {
            "name": hook_name(url),
            "endpoint": url,
            "events": list(events),
            "disabled": False,
            # Every open and click, not only the first (the console counts unique ones itself).
            "full_resolution": True,
            "with_content": False,
        }
        data = self.request(
            "POST", APP, "/v1/reporting_webhooks", json=body, repeatable=False
        ).json()
        return _remote(data if isinstance(data, dict) else {}, created=True)

    def adopt_webhook(self, hook, url, secret, events) -> RemoteWebhook:
        """A hook of ours that was switched off (by a person, or by Customer.io after failing
        deliveries) is switched on again with the events the console takes."""
        if hook.active:
            return hook
        body = {"name": hook.name or hook_name(url), "endpoint": hook.url or url,
                "events": sorted({*hook.events, *events}), "disabled": False}  # fmt: skip
        data = self.request("PUT", APP, f"/v1/reporting_webhooks/{hook.remote_id}", json=body)
        return _remote(data.json() if data.content else {**body, "id": hook.remote_id})

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    @classmethod
    def webhook_delivery_id(cls, body: bytes) -> str:
        try:
            return str(json_body(body).get("event_id") or "")
        except (ValueError, AttributeError):
            return ""
