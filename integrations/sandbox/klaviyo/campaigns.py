"""Klaviyo email campaigns: create, list (by name), read, messages, templates, template
assignment, send jobs.

Real shapes (../shared/platforms/klaviyo.md §7; the OpenAPI document, revision 2026-07-15):
`POST /api/campaigns` → 201 the campaign (`status: "Draft"`, `relationships.campaign-messages`);
`GET /api/campaigns?filter=…contains(name,'…')` (the channel filter is required);
`GET /api/campaigns/{id}`; `GET /api/campaigns/{id}/relationships/campaign-messages`;
`POST /api/templates` → 201; `POST /api/campaign-message-assign-template` → 200;
`POST /api/campaign-send-jobs` → 202 (`queued`). Campaigns and templates are SandboxSends
(kinds "campaign" and "template"); a sent campaign is "Sent" and cannot be sent again.
"""

from __future__ import annotations

import re
import uuid

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox.emulation import parse_json
from integrations.sandbox.klaviyo.auth import EMULATOR, PLATFORM, api_response, error_response
from integrations.sandbox.klaviyo.segments import _group
from integrations.sandbox.models import SandboxSend

READ = {"scopes": ("campaigns:read",), "endpoint": "campaigns"}
WRITE = {"scopes": ("campaigns:write",), "endpoint": "campaigns", "write": True}
_NAME = re.compile(r"contains\(name,'([^']*)'\)")


def _rows(account, kind="campaign"):
    return SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind=kind)


def _message_id(send: SandboxSend) -> str:
    return f"{send.remote_id}-m1"


def _resource(send: SandboxSend) -> dict:
    attributes = send.body.get("data", {}).get("attributes", {})
    return {
        "type": "campaign",
        "id": send.remote_id,
        "attributes": {
            "name": attributes.get("name"),
            "status": send.status,
            "archived": False,
            "audiences": attributes.get("audiences"),
            "send_strategy": attributes.get("send_strategy") or {"method": "immediate"},
            "created_at": send.created_at.isoformat(),
        },
        "relationships": {
            "campaign-messages": {"data": [{"type": "campaign-message", "id": _message_id(send)}]}
        },
    }


def _invalid(detail: str, pointer: str = "/data") -> object:
    return error_response(400, "invalid", "Invalid input.", detail, pointer=pointer)


def _not_found(what: str) -> object:
    return error_response(404, "not_found", "Not found.", f"{what} does not exist.")


def _audience_problem(account, attributes: dict) -> str:
    included = (attributes.get("audiences") or {}).get("included") or []
    if not included:
        return "audiences.included needs a list or segment"
    for group in included:
        if _group(account, "list", group) is None and _group(account, "segment", group) is None:
            return f"No list or segment with id {group}."
    return ""


@csrf_exempt
@EMULATOR.endpoint(**READ)
def campaigns(request, account):
    if request.method == "GET":
        wanted = request.GET.get("filter", "")
        if "equals(messages.channel," not in wanted:
            return _invalid("A channel filter is required.", "filter")
        match = _NAME.search(wanted)
        rows = [r for r in _rows(account) if not match or match.group(1) in r.name]
        return api_response({"data": [_resource(r) for r in rows], "links": {}})
    if request.method != "POST":
        return error_response(405, "method_not_allowed", "Method not allowed.", request.method)
    if account.read_only:
        return error_response(
            403,
            "permission_denied",
            "You do not have permission to perform this action.",
            "This API key is missing required scopes: campaigns:write",
        )
    body = parse_json(request)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or data.get("type") != "campaign":
        return _invalid("The body must be a campaign resource.")
    attributes = data.get("attributes") or {}
    problem = _audience_problem(account, attributes)
    if problem or not attributes.get("name"):
        return _invalid(problem or "name is required", "/data/attributes")
    send = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="campaign",
        remote_id=uuid.uuid4().hex[:26].upper(),
        name=attributes["name"],
        status="Draft",
        body=body,
    )
    return api_response({"data": _resource(send)}, status=201)


@require_GET
@EMULATOR.endpoint(**READ)
def campaign(request, account, campaign_id: str):
    send = _rows(account).filter(remote_id=campaign_id).first()
    return _not_found("The campaign") if send is None else api_response({"data": _resource(send)})


@require_GET
@EMULATOR.endpoint(**READ)
def campaign_messages(request, account, campaign_id: str):
    send = _rows(account).filter(remote_id=campaign_id).first()
    if send is None:
        return _not_found("The campaign")
    return api_response({"data": [{"type": "campaign-message", "id": _message_id(send)}]})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(scopes=("templates:write",), endpoint="templates", write=True)
def templates(request, account):
    body = parse_json(request)
    attributes = ((body or {}).get("data") or {}).get("attributes") or {}
    if not attributes.get("name") or attributes.get("editor_type") != "CODE":
        return _invalid("name and editor_type CODE are required", "/data/attributes")
    template = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="template",
        remote_id=uuid.uuid4().hex[:6].upper(),
        name=attributes["name"],
        body=body,
        content={"html": attributes.get("html") or "", "text": attributes.get("text") or ""},
    )
    return api_response({"data": {"type": "template", "id": template.remote_id}}, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(**WRITE)
def assign_template(request, account):
    data = ((parse_json(request) or {}).get("data")) or {}
    campaign_id = str(data.get("id", "")).removesuffix("-m1")
    send = _rows(account).filter(remote_id=campaign_id).first()
    template_id = (((data.get("relationships") or {}).get("template") or {}).get("data") or {}).get(
        "id"
    )
    template = _rows(account, "template").filter(remote_id=template_id).first()
    if send is None or template is None:
        return _not_found("The campaign message or template")
    send.content = dict(template.content)
    send.save(update_fields=["content"])
    return api_response({"data": {"type": "campaign-message", "id": _message_id(send)}})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(**WRITE)
def send_jobs(request, account):
    data = ((parse_json(request) or {}).get("data")) or {}
    send = _rows(account).filter(remote_id=str(data.get("id", ""))).first()
    if data.get("type") != "campaign-send-job" or send is None:
        return _not_found("The campaign")
    if send.status != "Draft":
        return _invalid(f"The campaign is {send.status}; it cannot be sent again.")
    if not send.content.get("html"):
        return _invalid("The campaign message has no template.")
    send.status = "Sent"
    send.sends += 1
    send.sent_at = timezone.now()
    send.save()
    job = {"type": "campaign-send-job", "id": send.remote_id, "attributes": {"status": "queued"}}
    return api_response({"data": job}, status=202)
