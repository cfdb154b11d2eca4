"""SendGrid Event Webhook: batched JSON arrays, signed with ECDSA (P-256, SHA-256).

Facts (../shared/platforms/sendgrid.md §10, webhook-signatures.md; source
https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
X-Twilio-Email-Event-Webhook-Signature (base64 DER ECDSA) over timestamp header + raw body
(no separator), public key base64 DER SubjectPublicKeyInfo from the signed-webhook settings.
Tolerance not documented: 5 minutes. Events: email, timestamp (seconds; Single Sends show
ms), event, sg_event_id, url (click), type bounce|blocked (bounce), singlesend_id.

Registration (sendgrid.md §10; the spec tsg_webhooks_v3.json at twilio/sendgrid-oai): several
webhooks per account — `POST /v3/user/webhooks/event/settings {"enabled", "url", one boolean
per event, "friendly_name"}` → 201 with its `id`; `GET .../settings/all` → {"webhooks": [...]}
(`public_key` only where signing is on); signing cannot be asked for at creation: `PATCH
.../settings/signed/{id} {"enabled": true}` → {"id", "public_key"} (kept as the verification
key). Deliveries made before the key is stored are refused, and SendGrid retries them.
"""

from __future__ import annotations

from dataclasses import replace

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.sendgrid.api import API
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
    Method.ECDSA,
    source="https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/"
    "getting-started-event-webhook-security-features",
    secret=WebhookSecret(
        "webhook_public_key",
        "Event Webhook verification key",
        "SendGrid → Settings → Mail Settings → Event Webhook → Signature verification: the "
        "public key (base64).",
    ),
    header="X-Twilio-Email-Event-Webhook-Signature",
    message="{timestamp}{body}",
    timestamp_header="X-Twilio-Email-Event-Webhook-Timestamp",
    steps=(
        "In SendGrid open Settings → Mail Settings → Event Webhook and create a webhook.",
        "Paste the webhook URL below as its Post URL and tick the events.",
        "Enable Signed Event Webhook and copy the verification key into this integration.",
    ),
)

EVENTS = {
    "delivered": Kind.DELIVERED,
    "open": Kind.OPENED,
    "click": Kind.CLICKED,
    "spamreport": Kind.COMPLAINED,
    "unsubscribe": Kind.UNSUBSCRIBED,
    "group_unsubscribe": Kind.UNSUBSCRIBED,
}


def _kind(event: dict) -> Kind | None:
    if event.get("event") == "bounce":
        return Kind.BOUNCED_SOFT if event.get("type") == "blocked" else Kind.BOUNCED_HARD
    return EVENTS.get(str(event.get("event", "")))


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    events = json_body(body)
    if not isinstance(events, list):
        raise ValueError("a SendGrid Event Webhook body is a JSON array")
    out = []
    for event in events:
        if not isinstance(event, dict) or (kind := _kind(event)) is None:
            continue
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(event.get("timestamp") or received_at.timestamp()),
                event_id=str(event.get("sg_event_id") or ""),
                email=str(event.get("email") or ""),
                remote_campaign_id=str(first(event, "singlesend_id", "campaign_id")),
                url=str(event.get("url") or ""),
            )
        )
    return out


SETTINGS = "/v3/user/webhooks/event/settings"
# Every event flag of a webhook's settings (the spec's EventWebhookRequest).
EVENT_FLAGS = (
    "processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spam_report",
    "unsubscribe", "group_unsubscribe", "group_resubscribe",
)  # fmt: skip
PUBLIC_KEY = SCHEME.secret.key
REGISTRATION = WebhookRegistration(
    source="https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/"
    "getting-started-event-webhook-security-features",
    events=(
        "delivered",
        "bounce",
        "open",
        "click",
        "spam_report",
        "unsubscribe",
        "group_unsubscribe",
    ),  # fmt: skip
    issued=(PUBLIC_KEY,),
)


def _remote(data: dict, *, created: bool = False) -> RemoteWebhook:
    key = str(data.get("public_key") or "")
    return RemoteWebhook(
        str(data.get("id", "")),
        url=str(data.get("url") or ""),
        name=str(data.get("friendly_name") or ""),
        events=tuple(flag for flag in EVENT_FLAGS if data.get(flag)),
        active=data.get("enabled", True) is not False,
        created=created,
        issued={PUBLIC_KEY: key} if key else {},
    )


class SendGridWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    def registered_webhooks(self) -> list[RemoteWebhook]:
        data = self.request("GET", API, f"{SETTINGS}/all").json()
        # An account without webhooks answers [{}] (the spec's example).
        return [
            _remote(w) for w in data.get("webhooks") or [] if isinstance(w, dict) and w.get("id")
        ]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        body = {
            "enabled": True,
            "url": url,
            **{flag: flag in events for flag in EVENT_FLAGS},
            "friendly_name": hook_name(url),
        }
        data = self.request("POST", API, SETTINGS, json=body, ok=(201,), repeatable=False).json()
        return self._signed(_remote(data, created=True))

    def adopt_webhook(self, hook, url, secret, events) -> RemoteWebhook:
        return hook if hook.issued else self._signed(hook)

    def _signed(self, hook: RemoteWebhook) -> RemoteWebhook:
        """Signing turned on for the hook, with the public key its deliveries are checked by."""
        data = self.request(
            "PATCH", API, f"{SETTINGS}/signed/{hook.remote_id}", json={"enabled": True}
        ).json()
        key = str(data.get("public_key") or "")
        if not key:
            raise ValidationFailed("SendGrid turned signing on but gave no public key.")
        return replace(hook, issued={PUBLIC_KEY: key})
