"""Crisp plugin hooks: signed JSON events (contact changes map to engagement).

Facts (../shared/platforms/crisp.md §9, webhook-signatures.md; source
https://docs.crisp.chat/references/web-hooks/v1/): X-Crisp-Signature = hex HMAC-SHA256(hooks
signature secret, "[" + X-Crisp-Request-Timestamp + ";" + body JSON string + "]"); the
official wrappers sign JSON.stringify of the parsed body, so the raw body is tried first and
then its compact re-serialisation. No tolerance documented: 5 minutes (timestamp in ms).
Body {"website_id", "event", "data", "timestamp"}.
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
    source="https://docs.crisp.chat/references/web-hooks/v1/",
    secret=WebhookSecret(
        "webhook_signing_secret",
        "Plugin hooks signature secret",
        "Crisp Marketplace → your plugin → Settings → Events: the hooks signature secret.",
    ),
    header="X-Crisp-Signature",
    message="[{timestamp};{body}]",
    timestamp_header="X-Crisp-Request-Timestamp",
    timestamp_unit="ms",
    reserialised_json=True,
    steps=(
        "In the Crisp Marketplace open your plugin → Settings → Events.",
        "Paste the webhook URL below and tick the people:profile:* events.",
        "Copy the hooks signature secret into this integration.",
    ),
)

EVENTS = {
    "people:profile:created": Kind.CONTACT_CREATED,
    "people:profile:updated": Kind.CONTACT_UPDATED,
    "people:profile:removed": Kind.CONTACT_DELETED,
    "session:set_email": Kind.CONTACT_UPDATED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    hook = json_body(body)
    if not isinstance(hook, dict):
        raise ValueError("a Crisp hook is one JSON object")
    data = hook.get("data") or {}
    kind = EVENTS.get(str(hook.get("event", "")))
    if hook.get("event") == "email:subscribe" and isinstance(data, dict):
        kind = Kind.CONTACT_UPDATED if data.get("subscribed", True) else Kind.UNSUBSCRIBED
    if kind is None:
        return []
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(hook.get("timestamp") or received_at.timestamp(), "any"),
            email=str(first(data, "email", "people.email")),
            platform_id=str(first(data, "people_id", "session_id")),
        )
    ]


class CrispWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
