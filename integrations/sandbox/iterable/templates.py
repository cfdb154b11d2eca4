"""Iterable email templates in the emulator: upsert by client template id, read by it.

Real shapes (specs/iterable/api-docs.json): `POST /api/templates/email/upsert`
(UpsertEmailTemplateModel: `clientTemplateId` required; "only the fields specified will be
updated") creates the template or updates every template with that client template id and
answers an IterableApiResponse; `GET /api/templates/getByClientTemplateId?clientTemplateId=`
→ `{"templates": [{"templateId"}]}`. Templates are SandboxSends of kind "template" (ids from
3001), their fields in `content`.
"""

from __future__ import annotations

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
        number = FIRST_ID + templates_of(account).count()
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
