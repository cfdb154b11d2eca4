"""SendGrid dynamic transactional templates and the marketing test send, in the emulator.

Real shapes (twilio/sendgrid-oai spec/json/tsg_templates_v3.json; tests/specs/sendgrid/
tsg_mc_test_v3.json): `POST /v3/templates {"name" ≤100, "generation"}` → 201 the template
(`id`, a UUID); `POST /v3/templates/{id}/versions` (`name` and `subject` required; `name` ≤100,
`subject` ≤255, `active` 0/1) → 201 the version; `DELETE /v3/templates/{id}` → 204;
`POST /v3/marketing/test/send_email {"template_id", "emails" (1–10, unique), "sender_id" |
"from_address", "suppression_group_id" | "custom_unsubscribe_url"}` → 202 — dynamic templates
only ("Legacy Transactional Templates will not be delivered"). Templates are SandboxSends of
kind "template" (their active version in `content`); a test is a SandboxSend of kind "test"
(what the testers got), never the send of a Single Send.
"""

from __future__ import annotations

import secrets
import uuid

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxSend
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.singlesends import SENDERS

MAX_TEST_EMAILS = 10
VERSION_FIELDS = ("name", "subject", "html_content", "plain_content", "generate_plain_content",
                  "editor", "active")  # fmt: skip


def _templates(account):
    return SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind="template")


def _view(template: SandboxSend) -> dict:
    versions = [template.content] if template.content else []
    return {
        "id": template.remote_id,
        "name": template.name,
        "generation": template.body.get("generation", "legacy"),
        "updated_at": timezone.localtime(template.created_at).strftime("%Y-%m-%d %H:%M:%S"),
        "versions": versions,
    }


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True)
def templates(request, account):
    body = parse_json(request)
    if not isinstance(body, dict) or not 1 <= len(str(body.get("name") or "")) <= 100:
        return _errors("name is required (1 to 100 characters)", 400, "name")
    if body.get("generation", "legacy") not in ("legacy", "dynamic"):
        return _errors("generation must be legacy or dynamic", 400, "generation")
    template = SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="template",
        remote_id=str(uuid.uuid4()),
        name=body["name"],
        status="saved",
        body=body,
    )
    return json_response(_view(template), status=201)


@csrf_exempt
@require_http_methods(["DELETE"])
@EMULATOR.endpoint(write=True)
def template(request, account, template_id: str):
    deleted, _ = _templates(account).filter(remote_id=template_id).delete()
    return HttpResponse(status=204) if deleted else _errors("resource not found", 404)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True)
def versions(request, account, template_id: str):
    template = _templates(account).filter(remote_id=template_id).first()
    if template is None:
        return _errors("resource not found", 404)
    body = parse_json(request)
    if not isinstance(body, dict):
        return _errors("the body must be a JSON object", 400)
    for field, limit in (("name", 100), ("subject", 255)):
        if not isinstance(body.get(field), str) or not 1 <= len(body[field]) <= limit:
            return _errors(f"{field} is required (1 to {limit} characters)", 400, field)
    if body.get("active", 1) not in (0, 1):
        return _errors("active must be 0 or 1", 400, "active")
    version = {k: body[k] for k in VERSION_FIELDS if k in body}
    version.update(id=str(uuid.uuid4()), template_id=template.remote_id, active=1)
    # The first version is active whatever it says; a later one when it asks to be.
    if not template.content or body.get("active", 1) == 1:
        template.content = version
        template.save(update_fields=["content"])
    return json_response(version, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True)
def test_send_email(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return _errors("the body must be a JSON object", 400)
    emails = body.get("emails")
    if (
        not isinstance(emails, list)
        or not 1 <= len(emails) <= MAX_TEST_EMAILS
        or len(set(emails)) != len(emails)
        or not all(store.looks_like_email(e) for e in emails)
    ):
        return _errors("emails: 1 to 10 unique email addresses", 400, "emails")
    if not (SENDERS.get(body.get("sender_id")) or store.looks_like_email(body.get("from_address"))):
        return _errors("a verified sender_id or a from_address is required", 400, "sender_id")
    if not (body.get("suppression_group_id") or body.get("custom_unsubscribe_url")):
        return _errors("an unsubscribe group is required", 400, "suppression_group_id")
    template = _templates(account).filter(remote_id=str(body.get("template_id") or "")).first()
    if template is None:
        return _errors("template_id: no such template", 400, "template_id")
    if template.body.get("generation") != "dynamic" or not template.content:
        return _errors("template_id: a dynamic template with an active version", 400, "template_id")
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="test",
        remote_id=secrets.token_hex(8),
        name=template.name,
        status="sent",
        body=body,
        content=template.content,
        recipients=len(emails),
        sends=1,
        sent_at=timezone.now(),
    )
    return HttpResponse(status=202)
