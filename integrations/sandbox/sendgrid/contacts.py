"""The SendGrid emulator's contacts: field definitions, the asynchronous upsert (checked at
once, stored, answered with a job), search by email and deletion."""

from __future__ import annotations

import uuid

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json, read_body
from integrations.sandbox.models import (
    SandboxContact,
    SandboxFieldType,
    SandboxSegment,
    SandboxSuppression,
)
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.lists import join_static_lists
from integrations.sandbox.sendgrid.state import (
    _ISO_DATE,
    _TYPE_LETTER,
    IDENTIFIERS,
    READ_ONLY,
    RESERVED,
    WRITABLE,
    _custom_fields,
    _jobs,
    _jobs_lock,
    contact_id,
    list_uuid,
)

MAX_BODY = 6_000_000
MAX_CONTACTS = 30_000


@require_GET
@EMULATOR.endpoint()
def field_definitions(request, account):
    reserved = [
        {"id": f"_rf{i}_{_TYPE_LETTER[kind]}", "name": name, "field_type": kind}
        for i, (name, kind, _) in enumerate(RESERVED)
    ]
    reserved += [
        {"id": f"_rf{i}_{_TYPE_LETTER[kind]}", "name": name, "field_type": kind, "read_only": True}
        for i, (name, kind) in enumerate(READ_ONLY, start=len(RESERVED))
    ]
    custom = [
        {"id": field_id, "name": row.name, "field_type": row.type}
        for field_id, row in _custom_fields(account.account).items()
    ]
    return json_response(
        {
            "custom_fields": custom,
            "reserved_fields": reserved,
            "_metadata": {"self": request.build_absolute_uri()},
        }
    )


# --- contacts ---------------------------------------------------------------------------------


@csrf_exempt
@require_http_methods(["PUT", "DELETE"])
def contacts(request, host):
    if request.method == "DELETE":
        return _delete_contacts(request, host)
    return _upsert_contacts(request, host)


@EMULATOR.endpoint(group="contacts.upsert", write=True)
def _upsert_contacts(request, account):
    if len(read_body(request)) > MAX_BODY:
        return _errors("request body must be at most 6MB", 413)
    data = parse_json(request)
    if not isinstance(data, dict):
        return _errors("invalid JSON", 400)
    items = data.get("contacts")
    if not isinstance(items, list) or not items:
        return _errors("at least one contact is required", 400, "contacts")
    if len(items) > MAX_CONTACTS:
        return _errors("at most 30000 contacts per request", 400, "contacts")
    list_ids = data.get("list_ids") or []
    known_lists = {
        list_uuid(s.remote_id)
        for s in SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
        if s.kind == "list"
    }
    for i, list_id in enumerate(list_ids if isinstance(list_ids, list) else [None]):
        if list_id not in known_lists:
            return _errors("list does not exist", 400, f"list_ids[{i}]")
    custom = _custom_fields(account.account)
    problems, parsed = [], []
    for index, item in enumerate(items):
        problem = _check_contact(item, custom)
        if problem:
            problems.append({"field": f"contacts[{index}].{problem[0]}", "message": problem[1]})
        else:
            parsed.append(item)
    if problems:
        return json_response({"errors": problems}, status=400)
    job_id = str(uuid.uuid4())
    failures, changes = [], {}
    for item in parsed:
        identifier = _identifier(item)
        fields, type_problem = _fields(item, custom)
        if type_problem:
            failures.append((identifier, item, type_problem))
            continue
        changes[identifier] = {**changes.get(identifier, {}), **fields}
    known = store.existing(PLATFORM, account.account, changes)
    for identifier, contact in known.items():
        if contact.suppressed:
            failures.append((identifier, {}, "contact is suppressed and cannot be updated"))
            del changes[identifier]
    for identifier, fields in changes.items():
        before = known.get(identifier)
        merged_lists = set((before.attributes if before else {}).get("list_ids", []))
        fields["list_ids"] = sorted(merged_lists | set(list_ids))
    store.upsert(PLATFORM, account.account, changes, known)
    join_static_lists(account.account, list_ids, changes)
    created = sum(1 for identifier in changes if identifier not in known)
    prefix = request.path.rsplit("/v3/", 1)[0]
    errors_url = request.build_absolute_uri(
        f"{prefix}/v3/marketing/contacts/imports/{job_id}/errors"
    )
    status = "completed" if not failures else ("failed" if not changes else "errored")
    results = {
        "requested_count": len(items),
        "created_count": created,
        "updated_count": len(changes) - created,
        "deleted_count": 0,
        "errored_count": len(failures),
    }
    if failures:
        results["errors_url"] = f"{errors_url}?token={uuid.uuid4().hex}"
    with _jobs_lock:
        _jobs[job_id] = {
            "account": account.account,
            "job_type": "upsert",
            "status": status,
            "results": results,
            "errors": [(_email_of(i, item), msg) for i, item, msg in failures],
            "polls": 0,
        }
    return json_response({"job_id": job_id}, status=202)


def _check_contact(item, custom) -> tuple[str, str] | None:
    if not isinstance(item, dict):
        return ("", "contact must be an object")
    if not any(item.get(k) for k in IDENTIFIERS):
        return ("email", "one of email, phone_number_id, external_id, anonymous_id is required")
    allowed = {*WRITABLE, "custom_fields"}
    for key in item:
        if key not in allowed:
            return (key, f"unknown field '{key}'")
    email = item.get("email")
    if email is not None and not store.looks_like_email(email):
        return ("email", "email address is invalid")
    for name, _, limit in RESERVED:
        if name not in WRITABLE:
            continue
        value = item.get(name)
        if name == "alternate_emails":
            if value is not None and (not isinstance(value, list) or len(value) > 5):
                return (name, "at most 5 alternate emails")
            continue
        if value is not None and not isinstance(value, str):
            return (name, "must be a string")
        if limit and isinstance(value, str) and len(value) > limit:
            return (name, f"must be at most {limit} characters")
    fields = item.get("custom_fields", {})
    if not isinstance(fields, dict):
        return ("custom_fields", "must be an object")
    for field_id in fields:
        if field_id not in custom:
            return (f"custom_fields.{field_id}", "custom field does not exist")
    return None


def _identifier(item: dict) -> str:
    if item.get("email"):
        return item["email"].lower()
    kind = next(k for k in IDENTIFIERS if item.get(k))
    return f"{kind}:{item[kind]}"


def _email_of(identifier: str, item: dict) -> str:
    return identifier if ":" not in identifier else item.get("email", "")


def _fields(item: dict, custom: dict) -> tuple[dict, str]:
    fields = {k: v for k, v in item.items() if k != "custom_fields"}
    if "email" in fields:
        fields["email"] = fields["email"].lower()
    for field_id, value in (item.get("custom_fields") or {}).items():
        row = custom[field_id]
        if row.type == "Number" and (isinstance(value, bool) or not isinstance(value, int | float)):
            return {}, f"custom field '{row.name}' must be a number"
        if row.type == "Date" and not (isinstance(value, str) and _ISO_DATE.match(value)):
            return {}, f"custom field '{row.name}' must be a date"
        if row.type == "Text" and not isinstance(value, str):
            return {}, f"custom field '{row.name}' must be text"
        fields[row.name] = value
    return fields, ""


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def search_emails(request, account):
    data = parse_json(request)
    emails = data.get("emails") if isinstance(data, dict) else None
    if not isinstance(emails, list) or not emails or len(emails) > 100:
        return _errors("emails must list 1 to 100 addresses", 400, "emails")
    wanted = [str(e).lower() for e in emails]
    rows = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=wanted
    )
    found = {row.identifier: row for row in rows}
    if not found:
        return _errors("No contacts found", 404)
    result = {}
    for email in wanted:
        row = found.get(email)
        result[email] = {"contact": _contact_body(row)} if row else {"error": "contact not found"}
    return json_response({"result": result})


def _contact_body(row: SandboxContact) -> dict:
    attrs = dict(row.attributes or {})
    custom_names = {
        r.name for r in SandboxFieldType.objects.filter(platform=PLATFORM, account=row.account)
    }
    body = {k: v for k, v in attrs.items() if k not in custom_names and k != "list_ids"}
    body.update(
        {
            "id": contact_id(row.account, row.identifier),
            "list_ids": attrs.get("list_ids", []),
            "segment_ids": [],
            "custom_fields": {k: v for k, v in attrs.items() if k in custom_names},
            "created_at": row.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "updated_at": row.updated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    )
    return body


@EMULATOR.endpoint(write=True)
def _delete_contacts(request, account):
    ids = [i for i in request.GET.get("ids", "").split(",") if i]
    if not ids:
        return _errors("ids or delete_all_contacts is required", 400, "ids")
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    doomed = [r.pk for r in rows if contact_id(r.account, r.identifier) in ids]
    SandboxContact.objects.filter(pk__in=doomed).delete()
    job_id = str(uuid.uuid4())
    with _jobs_lock:
        _jobs[job_id] = {
            "account": account.account,
            "job_type": "delete",
            "status": "completed",
            "results": {"requested_count": len(ids), "deleted_count": len(doomed)},
            "errors": [],
            "polls": 0,
        }
    return json_response({"job_id": job_id}, status=202)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(marketing=False, write=True, scope="asm.suppressions.global.create")
def global_suppressions(request, account):
    """POST /v3/asm/suppressions/global {"recipient_emails": [...]} → 201 with the addresses
    now globally unsubscribed. Kept apart from the contacts (SandboxSuppression), as SendGrid
    keeps suppressions: a contact stays, and no Single Send reaches the address."""
    data = parse_json(request)
    emails = data.get("recipient_emails") if isinstance(data, dict) else None
    if not isinstance(emails, list) or not emails:
        return _errors("recipient_emails must list at least one address", 400, "recipient_emails")
    if not all(isinstance(e, str) and store.looks_like_email(e) for e in emails):
        return _errors("recipient_emails holds an invalid address", 400, "recipient_emails")
    added = SandboxSuppression.add(PLATFORM, account.account, emails)
    return json_response({"recipient_emails": added}, status=201)
