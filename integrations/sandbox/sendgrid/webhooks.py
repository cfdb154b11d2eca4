"""The SendGrid emulator's Event Webhooks: their settings, signing, and what they post.

Real shapes (../shared/platforms/sendgrid.md §10; tsg_webhooks_v3.json): `POST
/v3/user/webhooks/event/settings {"enabled", "url", one boolean per event, "friendly_name"}` →
201 with its `id` (400 for a URL already in use, or past `max_allowed`); `GET
.../settings/all` → {"max_allowed", "webhooks": [...]} (`public_key` where signing is on);
`PATCH .../settings/signed/{id} {"enabled"}` → {"id", "public_key"}: the emulator makes a P-256
key pair and signs with its private half. Deliveries: a JSON array of events (batched),
`X-Twilio-Email-Event-Webhook-Signature` (ECDSA) over the timestamp header + the body.
"""

from __future__ import annotations

import hashlib
import uuid

import orjson
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxWebhook
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.segments import _find_segment
from integrations.sandbox.sendgrid.state import list_uuid
from integrations.sandbox.webhooks import new_ecdsa_key

MAX_ALLOWED = 5
FLAGS = (
    "processed", "delivered", "deferred", "bounce", "dropped", "open", "click", "spam_report",
    "unsubscribe", "group_unsubscribe", "group_resubscribe",
)  # fmt: skip
GATE = {"marketing": False}


def _hooks(account):
    return SandboxWebhook.objects.filter(platform=PLATFORM, account=account.account)


def _view(hook: SandboxWebhook) -> dict:
    view = {
        "enabled": hook.status == outbound.ACTIVE,
        "url": hook.url,
        **{flag: flag in hook.events for flag in FLAGS},
        "friendly_name": hook.name,
        "id": hook.remote_id,
        "created_date": hook.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "updated_date": hook.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if hook.signed:
        view["public_key"] = hook.public_key
    return view


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, **GATE)
def create(request, account):
    body = parse_json(request)
    url = body.get("url") if isinstance(body, dict) else None
    if not isinstance(url, str) or not url.startswith(("https://", "http://")):
        return _errors(f"'{url}' is not a valid url", 400)
    if not is_console_webhook_url(url):
        return _errors(f"'{url}' is not a valid url (the sandbox posts only to this console)", 400)
    taken = _hooks(account).filter(url=url).first()
    if taken is not None:
        error = {"id": taken.remote_id, "url": url, "message": f"Webhook at '{url}' already "
                 "exists. Please provide a unique URL."}  # fmt: skip
        return json_response({"errors": [error]}, status=400)
    if _hooks(account).count() >= MAX_ALLOWED:
        return _errors("You have reached the maximum number of webhooks per your current "
                       "billing plan.", 400)  # fmt: skip
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=str(uuid.uuid4()),
        url=url,
        name=str(body.get("friendly_name") or ""),
        events=[flag for flag in FLAGS if body.get(flag)],
        status=outbound.ACTIVE if body.get("enabled", True) else "disabled",
    )
    return json_response(_view(hook), status=201)


@require_GET
@EMULATOR.endpoint(**GATE)
def every(request, account):
    return json_response(
        {"max_allowed": MAX_ALLOWED, "webhooks": [_view(h) for h in _hooks(account)]}
    )


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
@EMULATOR.endpoint(write=True, **GATE)
def signed(request, account, webhook_id: str):
    hook = _hooks(account).filter(remote_id=webhook_id).first()
    if hook is None:
        return _errors("Invalid id provided.", 404)
    if request.method == "PATCH":
        body = parse_json(request)
        if not isinstance(body, dict) or not isinstance(body.get("enabled"), bool):
            return _errors("enabled is required", 400, "enabled")
        if body["enabled"] and not hook.signed:
            hook.secret, hook.public_key = new_ecdsa_key()
        hook.signed = body["enabled"]
        hook.save(update_fields=["secret", "public_key", "signed"])
    return json_response(
        {"id": hook.remote_id, "public_key": hook.public_key if hook.signed else ""}
    )


# --- what the webhooks post ---------------------------------------------------------------------


def _recipients(account, send_to: dict) -> list[str] | None:
    contacts = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    emails: set[str] = set()
    for kind, key in (("list", "list_ids"), ("segment", "segment_ids")):
        for remote in send_to.get(key) or []:
            segment = _find_segment(account, kind, remote)
            if segment is None:
                return None
            if segment.kind == "list":
                wanted = list_uuid(segment.remote_id)
                rows = [c for c in contacts if wanted in (c.attributes or {}).get("list_ids", [])]
            else:
                rows = list(segment.members())
            emails.update((c.attributes or {}).get("email") or c.identifier for c in rows)
    return sorted(e for e in emails if "@" in e)


def _audience(account, send) -> outbound.SendAudience | None:
    emails = _recipients(account, send.body.get("send_to") or {})
    if emails is None:
        return None
    subject = (send.body.get("email_config") or {}).get("subject", "")
    return outbound.SendAudience(f"{PLATFORM}:{account.account}:{send.remote_id}", subject, emails)


NAMES = {"delivered": "delivered", "opened": "open", "clicked": "click", "bounced_hard": "bounce",
         "bounced_soft": "bounce", "complained": "spamreport", "unsubscribed": "unsubscribe"}  # fmt: skip


def _event(event) -> dict:
    digest = hashlib.sha256(f"{event.pk}:{event.key}".encode()).hexdigest()
    item = {
        "email": event.email,
        "timestamp": int(event.occurred_at.timestamp()),
        "event": NAMES[event.kind],
        "sg_event_id": digest[:22],
        "sg_message_id": f"{digest[22:40]}.sandbox",
        "category": ["sharpsend"],
    }
    if event.send_id:
        item.update({"singlesend_id": event.send_id, "mc_stats": "singlesend", "phase_id": "send"})
    if event.kind == "clicked":
        item["url"] = event.url
    if event.kind.startswith("bounced"):
        item.update({"type": "bounce" if event.kind == "bounced_hard" else "blocked",
                     "reason": "550 5.1.1 mailbox unavailable", "status": "5.1.1"})  # fmt: skip
    return item


def _render(batch: outbound.Batch) -> bytes:
    return orjson.dumps([_event(event) for event in batch.events])


WEBHOOKS = outbound.Outbound(
    topics={
        "delivered": "delivered",
        "opened": "open",
        "clicked": "click",
        "bounced_hard": "bounce",
        "bounced_soft": "bounce",
        "complained": "spam_report",
        "unsubscribed": "unsubscribe",
    },  # fmt: skip
    render=_render,
    batch_max=100,
    signer=PLATFORM,
    send_kinds=("single_send",),
    audience=_audience,
    unsubscribe=outbound.unsubscribe_by_address(unsubscribed_at=lambda: timezone.now().isoformat()),
)
