"""Drift webhooks: unsigned; the app's static Verification Token in a header.

Facts (../shared/platforms/drift.md §9, webhook-signatures.md; source
https://devdocs.drift.com/docs/webhook-events-1): no HMAC and no timestamp; the app's
Verification Token is sent as X-Verification-Token (and as "token" in the body). Body {"type",
"token", "orgId", "data"}; contact_updated data {"endUserId", "timestamp" (ms), "diff":
[{"name": "attributes.email", "previous", "updated"}]}.
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
    Method.TOKEN,
    source="https://devdocs.drift.com/docs/webhook-events-1",
    secret=WebhookSecret(
        "webhook_verification_token",
        "Drift verification token",
        "dev.drift.com → your app → App Credentials: Verification Token.",
    ),
    header="X-Verification-Token",
    note="Drift signs nothing: its static verification token is the check.",
    # The token also rides in the body: the inbox stores bodies with every stored secret's
    # value blanked (integrations/services/webhooks.py).
    steps=(
        "On dev.drift.com open your app → Events, paste the webhook URL below and tick "
        "contact_identified and contact_updated.",
        "Copy the app's Verification Token (App Credentials) into this integration.",
    ),
)

EVENTS = {"contact_identified": Kind.CONTACT_UPDATED, "contact_updated": Kind.CONTACT_UPDATED}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    event = json_body(body)
    if not isinstance(event, dict):
        raise ValueError("a Drift webhook is one JSON object")
    kind = EVENTS.get(str(event.get("type", "")))
    if kind is None:
        return []
    data = event.get("data") or {}
    email = first(data, "attributes.email", "email")
    for change in data.get("diff") or [] if isinstance(data, dict) else []:
        if isinstance(change, dict) and change.get("name") == "attributes.email":
            email = change.get("updated") or email
    moment = first(data, "timestamp", "updatedAt", "createdAt")
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(moment, "ms") if moment else received_at,
            email=str(email or ""),
            platform_id=str(first(data, "endUserId", "id")),
        )
    ]


class DriftWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
