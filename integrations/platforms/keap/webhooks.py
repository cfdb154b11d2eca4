"""Keap REST Hooks: unsigned id-only batches; our own token in the URL, plus Keap's
ownership handshake.

Facts (../shared/platforms/keap.md §10, webhook-signatures.md; source
https://developer.keap.com/rest-hook-documentation/): on creating a hook Keap POSTs with
header X-Hook-Secret and expects 200 echoing the same header; deliveries are not signed.
Body {"event_key": "contact.add" | "contact.edit" | "contact.delete" | …, "object_type",
"object_keys": [{"id", "apiUrl", "timestamp"}]} (≤ 1000, ids only: re-fetch before trusting).
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.keap.api import API
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    json_body,
    when,
)
from integrations.platforms.webhook_registration import RemoteWebhook, WebhookRegistration
from integrations.platforms.webhooks import (
    Method,
    WebhookScheme,
)

SCHEME = WebhookScheme(
    Method.URL_TOKEN,
    source="https://developer.keap.com/rest-hook-documentation/",
    handshake_header="X-Hook-Secret",
    handshake_reply="header",
    note="Keap signs no delivery: the token in the URL is the check (and Keap's handshake "
    "proves the URL answers).",
    steps=(
        "Subscribe a REST Hook (POST /crm/rest/v1/hooks) with eventKey contact.add, "
        "contact.edit or contact.delete and the webhook URL below (with its token) as hookUrl.",
        "Keap's verification request is answered automatically.",
    ),
)

EVENTS = {
    "contact.add": Kind.CONTACT_CREATED,
    "contact.edit": Kind.CONTACT_UPDATED,
    "contact.delete": Kind.CONTACT_DELETED,
}


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    delivery = json_body(body)
    if not isinstance(delivery, dict) or not isinstance(delivery.get("object_keys"), list):
        raise ValueError("a Keap REST Hook is {'event_key', 'object_keys': [...]}")
    kind = EVENTS.get(str(delivery.get("event_key", "")))
    if kind is None:
        return []
    out = []
    for key in delivery["object_keys"]:
        if not isinstance(key, dict) or not key.get("id"):
            continue
        moment = key.get("timestamp")
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(moment) if moment else received_at,
                platform_id=str(key["id"]),
                data={"api_url": str(key.get("apiUrl") or "")},
            )
        )
    return out


V1 = "/crm/rest/v1"
VERIFIED = "Verified"
REGISTRATION = WebhookRegistration(
    source="https://developer.keap.com/rest-hook-documentation/",
    events=tuple(EVENTS),
    per_event=True,
    note="Keap sends events only to verified hooks: the console answers Keap's check itself.",
)


def _remote(data: dict, *, created: bool = False) -> RemoteWebhook:
    status = str(data.get("status") or "")
    return RemoteWebhook(
        str(data.get("key", "")),
        url=str(data.get("hookUrl") or ""),
        events=(str(data.get("eventKey") or ""),),
        active=status == VERIFIED,
        status=status,
        created=created,
    )


class KeapWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    def _v1(self, method: str, path: str, **kwargs):
        """One REST v1 call (REST Hooks exist only there); its quota headers pace the app."""
        response = self.request(method, API, V1 + path, **kwargs)
        self._watch_quota(response)
        return response

    def registered_webhooks(self) -> list[RemoteWebhook]:
        rows = self._v1("GET", "/hooks").json()
        return [_remote(row) for row in rows or [] if isinstance(row, dict)]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        (event,) = events
        body = {"eventKey": event, "hookUrl": url}
        data = self._v1("POST", "/hooks", json=body, ok=(200, 201), repeatable=False).json()
        return _remote(data, created=True)

    def adopt_webhook(self, hook, url, secret, events) -> RemoteWebhook:
        if hook.active:
            return hook
        return _remote(self._v1("POST", f"/hooks/{hook.remote_id}/verify").json())
