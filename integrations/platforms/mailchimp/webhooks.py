"""Mailchimp audience webhooks: form-encoded, signed where the webhook was created with
signing, otherwise protected by our own token in the URL.

Facts (../shared/platforms/mailchimp.md §10, webhook-signatures.md; sources
https://github.com/mailchimp/fern-marketing-api-docs/blob/main/fern/docs/pages/api-concepts/webhooks.mdx,
https://mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks/):
X-Mailchimp-Signature: t=<unix>,v1=<hex>, v1 = hex HMAC-SHA256(signing_secret, "<t>." + raw
body), reject beyond 300 s. Older webhooks are unsigned. Body type=subscribe|unsubscribe|
profile|upemail|cleaned|campaign&fired_at=2009-03-26 21:35:57&data[email]=…; cleaned has
data[reason] hard|abuse; no delivery id (dedupe on type + data[id] + fired_at). The URL is
probed with a GET when the webhook is saved.

Registration (mailchimp.md §10): `POST /3.0/lists/{list_id}/webhooks {"url", "events":
{"subscribe": true, …}, "sources": {"user": true, "admin": true, "api": false}}` — sources
always explicit, `api: false` so the console's own writes are not echoed back; a webhook
created with signing answers its one-time `signing_secret` (kept, then deliveries are checked
by signature; without it the URL's token is the check). Listing: `GET …/webhooks` →
{"webhooks": [the create answer's shape]} (Mailchimp's API reference; not in the fact sheet).
"""

from __future__ import annotations

import hashlib
from urllib.parse import parse_qs

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    when,
)
from integrations.platforms.webhook_registration import RemoteWebhook, WebhookRegistration
from integrations.platforms.webhooks import (
    Method,
    WebhookScheme,
    WebhookSecret,
)

URL_TOKEN = WebhookScheme(
    Method.URL_TOKEN,
    source="https://mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks/",
    content_types=("application/x-www-form-urlencoded",),
    note="Webhooks created without signing carry no signature: the URL's token is the check.",
)
SCHEME = WebhookScheme(
    Method.HMAC,
    source="https://github.com/mailchimp/fern-marketing-api-docs/blob/main/fern/docs/pages/"
    "api-concepts/webhooks.mdx",
    secret=WebhookSecret(
        "webhook_signing_secret",
        "Webhook signing secret",
        "Shown once when a signed Mailchimp webhook is created. Leave blank for an unsigned "
        "webhook: the token in the URL is checked instead.",
    ),
    header="X-Mailchimp-Signature",
    fields=("t", "v1"),
    message="{timestamp}.{body}",
    content_types=("application/x-www-form-urlencoded",),
    fallback=URL_TOKEN,
    steps=(
        "In Mailchimp open Audience → Settings → Webhooks → Create New Webhook.",
        "Paste the webhook URL below (with its token); tick the events and untick “by the API”.",
        "If Mailchimp shows a signing secret, paste it into this integration.",
    ),
)

TYPES = {
    "subscribe": Kind.CONTACT_CREATED,
    "unsubscribe": Kind.UNSUBSCRIBED,
    "profile": Kind.CONTACT_UPDATED,
    "upemail": Kind.CONTACT_UPDATED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    try:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8"), strict_parsing=True).items()}
    except (UnicodeDecodeError, ValueError):
        raise ValueError("a Mailchimp webhook is a form-encoded body") from None
    kind = TYPES.get(form.get("type", ""))
    if form.get("type") == "cleaned":
        kind = Kind.COMPLAINED if form.get("data[reason]") == "abuse" else Kind.BOUNCED_HARD
    if kind is None:
        return []
    fired = form.get("fired_at", "")
    identity = "|".join((form.get("type", ""), form.get("data[id]", ""), fired))
    merges = {
        key[len("data[merges][") : -1]: value
        for key, value in form.items()
        if key.startswith("data[merges][")
    }
    data = {"first_name": merges.get("FNAME", ""), "last_name": merges.get("LNAME", "")}
    return [
        NormalisedEvent(
            kind=kind,
            occurred_at=when(fired) if fired else received_at,
            event_id=hashlib.sha256(identity.encode()).hexdigest()[:40],
            email=form.get("data[new_email]") or form.get("data[email]", ""),
            platform_id=form.get("data[id]", ""),
            remote_campaign_id=form.get("data[campaign_id]", ""),
            data={k: v for k, v in data.items() if v},
        )
    ]


# The audience events a webhook can fire on (mailchimp.md §10; the SMS ones are beta).
EVENTS = ("subscribe", "unsubscribe", "profile", "cleaned", "upemail", "campaign")
SIGNING_SECRET = SCHEME.secret.key
REGISTRATION = WebhookRegistration(
    source="https://mailchimp.com/developer/marketing/guides/sync-audience-data-webhooks/",
    events=("subscribe", "unsubscribe", "profile", "cleaned", "upemail"),
    issued=(SIGNING_SECRET,),
)


def _remote(data: dict, *, created: bool = False) -> RemoteWebhook:
    signing = str(data.get("signing_secret") or "")
    return RemoteWebhook(
        str(data.get("id", "")),
        url=str(data.get("url") or ""),
        events=tuple(name for name, on in (data.get("events") or {}).items() if on),
        created=created,
        issued={SIGNING_SECRET: signing} if signing else {},
    )


class MailchimpWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    def registered_webhooks(self) -> list[RemoteWebhook]:
        data = self.request("GET", API, f"{self.list_path}/webhooks").json()
        return [_remote(hook) for hook in data.get("webhooks") or [] if isinstance(hook, dict)]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        body = {
            "url": url,
            "events": {name: name in events for name in EVENTS},
            "sources": {"user": True, "admin": True, "api": False},
        }
        data = self.request(
            "POST", API, f"{self.list_path}/webhooks", json=body, repeatable=False
        ).json()
        return _remote(data, created=True)
