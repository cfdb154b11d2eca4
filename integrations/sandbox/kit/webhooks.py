"""The Kit emulator's webhook endpoints (the signed kind): made through the API, and what they
post.

Real shapes (../shared/platforms/kit.md §10; https://developers.kit.com/api-reference/webhooks/
create-a-webhook-endpoint and the list/get/update/delete pages): `POST /v4/webhook_endpoints
{"url", "events", "name", "description"}` → 201 with the endpoint, whose `secret` is shown this
once; `GET` lists them with v4's cursor pagination (`status` active|disabled filters); `PUT
.../{id}` replaces what it is given (`events` the whole set); `DELETE` → 204; 404 for an unknown
id; 422 {"errors": [...]} for a bad URL or an event type Kit does not offer.

Deliveries: {"events": [{"id", "type", "created_at", "data": {"subscriber": {...}}}]}, up to
100 a request, X-Kit-Signature `t=<unix>,v1=<hex HMAC-SHA256 of "<t>." + body>`.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.kit.auth import PLATFORM, endpoint, errors
from integrations.sandbox.kit.state import paginate, subscriber_rows, subscriber_view
from integrations.sandbox.models import SandboxWebhook

# The event types Kit takes today (kit.md §10); "planned" ones are refused with 422.
EVENT_TYPES = frozenset(
    {
        "subscriber.created", "subscriber.activated", "subscriber.unsubscribed",
        "subscriber.bounced", "subscriber.complained", "subscriber.subscribed_to_form",
        "subscriber.added_to_sequence", "subscriber.sequence_completed", "subscriber.tag_added",
    }
)  # fmt: skip


def _hooks(account):
    return SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)


def _view(hook: SandboxWebhook, *, with_secret: bool = False) -> dict:
    view = {
        "id": int(hook.remote_id),
        "url": hook.url,
        "name": hook.name,
        "description": hook.settings.get("description", ""),
        "events": list(hook.events),
        "status": "active" if hook.status == outbound.ACTIVE else "disabled",
        "created_at": hook.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if with_secret:
        view["secret"] = hook.secret
    return view


def _checked(body, *, partial: bool) -> tuple[dict, HttpResponse | None]:
    """The endpoint's fields from a create (or update: `partial`) body, or Kit's 422."""
    if not isinstance(body, dict):
        return {}, errors(422, "The request body is not valid JSON")
    fields: dict = {}
    if "url" in body or not partial:
        url = body.get("url")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            return {}, errors(422, "Url is invalid")
        if not is_console_webhook_url(url):
            return {}, errors(422, "Url must be publicly reachable")
        fields["url"] = url
    if "events" in body or not partial:
        events = body.get("events")
        if not isinstance(events, list) or not events:
            return {}, errors(422, "Events can't be blank")
        unknown = [str(e) for e in events if e not in EVENT_TYPES]
        if unknown:
            return {}, errors(422, f"Events include an unsupported event type: {unknown[0]}")
        fields["events"] = list(dict.fromkeys(events))
    if "name" in body:
        fields["name"] = str(body["name"] or "")[:200]
    return fields, None


@csrf_exempt
@require_http_methods(["GET", "POST"])
@endpoint
def webhook_endpoints(request, account):
    if request.method == "GET":
        hooks = list(_hooks(account).order_by("pk"))
        wanted = request.GET.get("status")
        if wanted in ("active", "disabled"):
            hooks = [h for h in hooks if _view(h)["status"] == wanted]
        page, pagination = paginate(hooks, request)
        return json_response(
            {"webhook_endpoints": [_view(h) for h in page], "pagination": pagination}
        )
    body = parse_json(request)
    fields, refused = _checked(body, partial=False)
    if refused is not None:
        return refused
    last = max((int(h.remote_id) for h in _hooks(account)), default=0)
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=str(last + 1),
        secret=secrets.token_hex(32),
        signed=True,
        settings={"description": str(body.get("description") or "")},
        **fields,
    )
    return json_response({"webhook_endpoint": _view(hook, with_secret=True)}, status=201)


@csrf_exempt
@require_http_methods(["GET", "PUT", "DELETE"])
@endpoint
def webhook_endpoint(request, account, endpoint_id: int):
    hook = _hooks(account).filter(remote_id=str(endpoint_id)).first()
    if hook is None:
        return errors(404, "Not Found")
    if request.method == "DELETE":
        hook.delete()
        return HttpResponse(status=204)
    if request.method == "PUT":
        fields, refused = _checked(parse_json(request), partial=True)
        if refused is not None:
            return refused
        for name, value in fields.items():
            setattr(hook, name, value)
        hook.save()
    return json_response({"webhook_endpoint": _view(hook)})


# --- what the endpoints post --------------------------------------------------------------------

TYPES = {
    "unsubscribed": "subscriber.unsubscribed",
    "bounced_hard": "subscriber.bounced",
    "complained": "subscriber.complained",
}


def _item(account, event, topic: str) -> dict:
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    contact = subscriber_rows(account).filter(identifier=event.email).first()
    subscriber = (
        subscriber_view(contact) if contact else {"email_address": event.email, "state": ""}
    )
    return {
        "id": digest[:24],
        "type": topic,
        "created_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "data": {"subscriber": subscriber},
    }


def _render(batch: outbound.Batch) -> bytes:
    items = [
        _item(batch.account, event, topic)
        for event, topic in zip(batch.events, batch.topics, strict=True)
    ]
    return orjson.dumps({"events": items})


def _unsubscribe(account, email: str) -> str | None:
    """A reader unsubscribes in Kit: the state Kit's own unsubscribe sets."""
    rows = list(subscriber_rows(account).filter(identifier=email.strip().lower()))
    for row in rows:
        row.attributes = {**row.attributes, "state": "cancelled"}
        row.save(update_fields=["attributes", "updated_at"])
    return str(rows[0].pk) if rows else None


WEBHOOKS = outbound.Outbound(
    topics=TYPES,
    render=_render,
    batch_max=100,
    signer=PLATFORM,
    unsubscribe=_unsubscribe,
)
