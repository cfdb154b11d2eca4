"""Iterable system webhooks: unsigned; a shared token in the Authorization header.

Facts (../shared/platforms/iterable.md §10, webhook-signatures.md; source
https://support.iterable.com/hc/en-us/articles/208013936-System-Webhooks-): no HMAC. Auth Type
"Basic" sends the token raw (Authorization: <token>, no "Basic " prefix), "OAuth2" sends
Authorization: OAuth2 <token>; no timestamp. One event a POST: {"email", "eventName":
"emailOpen" | "emailClick" | "emailBounce" | "emailComplaint" | "emailUnSubscribe" | …,
"dataFields": {"campaignId", "messageId", "createdAt", "url", …}}.
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
    source="https://support.iterable.com/hc/en-us/articles/208013936-System-Webhooks-",
    header="Authorization",
    prefixes=("", "OAuth2 "),
    note="Iterable signs nothing: the token it sends in Authorization is the check.",
    steps=(
        "In Iterable open Integrations → System Webhooks → Create Webhook.",
        "Paste the webhook URL below, choose Auth Type Basic and paste the token shown here "
        "as the Auth Token; tick the email events.",
    ),
)

EVENTS = {
    "emailSend": Kind.DELIVERED,
    "emailOpen": Kind.OPENED,
    "emailClick": Kind.CLICKED,
    "emailBounce": Kind.BOUNCED_HARD,
    "emailComplaint": Kind.COMPLAINED,
    "emailUnSubscribe": Kind.UNSUBSCRIBED,
    "hostedUnsubscribeClick": Kind.UNSUBSCRIBED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    event = json_body(body)
    if not isinstance(event, dict):
        raise ValueError("an Iterable system webhook is one JSON object")
    kind = EVENTS.get(str(event.get("eventName", "")))
    if kind is None:
        return []
    fields = event.get("dataFields") or {}
    created = first(fields, "createdAt")
    message = str(first(fields, "messageId"))
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(str(created).replace(" +00:00", "+00:00")) if created else received_at,
            event_id=f"{event.get('eventName')}:{message}" if message else "",
            email=str(first(event, "email", "dataFields.email")),
            platform_id=str(first(event, "userId")),
            remote_campaign_id=str(first(fields, "campaignId")),
            url=str(first(fields, "url")),
        )
    ]


class IterableWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
