"""Braze Currents (custom HTTP connector): unsigned batches; our bearer token is the check.

Facts (../shared/platforms/braze.md §10, webhook-signatures.md; source
https://www.braze.com/docs/user_guide/data/distribution/braze_currents/setting_up_currents/custom_http_connector/):
no signature; an optional Authorization: Bearer <token> you configure. Body {"events": [{
"event_type": "users.messages.email.Open", "id", "time" (epoch seconds), "user": {...},
"properties": {"campaign_id", "email_address", "url", ...}}]}, up to 100; at-least-once
(dedupe on id).
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
)

SCHEME = WebhookScheme(
    Method.TOKEN,
    source="https://www.braze.com/docs/user_guide/data/distribution/braze_currents/"
    "setting_up_currents/custom_http_connector/",
    header="Authorization",
    prefixes=("Bearer ",),
    note="Braze signs nothing: the bearer token set on the Current is the check.",
    steps=(
        "In Braze open Partner Integrations → Data Export → Create Current → Custom Currents "
        "Export.",
        "Paste the webhook URL below as the endpoint and the token shown here as the Bearer "
        "token; choose the email engagement events.",
    ),
)

EVENTS = {
    "users.messages.email.Delivery": Kind.DELIVERED,
    "users.messages.email.Open": Kind.OPENED,
    "users.messages.email.Click": Kind.CLICKED,
    "users.messages.email.Bounce": Kind.BOUNCED_HARD,
    "users.messages.email.SoftBounce": Kind.BOUNCED_SOFT,
    "users.messages.email.MarkAsSpam": Kind.COMPLAINED,
    "users.messages.email.Unsubscribe": Kind.UNSUBSCRIBED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    delivery = json_body(body)
    if not isinstance(delivery, dict) or not isinstance(delivery.get("events"), list):
        raise ValueError("a Braze Currents delivery is {'events': [...]}")
    out = []
    for event in delivery["events"]:
        if not isinstance(event, dict):
            continue
        if (kind := EVENTS.get(str(event.get("event_type", "")))) is None:
            continue
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(event.get("time") or received_at.timestamp(), "s"),
                event_id=str(event.get("id") or ""),
                email=str(first(event, "properties.email_address")),
                platform_id=str(first(event, "user.external_user_id", "user.user_id")),
                remote_campaign_id=str(first(event, "properties.campaign_id")),
                url=str(first(event, "properties.url", "properties.link_url")),
            )
        )
    return out


class BrazeWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
