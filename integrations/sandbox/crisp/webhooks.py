"""The Crisp emulator's plugin hooks: made in the Crisp Marketplace (the plugin's Settings →
Events; no API makes them), and what they post.

Real shapes (../shared/platforms/crisp.md §9): one event a POST, `{"website_id", "event",
"data", "timestamp" (ms)}`; a reader's email subscription changing is `email:subscribe` with
`data.subscribed`. Signed X-Crisp-Request-Timestamp + X-Crisp-Signature = hex HMAC-SHA256 of
"[" + timestamp + ";" + body + "]" with the plugin's hooks signature secret, which Crisp shows
on the plugin's page (the sandbox index shows it).
"""

from __future__ import annotations

import orjson

from integrations.sandbox import inapp, outbound
from integrations.sandbox.crisp.auth import PLATFORM
from integrations.sandbox.models import SandboxContact

EVENTS = ("email:subscribe", "people:profile:created", "people:profile:updated",
          "people:profile:removed")  # fmt: skip


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events  # Crisp posts one event a request
    data = {"website_id": batch.hook.account, "email": event.email, "subscribed": False}
    if event.contact_id:
        data["people_id"] = event.contact_id
    return orjson.dumps(
        {
            "website_id": batch.hook.account,
            "event": batch.topic,
            "data": data,
            "timestamp": int(event.occurred_at.timestamp() * 1000),
        }
    )


def _unsubscribe(account, email: str) -> str | None:
    """A reader unsubscribes from the website's emails: the profile's people id."""
    rows = list(SandboxContact.objects.filter(platform=PLATFORM, account=account.account,
                                              identifier=email.strip().lower()))  # fmt: skip
    outbound.mark(rows, email_unsubscribed=True)
    return str((rows[0].attributes or {}).get("people_id") or "") if rows else None


WEBHOOKS = outbound.Outbound(
    topics={"unsubscribed": "email:subscribe"},
    render=_render,
    signer=PLATFORM,
    unsubscribe=_unsubscribe,
    secret_on_settings_page=True,
    in_app=inapp.InApp(
        events=EVENTS,
        secret=inapp.ISSUED,
        secret_label="Hooks signature secret",
        page="Marketplace → your plugin → Settings → Events",
    ),
)
