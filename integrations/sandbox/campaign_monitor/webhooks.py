"""The Campaign Monitor emulator's list webhooks: registering them, and what they post.

Real shapes (../shared/platforms/campaign_monitor.md §10; createsend-python `list.py`): `POST
/lists/{listid}/webhooks.json {"Events": ["Subscribe", "Deactivate", "Update"], "Url",
"PayloadFormat": "json" | "xml"}` → 201 and the webhook ID (a JSON string); `GET
/lists/{listid}/webhooks.json` → [{"WebhookID", "Events", "Url", "Status", "PayloadFormat"}];
`PUT …/{id}/activate.json` and `…/deactivate.json`; `DELETE …/{id}.json`. Nothing is signed:
the console's token rides in the URL. Deliveries are batched JSON (up to 1,000 events):
{"Events": [{"Type": "Deactivate", "Date", "EmailAddress", "Name", "State"}], "ListID"}.
"""

from __future__ import annotations

import uuid

import orjson
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from integrations.platforms.urlpolicy import is_console_webhook_url
from integrations.sandbox import outbound
from integrations.sandbox.campaign_monitor.auth import EMULATOR, PLATFORM, _error
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxWebhook

EVENTS = ("Subscribe", "Deactivate", "Update")
FORMATS = ("json", "xml")


def _hooks(account, list_ref: str):
    return SandboxWebhook.objects.filter(
        platform=PLATFORM, account=account.account, settings__list_id=list_ref
    )


def _view(hook: SandboxWebhook) -> dict:
    return {
        "WebhookID": hook.remote_id,
        "Events": hook.events,
        "Url": hook.url,
        "Status": "Active" if hook.status == outbound.ACTIVE else "Deactivated",
        "PayloadFormat": hook.settings.get("format", "json").capitalize(),
    }


@csrf_exempt
@require_http_methods(["GET", "POST"])
@EMULATOR.endpoint()
def webhooks(request, account, list_ref: str):
    if request.method == "GET":
        return json_response([_view(hook) for hook in _hooks(account, list_ref)])
    body = parse_json(request)
    if not isinstance(body, dict):
        return _error(400, "Failed to deserialize your request.")
    events, url = body.get("Events"), body.get("Url")
    if not isinstance(events, list) or not events or set(events) - set(EVENTS):
        return _error(600, "Invalid Webhook Events: use Subscribe, Deactivate or Update.")
    if not isinstance(url, str) or not is_console_webhook_url(url):
        return _error(601, "Invalid Webhook URL (the sandbox posts only to this console).")
    kind = str(body.get("PayloadFormat") or "json").lower()
    if kind not in FORMATS:
        return _error(602, "Invalid Payload Format: use json or xml.")
    if kind == "xml":
        return _error(602, "The sandbox posts json payloads only.")
    hook = outbound.new_hook(
        PLATFORM,
        account.account,
        remote_id=uuid.uuid4().hex,
        url=url,
        events=list(dict.fromkeys(events)),
        settings={"list_id": list_ref, "format": kind},
    )
    return json_response(hook.remote_id, status=201)


@csrf_exempt
@require_http_methods(["PUT", "DELETE"])
@EMULATOR.endpoint()
def webhook(request, account, list_ref: str, webhook_id: str, action: str = ""):
    hook = _hooks(account, list_ref).filter(remote_id=webhook_id).first()
    if hook is None:
        return _error(603, "Invalid WebhookID", 404)
    if request.method == "DELETE" and not action:
        hook.delete()
    elif request.method == "PUT" and action in ("activate", "deactivate"):
        hook.status = outbound.ACTIVE if action == "activate" else "deactivated"
        hook.save(update_fields=["status"])
    else:
        return HttpResponse(status=405)
    return HttpResponse(status=200)


# --- what the webhooks post ---------------------------------------------------------------------


def _render(batch: outbound.Batch) -> bytes:
    emails = [event.email for event in batch.events]
    names = dict(
        SandboxContact.objects.filter(
            platform=PLATFORM, account=batch.account.account, identifier__in=emails
        ).values_list("identifier", "attributes__Name")
    )
    return orjson.dumps(
        {
            "Events": [
                {
                    "Type": "Deactivate",
                    "Date": event.occurred_at.strftime("%Y-%m-%d %H:%M:%S"),
                    "EmailAddress": event.email,
                    "Name": names.get(event.email) or "",
                    "State": "Bounced" if event.kind == "bounced_hard" else "Unsubscribed",
                    "CustomFields": [],
                }
                for event in batch.events
            ],
            "ListID": batch.hook.settings.get("list_id", ""),
        }
    )


WEBHOOKS = outbound.Outbound(
    topics={"unsubscribed": "Deactivate", "bounced_hard": "Deactivate"},
    render=_render,
    batch_max=1000,
    unsubscribe=outbound.unsubscribe_by_address(State="Unsubscribed"),
)
