"""The Klaviyo emulator's system webhooks: topics, registering, and what they post.

Real shapes (../shared/platforms/klaviyo.md §10; specs/klaviyo/stable.json `get_webhooks`,
`create_webhook`, `get_webhook_topics`; 1/s and 15/m each, scopes webhooks:read/write):
`POST /api/webhooks {"data": {"type": "webhook", "attributes": {"name", "description",
"endpoint_url", "secret_key"}, "relationships": {"webhook-topics": {"data": [...]}}}}` → 201;
`GET /api/webhooks` shows `endpoint_url` truncated (scheme and host). Klaviyo takes only https
endpoints; the emulator also takes this console's own http address (the sandbox). Deliveries
are batched, signed HMAC-SHA256(secret_key, body + Klaviyo-Timestamp) with Klaviyo-Webhook-Id:
{"data": [{"external_id", "topic", "payload"}], "meta": {"klaviyo_account_id",
"klaviyo_webhook_id", "timestamp"}}.
"""

from __future__ import annotations

import hashlib
import uuid
from urllib.parse import urlsplit

import orjson
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.emulation import parse_json
from integrations.sandbox.klaviyo.auth import EMULATOR, PLATFORM, api_response, error_response
from integrations.sandbox.klaviyo.segments import _group
from integrations.sandbox.models import SandboxWebhook

# The account's topics (Klaviyo derives them from its metrics; these are the sandbox's).
TOPICS = {
    "event:klaviyo.email_delivered": "delivered",
    "event:klaviyo.opened_email": "opened",
    "event:klaviyo.clicked_email": "clicked",
    "event:klaviyo.bounced_email": "bounced_hard",
    "event:klaviyo.marked_email_as_spam": "complained",
    "event:klaviyo.unsubscribed_from_email_marketing": "unsubscribed",
    "event:klaviyo.sent_sms": "",
}
READ = {"scopes": ("webhooks:read",), "endpoint": "webhooks.read"}
WRITE = {"scopes": ("webhooks:write",), "endpoint": "webhooks.create", "write": True}
TOPICS_READ = {"scopes": ("webhooks:read",), "endpoint": "webhook_topics"}


def _invalid(detail: str, pointer: str = "/data"):
    return error_response(400, "invalid", "Invalid input.", detail, pointer=pointer)


def _resource(hook: SandboxWebhook) -> dict:
    parts = urlsplit(hook.url)
    at = hook.created_at.isoformat()
    return {
        "type": "webhook",
        "id": hook.remote_id,
        "attributes": {
            "name": hook.name,
            "description": hook.settings.get("description"),
            "endpoint_url": f"{parts.scheme}://{parts.netloc}",  # truncated for security
            "enabled": hook.status == outbound.ACTIVE,
            "created_at": at,
            "updated_at": at,
        },
        "relationships": {
            "webhook-topics": {"data": [{"type": "webhook-topic", "id": t} for t in hook.events]}
        },
    }


@EMULATOR.endpoint(**TOPICS_READ)
def topics(request, account):
    data = [{"type": "webhook-topic", "id": t, "attributes": {"name": t}} for t in TOPICS]
    return api_response({"data": data, "links": {"self": request.build_absolute_uri()}})


def _created(request, account):
    data = (parse_json(request) or {}).get("data")
    if not isinstance(data, dict) or data.get("type") != "webhook":
        return _invalid("The body must be a webhook resource.")
    attributes = data.get("attributes") or {}
    for name in ("name", "endpoint_url", "secret_key"):
        if not isinstance(attributes.get(name), str) or not attributes[name]:
            return _invalid(f"{name} is required.", f"/data/attributes/{name}")
    url = attributes["endpoint_url"]
    if not (url.startswith("https://") or is_console_webhook_url(url)):
        return _invalid("endpoint_url must be https.", "/data/attributes/endpoint_url")
    if not is_console_webhook_url(url):
        return _invalid("The sandbox posts webhooks only to this console.", "/data/attributes")
    wanted = [
        t.get("id")
        for t in ((data.get("relationships") or {}).get("webhook-topics") or {}).get("data") or []
    ]
    unknown = [t for t in wanted if t not in TOPICS]
    if not wanted or unknown:
        return _invalid(f"Unknown or missing webhook topics: {unknown}.", "/data/relationships")
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=uuid.uuid4().hex[:26].upper(),
        url=url,
        name=attributes["name"][:200],
        events=wanted,
        secret=attributes["secret_key"],
        signed=True,
        settings={"description": attributes.get("description")},
    )
    return api_response({"data": _resource(hook)}, status=201)


@csrf_exempt
def webhooks(request, host):
    """GET lists the account's webhooks (read scope); POST creates one (write scope)."""
    if request.method == "POST":
        return EMULATOR.endpoint(**WRITE)(_created)(request, host)
    if request.method != "GET":
        return error_response(405, "method_not_allowed", "Method not allowed.", request.method)
    return EMULATOR.endpoint(**READ)(_listed)(request, host)


def _listed(request, account):
    rows = SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)
    return api_response(
        {"data": [_resource(h) for h in rows], "links": {"self": request.build_absolute_uri()}}
    )


# --- what the webhooks post ---------------------------------------------------------------------


def _subject(value) -> str:
    """The first `subject` anywhere in the campaign's body (its message's content)."""
    if isinstance(value, dict):
        if isinstance(value.get("subject"), str):
            return value["subject"]
        value = list(value.values())
    if isinstance(value, list):
        return next((s for s in map(_subject, value) if s), "")
    return ""


def _audience(account, send) -> outbound.SendAudience | None:
    attributes = send.body.get("data", {}).get("attributes", {})
    emails: set[str] = set()
    for group in (attributes.get("audiences") or {}).get("included") or []:
        segment = _group(account, "list", group) or _group(account, "segment", group)
        if segment is None:
            return None
        emails.update(segment.members().values_list("identifier", flat=True))
    key = f"{PLATFORM}:{account.account}:{send.remote_id}"
    return outbound.SendAudience(key, _subject(send.body), sorted(emails))


def _item(event, topic: str) -> dict:
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    properties = {"$message": event.send_id} if event.send_id else {}
    if event.url:
        properties["URL"] = event.url
    return {
        "external_id": str(uuid.UUID(digest[:32])),
        "topic": topic,
        "payload": {
            "datetime": event.occurred_at.isoformat(),
            "email": event.email,
            "event_properties": properties,
        },
    }


def _render(batch: outbound.Batch) -> bytes:
    return orjson.dumps(
        {
            "data": [
                _item(event, topic) for event, topic in zip(batch.events, batch.topics, strict=True)
            ],
            "meta": {
                "klaviyo_account_id": batch.account.account,
                "klaviyo_webhook_id": batch.hook.remote_id,
                "timestamp": timezone.now().isoformat(),
            },
        }
    )


WEBHOOKS = outbound.Outbound(
    topics={kind: topic for topic, kind in TOPICS.items() if kind},
    render=_render,
    batch_max=50,
    signer=PLATFORM,
    send_kinds=("campaign",),
    audience=_audience,
    unsubscribe=outbound.unsubscribe_by_address(unsubscribed=True),
    headers=lambda hook: {"Klaviyo-Webhook-Id": hook.remote_id},
)
