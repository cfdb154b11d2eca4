"""Kit webhooks: the signed webhook endpoints, or the legacy unsigned hooks behind our own URL
token.

Facts (../shared/platforms/kit.md §10; sources https://developers.kit.com/webhooks/
verifying-signatures, https://developers.kit.com/api-reference/webhooks/create-a-webhook):
X-Kit-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>] (two v1 while a secret rotates), v1 =
hex HMAC-SHA256(endpoint secret, "<t>." + raw body), ~5 minutes. The legacy hooks
(/v4/webhooks) sign nothing (webhook-signatures.md). Signed deliveries: {"events": [{"type",
"data": {"subscriber": {...}}}]}; legacy: {"subscriber": {"id", "email_address", "state"}}.
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

URL_TOKEN = WebhookScheme(
    Method.URL_TOKEN,
    source="https://developers.kit.com/api-reference/webhooks/create-a-webhook",
    note="Kit's legacy webhooks carry no signature: the URL's token is the check.",
)
SCHEME = WebhookScheme(
    Method.HMAC,
    source="https://developers.kit.com/webhooks/verifying-signatures",
    secret=WebhookSecret(
        "webhook_signing_secret",
        "Webhook endpoint secret",
        "Returned once when a Kit webhook endpoint is created. Leave blank for legacy hooks: "
        "the token in the URL is checked instead.",
    ),
    header="X-Kit-Signature",
    fields=("t", "v1"),
    message="{timestamp}.{body}",
    fallback=URL_TOKEN,
    steps=(
        "Create a Kit webhook endpoint (Settings → Developer, or POST /v4/webhook_endpoints) "
        "with the webhook URL below and the subscriber events.",
        "Paste the secret Kit returns into this integration.",
    ),
)

TYPES = {
    "subscriber.created": Kind.CONTACT_CREATED,
    "subscriber.activated": Kind.CONTACT_UPDATED,
    "subscriber.unsubscribed": Kind.UNSUBSCRIBED,
    "subscriber.bounced": Kind.BOUNCED_HARD,
    "subscriber.complained": Kind.COMPLAINED,
}
# A legacy hook's body has no event type: the subscriber's state says what happened.
STATES = {
    "cancelled": Kind.UNSUBSCRIBED,
    "bounced": Kind.BOUNCED_HARD,
    "complained": Kind.COMPLAINED,
    "active": Kind.CONTACT_UPDATED,
}


def _event(kind, subscriber: dict, received_at, event_id: str = "") -> NormalisedEvent:
    return NormalisedEvent(
        kind=kind,
        occurred_at=received_at,
        event_id=event_id,
        email=str(first(subscriber, "email_address", "email")),
        platform_id=str(first(subscriber, "id")),
        data={"first_name": subscriber["first_name"]} if subscriber.get("first_name") else {},
    )


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    delivery = json_body(body)
    if not isinstance(delivery, dict):
        raise ValueError("a Kit webhook is one JSON object")
    if isinstance(delivery.get("subscriber"), dict):
        subscriber = delivery["subscriber"]
        kind = STATES.get(str(subscriber.get("state", "")))
        return [_event(kind, subscriber, received_at)] if kind else []
    out = []
    for item in delivery.get("events") or []:
        if not isinstance(item, dict) or (kind := TYPES.get(str(item.get("type")))) is None:
            continue
        subscriber = first(item, "data.subscriber", default={})
        moment = first(item, "created_at", "occurred_at")
        out.append(
            _event(
                kind, subscriber, when(moment) if moment else received_at, str(item.get("id", ""))
            )
        )
    return out


class KitWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
