"""Kit webhooks: the signed webhook endpoints, or the legacy unsigned hooks behind our own URL
token.

Facts (../shared/platforms/kit.md §10; sources https://developers.kit.com/webhooks/
verifying-signatures, https://developers.kit.com/api-reference/webhooks/create-a-webhook):
X-Kit-Signature: t=<unix seconds>,v1=<hex>[,v1=<hex>] (two v1 while a secret rotates), v1 =
hex HMAC-SHA256(endpoint secret, "<t>." + raw body), ~5 minutes. The legacy hooks
(/v4/webhooks) sign nothing (webhook-signatures.md). Signed deliveries: {"events": [{"type",
"data": {"subscriber": {...}}}]}; legacy: {"subscriber": {"id", "email_address", "state"}}.

Registration (kit.md §10; https://developers.kit.com/api-reference/webhooks/create-a-webhook-
endpoint, .../list-webhook-endpoints, .../update-a-webhook-endpoint): `POST
/v4/webhook_endpoints {"url", "events", "name", "description"}`; the answer holds the endpoint's
signing `secret`, the only time it is given in plain text; `GET /v4/webhook_endpoints` pages
with the cursor every v4 list shares (`status` active|disabled); `PUT .../{id}` with `events`
replaces the set. Kit wraps one object under its singular name (`{"tag": {...}}`) and lists
under the plural elsewhere in v4: the envelope `webhook_endpoint(s)` is read that way, and an
unwrapped object is taken too (the pages show no answer body).
"""

from __future__ import annotations

from integrations.platforms.kit.api import API, KitPaging
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


REGISTRATION = WebhookRegistration(
    source="https://developers.kit.com/api-reference/webhooks/create-a-webhook-endpoint",
    events=tuple(TYPES),
    issued=(SCHEME.secret.key,),
)
ENDPOINTS = "/v4/webhook_endpoints"


def _remote(item: dict, *, created: bool = False) -> RemoteWebhook:
    item = item.get("webhook_endpoint", item) if isinstance(item, dict) else {}
    secret = item.get("secret")
    return RemoteWebhook(
        str(item.get("id", "")),
        url=str(item.get("url") or ""),
        name=str(item.get("name") or ""),
        events=tuple(str(e) for e in item.get("events") or ()),
        active=str(item.get("status") or "active") == "active",
        status=str(item.get("status") or ""),
        created=created,
        issued={SCHEME.secret.key: secret} if isinstance(secret, str) and secret else {},
    )


class KitWebhooks(KitPaging):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def registered_webhooks(self) -> list[RemoteWebhook]:
        return [_remote(item) for item in self._pages(ENDPOINTS, "webhook_endpoints")]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        body = {
            "url": url,
            "events": list(events),
            "name": hook_name(url),
            "description": "Subscriber changes for the SharpSend console",
        }
        response = self.request("POST", API, ENDPOINTS, json=body, ok=(200, 201),
                                repeatable=False)  # fmt: skip
        return _remote(response.json(), created=True)

    def adopt_webhook(self, hook, url, secret, events) -> RemoteWebhook:
        """Our endpoint found again: its events set to the console's where they differ. Its
        secret is not given again (only a rotation would): the one stored at creation stays."""
        if set(events) <= set(hook.events):
            return hook
        body = {"events": sorted({*hook.events, *events})}
        response = self.request("PUT", API, f"{ENDPOINTS}/{hook.remote_id}", json=body)
        return _remote(response.json())

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
