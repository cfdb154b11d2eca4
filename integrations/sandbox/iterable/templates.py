"""Iterable email templates in the emulator: upsert by client template id, read by it.

Real shapes (specs/iterable/api-docs.json): `POST /api/templates/email/upsert`
(UpsertEmailTemplateModel: `clientTemplateId` required; "only the fields specified will be
updated") creates the template or updates every template with that client template id and
answers an IterableApiResponse; `GET /api/templates/getByClientTemplateId?clientTemplateId=`
→ `{"templates": [{"templateId"}]}`. Templates are SandboxSends of kind "template" (ids from
3001), their fields in `content`.

A proof, `POST /api/templates/email/proof` (TemplateProofRequest: `templateId` required, a
`recipientEmail` or a `recipientUserId`, not both; `dataFields`, `locale`) → IterableApiResponse,
is recorded as a SandboxSend of kind "test" (what the tester got), never as a campaign's send.
`POST /api/templates/bulkDelete {"ids": [...]}` deletes templates, except those a campaign
uses ("Templates which are associated with a campaign will not be deleted"), and answers
BulkDeleteTemplatesResponse `{"success", "failed", "failureReason"}`.
"""

from __future__ import annotations

import secrets

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.models import SandboxSend

FIRST_ID = 3001
FIELDS = (
    "name", "subject", "preheaderText", "html", "plainText", "fromName", "fromEmail",
    "replyToEmail",
)  # fmt: skip


def templates_of(account):
    return SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind="template")


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="templates")
def upsert_email(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return error("BadJsonBody", "The body must be a JSON object", 400)
    client_id = body.get("clientTemplateId")
    if not isinstance(client_id, str) or not client_id:
        return error("BadParams", "clientTemplateId is required", 400)
    wrong = [k for k in FIELDS if k in body and not isinstance(body[k], str)]
    if wrong:
        return error("BadParams", f"{', '.join(wrong)} must be strings", 400)
    given = {k: body[k] for k in FIELDS if k in body}
    matching = list(templates_of(account).filter(name=client_id))
    if not matching:
        # The next id after the highest kept (a count would collide once one is deleted).
        taken = [int(i) for i in templates_of(account).values_list("remote_id", flat=True)]
        number = max([FIRST_ID - 1, *taken]) + 1
        matching = [
            SandboxSend.objects.create(
                platform=PLATFORM,
                account=account.account,
                kind="template",
                remote_id=str(number),
                name=client_id,
                status="saved",
                body=body,
            )
        ]
    for template in matching:
        template.content = {**template.content, **given}
        template.save(update_fields=["content"])
    ids = ", ".join(t.remote_id for t in matching)
    return json_response({"code": "Success", "msg": f"Upserted templates {ids}", "params": None})


@require_GET
@EMULATOR.endpoint(endpoint="templates")
def by_client_template_id(request, account):
    client_id = request.GET.get("clientTemplateId")
    if not client_id:
        return error("BadParams", "clientTemplateId is required", 400)
    rows = templates_of(account).filter(name=client_id).order_by("pk")
    return json_response({"templates": [{"templateId": int(t.remote_id)} for t in rows]})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="templates.proof")
def email_proof(request, account):
    body = parse_json(request)
    if not isinstance(body, dict):
        return error("BadJsonBody", "The body must be a JSON object", 400)
    template_id = body.get("templateId")
    if not isinstance(template_id, int) or isinstance(template_id, bool):
        return error("BadParams", "templateId is required (an integer)", 400)
    email, user_id = body.get("recipientEmail"), body.get("recipientUserId")
    if bool(email) == bool(user_id):
        return error("BadParams", "Provide a recipientEmail or a recipientUserId, not both", 400)
    if email is not None and not (isinstance(email, str) and "@" in email.strip("@")):
        return error("InvalidEmailAddressError", f"Invalid email: {email}", 400)
    template = templates_of(account).filter(remote_id=str(template_id)).first()
    if template is None:
        return error("NotFound", f"No template {template_id}", 400)
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind="test",
        remote_id=secrets.token_hex(8),
        name=template.content.get("name", template.name),
        status="sent",
        body=body,
        content=template.content,
        recipients=1,
        sends=1,
        sent_at=timezone.now(),
    )
    return json_response({"code": "Success", "msg": "Proof sent", "params": None})


def _in_campaigns(account) -> set[str]:
    rows = SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind="campaign")
    return {str(c.body.get("templateId")) for c in rows}


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="templates")
def bulk_delete(request, account):
    body = parse_json(request)
    ids = body.get("ids") if isinstance(body, dict) else None
    if not isinstance(ids, list) or not all(
        isinstance(i, int) and not isinstance(i, bool) for i in ids
    ):
        return error("BadParams", "ids must be a list of template ids", 400)
    used = _in_campaigns(account)
    success, failed = [], []
    for template_id in ids:
        rows = templates_of(account).filter(remote_id=str(template_id))
        if str(template_id) in used or not rows.exists():
            failed.append(template_id)
            continue
        rows.delete()
        success.append(template_id)
    reason = "Templates associated with a campaign, or unknown, were not deleted" if failed else ""
    return json_response({"success": success, "failed": failed, "failureReason": reason})
