"""The Customer.io emulator's reporting webhooks: made through the App API, and what they post.

Real shapes (../shared/platforms/customerio.md §10; specs/customerio/cio_journeys_app_api.json
createWebhook, listWebhooks, getWebhook, updateWebhook, deleteWebhook; cio_reporting_webhooks.json
for the deliveries): `POST /v1/reporting_webhooks {"name", "endpoint", "events" (at least one of
the documented names), "disabled", "full_resolution", "with_content"}` → 200 with the webhook and
its integer `id`; `GET` lists them as {"reporting_webhooks": [...]}; `PUT .../{id}` replaces one,
`DELETE` removes it; 404 for an unknown id, 400 for a malformed body. The API never returns the
signing key: Customer.io shows it on the webhook's page (the sandbox's index page shows it).

Deliveries: one event per POST, {"event_id", "object_type", "metric", "timestamp", "data":
{"identifiers", "customer_id", "recipient", "broadcast_id", ...}}, signed X-CIO-Timestamp +
X-CIO-Signature (hex HMAC-SHA256 of "v0:<timestamp>:<body>" with the signing key).
"""

from __future__ import annotations

import hashlib
import secrets

import orjson
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.customerio.auth import APP, PLATFORM
from integrations.sandbox.customerio.broadcasts import BROADCASTS, _recipients
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxSend, SandboxWebhook

# The documented event names the emulator accepts (cio_journeys_app_api.json, createWebhook).
EVENTS = frozenset(
    [f"customer_{n}" for n in ("subscribed", "unsubscribed", "subscription_preferences_changed")]
    + [
        f"email_{n}"
        for n in (
            "drafted",
            "attempted",
            "sent",
            "delivered",
            "opened",
            "clicked",
            "converted",
            "bounced",
            "dropped",
            "deferred",
            "spammed",
            "failed",
            "unsubscribed",
            "undeliverable",
        )
    ]  # fmt: skip
)
# The console's event kind → (object_type, metric) of what Customer.io reports.
METRICS = {
    "delivered": ("email", "delivered"),
    "opened": ("email", "opened"),
    "clicked": ("email", "clicked"),
    "bounced_hard": ("email", "bounced"),
    "complained": ("email", "spammed"),
    "unsubscribed": ("customer", "unsubscribed"),
}


def _hooks(account):
    return SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)


def _view(hook: SandboxWebhook) -> dict:
    return {
        "id": int(hook.remote_id),
        "name": hook.name,
        "endpoint": hook.url,
        "events": list(hook.events),
        "disabled": hook.status != outbound.ACTIVE,
        "full_resolution": bool(hook.settings.get("full_resolution", False)),
        "with_content": bool(hook.settings.get("with_content", False)),
    }


def _malformed(detail: str):
    return json_response({"meta": {"error": detail}}, status=400)


def _validated(body) -> tuple[dict | None, object | None]:
    """The webhook's fields from a create/update body, or the 400 answer."""
    if not isinstance(body, dict):
        return None, _malformed("the body must be a JSON object")
    name, endpoint, events = body.get("name"), body.get("endpoint"), body.get("events")
    if not isinstance(name, str) or not name:
        return None, _malformed("name is required")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None, _malformed("endpoint must be a URL")
    if not is_console_webhook_url(endpoint):
        return None, _malformed("endpoint: the sandbox posts only to this console")
    if not isinstance(events, list) or not events:
        return None, _malformed("events must list at least one event")
    unknown = [e for e in events if e not in EVENTS]
    if unknown:
        return None, _malformed(f"unknown events: {', '.join(map(str, unknown))}")
    fields = {
        "name": name[:200],
        "url": endpoint,
        "events": list(dict.fromkeys(events)),
        "status": "disabled" if body.get("disabled") else outbound.ACTIVE,
        "settings": {k: bool(body.get(k)) for k in ("full_resolution", "with_content")},
    }
    return fields, None


@csrf_exempt
@require_http_methods(["GET", "POST"])
@APP.endpoint()
def reporting_webhooks(request, account):
    if request.method == "GET":
        return json_response({"reporting_webhooks": [_view(h) for h in _hooks(account)]})
    fields, refused = _validated(parse_json(request))
    if refused is not None:
        return refused
    last = max((int(h.remote_id) for h in _hooks(account)), default=0)
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=str(last + 1),
        secret=secrets.token_hex(32),  # the signing key Customer.io shows on the webhook's page
        signed=True,
        **fields,
    )
    return json_response(_view(hook))


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
@APP.endpoint()
def reporting_webhook(request, account, webhook_id: int):
    hook = _hooks(account).filter(remote_id=str(webhook_id)).first()
    if hook is None:
        return json_response({"meta": {"error": "webhook not found"}}, status=404)
    if request.method == "DELETE":
        hook.delete()
        return json_response({})
    if request.method == "PUT":
        fields, refused = _validated(parse_json(request))
        if refused is not None:
            return refused
        for name, value in fields.items():
            setattr(hook, name, value)
        hook.save()
    return json_response(_view(hook))


# --- what the webhooks post ---------------------------------------------------------------------


def _audience(account, send) -> outbound.SendAudience | None:
    """Who a recorded broadcast trigger reached (the same readers its metrics count)."""
    subject = ((send.body or {}).get("data") or {}).get("subject", "")
    emails = sorted(_recipients(account, send.body or {}))
    return outbound.SendAudience(f"{PLATFORM}:{account.account}:{send.remote_id}", subject, emails)


def _broadcast_id(send_name: str) -> int | None:
    return next((i for i, name in BROADCASTS.items() if name == send_name), None)


def _render(batch: outbound.Batch) -> bytes:
    (event,) = batch.events  # Customer.io posts one event a request
    object_type, metric = METRICS[event.kind]
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    identifiers = {"email": event.email, "id": event.contact_id or event.email}
    data: dict = {"identifiers": identifiers, "customer_id": identifiers["id"]}
    if object_type == "email":
        data.update(recipient=event.email, delivery_id=digest[26:52])
        send = SandboxSend.objects.filter(
            platform=PLATFORM, account=batch.hook.account, kind="trigger", remote_id=event.send_id
        ).first()
        if send is not None:
            data.update(broadcast_id=_broadcast_id(send.name), trigger_id=int(send.remote_id))
        if event.url:
            data["href"] = event.url
    else:
        data["email_address"] = event.email
    return orjson.dumps(
        {
            "event_id": digest[:26].upper(),
            "object_type": object_type,
            "metric": metric,
            "timestamp": int(event.occurred_at.timestamp()),
            "data": data,
        }
    )


WEBHOOKS = outbound.Outbound(
    topics={
        "delivered": "email_delivered",
        "opened": "email_opened",
        "clicked": "email_clicked",
        "bounced_hard": "email_bounced",
        "complained": "email_spammed",
        "unsubscribed": "customer_unsubscribed",
    },
    render=_render,
    signer=PLATFORM,
    send_kinds=("trigger",),
    audience=_audience,
    unsubscribe=outbound.unsubscribe_by_address(unsubscribed=True),
    secret_on_settings_page=True,
)
