"""SendGrid emulator: key scopes, field definitions, the asynchronous contacts upsert and its
job status (with an errors file), lists and segments with counts, search and deletion.

Served as /sandbox/sendgrid/<real host>/v3/…, so the global and EU hosts stay distinct.

An upsert is checked at once (a 400 names the contact at fault, as SendGrid does), stored,
and answered with a job id; the job reads `pending` on its first status poll and then its
outcome. Contacts whose value does not fit a field's type, and contacts the sandbox marks as
suppressed (the emulation's stand-in for a contact SendGrid refuses), are listed in the job's
errors file (CSV: email, error) and not stored.
"""

from __future__ import annotations

import csv
import io
import re
import threading
import uuid

from django.http import Http404, HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import (
    Emulator,
    json_response,
    parse_json,
    read_body,
    windowed,
)
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "sendgrid"
HOSTS = {"api.sendgrid.com": "global", "api.eu.sendgrid.com": "eu"}
MAX_BODY = 6_000_000
MAX_CONTACTS = 30_000
_NAMESPACE = uuid.UUID("5e4d0000-0000-4000-8000-00000000c0de")
_LIMIT_BODY = {"errors": [{"field": None, "message": "too many requests"}]}
# endpoint group → (requests, per seconds); the client declares the same.
RATES = {"api": (10, 1.0), "contacts.upsert": (3, 1.0), "contacts.imports": (5, 1.0)}
FULL_SCOPES = (
    "mail.send", "marketing.read", "marketing.automation.read", "marketing.automation.update",
    "marketing.contacts.create", "marketing.contacts.update", "marketing.contacts.delete",
    "user.account.read",
)  # fmt: skip
READ_SCOPES = ("marketing.read", "marketing.automation.read")
MAIL_SCOPES = ("mail.send",)
IDENTIFIERS = ("email", "external_id", "phone_number_id", "anonymous_id")
RESERVED = (
    ("first_name", "Text", 50), ("last_name", "Text", 50), ("email", "Text", 254),
    ("alternate_emails", "Text", None), ("address_line_1", "Text", 100),
    ("address_line_2", "Text", 100), ("city", "Text", 60),
    ("state_province_region", "Text", 50), ("postal_code", "Text", None),
    ("country", "Text", 50), ("phone_number", "Text", None), ("whatsapp", "Text", None),
    ("line", "Text", None), ("facebook", "Text", None), ("unique_name", "Text", None),
    ("external_id", "Text", 254), ("anonymous_id", "Text", 254),
    ("phone_number_id", "Text", None),
)  # fmt: skip
# What the upsert takes at the top level (ContactRequest); the other reserved fields are
# listed by field_definitions but refused there.
WRITABLE = (
    "first_name",
    "last_name",
    "email",
    "alternate_emails",
    "address_line_1",
    "address_line_2",
    "city",
    "state_province_region",
    "postal_code",
    "country",
    "external_id",
    "anonymous_id",
    "phone_number_id",
)
READ_ONLY = (
    ("email_domains", "Text"), ("last_clicked", "Date"), ("last_opened", "Date"),
    ("last_emailed", "Date"), ("created_at", "Date"), ("updated_at", "Date"),
    ("contact_id", "Text"),
)  # fmt: skip
_TYPE_LETTER = {"Text": "T", "Number": "N", "Date": "D"}
_ISO_DATE = re.compile(
    r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$"
)

_jobs: dict[str, dict] = {}
_jobs_lock = threading.Lock()


def _errors(message: str, status: int, field=None) -> HttpResponse:
    return json_response({"errors": [{"field": field, "message": message}]}, status=status)


def _scopes(account) -> tuple[str, ...]:
    return SCOPES[account.credentials["api_key"]]


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Bearer "):
        account = accounts.find(PLATFORM, api_key=header[7:])
    if account is None or account.region != region:
        return _errors("authorization required", 401)
    return account


def _admit(request, account, *, marketing: bool = True, write: bool = False, **_):
    scopes = _scopes(account)
    if marketing and not any(s.startswith("marketing") for s in scopes):
        return _errors("access forbidden", 403)
    if write and account.read_only:
        return _errors("access forbidden", 403)
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a SendGrid host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    admit=_admit,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="api"),
)


def list_uuid(remote_id: int) -> str:
    return f"00000000-0000-4000-8000-{remote_id:012d}"


def contact_id(account: str, identifier: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{account}:{identifier}"))


def _custom_fields(account: str) -> dict[str, SandboxFieldType]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account)
    return {f"e{row.pk}_{_TYPE_LETTER[row.type]}": row for row in rows}


def _list_members(account: str, list_id: str) -> int:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account).values_list(
        "attributes", flat=True
    )
    return sum(1 for attrs in rows if list_id in (attrs or {}).get("list_ids", []))


def _segment_count(segment: SandboxSegment) -> int:
    if segment.kind == "list":
        return _list_members(segment.account, list_uuid(segment.remote_id))
    return segment.members().count()


# --- scopes and fields ------------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint(marketing=False)
def scopes(request, account):
    return json_response({"scopes": list(_scopes(account))})


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


@require_GET
@EMULATOR.endpoint(group="contacts.imports")
def import_status(request, account, job_id: str):
    with _jobs_lock:
        job = _jobs.get(job_id)
        if job is None or job["account"] != account.account:
            return _errors("job not found", 404)
        job["polls"] += 1
        pending = job["polls"] == 1
        snapshot = dict(job)
    body = {
        "id": job_id,
        "status": "pending" if pending else snapshot["status"],
        "job_type": snapshot["job_type"],
        "results": {} if pending else snapshot["results"],
        "started_at": "2024-01-01T00:00:00Z",
    }
    if not pending:
        body["finished_at"] = "2024-01-01T00:00:05Z"
    return json_response(body)


@require_GET
def import_errors(request, host, job_id: str):
    """The errors file: a pre-signed URL, so no key is asked for (or should be sent)."""
    EMULATOR.region(host)
    if "Authorization" in request.headers:
        return HttpResponse("unexpected Authorization header", status=400)
    with _jobs_lock:
        job = _jobs.get(job_id)
    if job is None or not job["errors"]:
        raise Http404("no errors file")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["email", "error"])
    for email, message in job["errors"]:
        writer.writerow([email, message])
    return HttpResponse(out.getvalue(), content_type="text/csv")


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


# --- lists and segments -----------------------------------------------------------------------


def _segments(account, kind: str):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return [s for s in rows if (s.kind == "list") == (kind == "list")]


@require_GET
@EMULATOR.endpoint()
def lists(request, account):
    try:
        size = int(request.GET.get("page_size", 100))
    except ValueError:
        size = 0
    if not 1 <= size <= 1000:
        return _errors("page_size must be between 1 and 1000", 400, "page_size")
    rows = _segments(account, "list")
    start = int(request.GET.get("page_token") or 0)
    page = rows[start : start + size]
    base = request.build_absolute_uri(request.path)
    metadata = {"self": request.build_absolute_uri(), "count": len(rows)}
    if start + size < len(rows):
        metadata["next"] = f"{base}?page_size={size}&page_token={start + size}"
    return json_response(
        {
            "result": [
                {
                    "id": list_uuid(s.remote_id),
                    "name": s.name,
                    "contact_count": _segment_count(s),
                    "_metadata": {"self": f"{base}/{list_uuid(s.remote_id)}"},
                }
                for s in page
            ],
            "_metadata": metadata,
        }
    )


def _find_segment(account, kind: str, remote: str):
    return next((s for s in _segments(account, kind) if list_uuid(s.remote_id) == remote), None)


@require_GET
@EMULATOR.endpoint()
def list_detail(request, account, list_id: str):
    segment = _find_segment(account, "list", list_id)
    if segment is None:
        return _errors("list not found", 404)
    return json_response(
        {"id": list_id, "name": segment.name, "contact_count": _segment_count(segment)}
    )


@require_GET
@EMULATOR.endpoint()
def list_count(request, account, list_id: str):
    segment = _find_segment(account, "list", list_id)
    if segment is None:
        return _errors("list not found", 404)
    count = _segment_count(segment)
    return json_response({"contact_count": count, "billable_count": count})


def _segment_body(segment: SandboxSegment) -> dict:
    return {
        "id": list_uuid(segment.remote_id),
        "name": segment.name,
        "contacts_count": _segment_count(segment),
        "created_at": "2024-01-01T00:00:00Z",
        "updated_at": "2024-01-01T00:00:00Z",
        "sample_updated_at": "2024-01-01T00:00:00Z",
        "next_sample_update": "2024-01-02T00:00:00Z",
        "parent_list_ids": [],
        "query_version": "2",
        "status": {"query_validation": "VALID"},
    }


@require_GET
@EMULATOR.endpoint()
def segments(request, account):
    return json_response({"results": [_segment_body(s) for s in _segments(account, "segment")]})


@require_GET
@EMULATOR.endpoint()
def segment_detail(request, account, segment_id: str):
    segment = _find_segment(account, "segment", segment_id)
    if segment is None:
        return _errors("segment not found", 404)
    return json_response(
        {
            **_segment_body(segment),
            "query_dsl": f"SELECT contact_id FROM contact_data WHERE "
            f"{segment.rule_attribute or '1'} = '{segment.rule_value or '1'}'",
        }
    )


# --- accounts and demo data -------------------------------------------------------------------

DEMO_LISTS = (
    # remote id, name, kind, rule attribute, rule value
    (1, "All readers", "list", "", ""),
    (2, "Growth Investors", "segment", "interest", "growth"),
    (3, "Dividend Income", "segment", "interest", "dividends"),
)
DEMO_FIELDS = (("interest", "Text"), ("plan", "Text"), ("score", "Number"), ("renewal", "Date"))


def seed_account(account) -> None:
    """Demo lists, segments and custom fields for one emulated SendGrid account."""
    for remote_id, name, kind, attribute, value in DEMO_LISTS:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
            defaults={"name": name, "kind": kind, "rule_attribute": attribute, "rule_value": value},
        )
    for name, kind in DEMO_FIELDS:
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


def reset_jobs() -> None:
    with _jobs_lock:
        _jobs.clear()


ALL_READERS = list_uuid(1)

ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-full-key", "list_id": ALL_READERS},
        "SharpSend demo SendGrid account",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-eu",
        "eu",
        {"api_key": "SG.sandbox-sendgrid-eu-key"},
        "SharpSend EU subuser",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-readonly-key"},
        "SharpSend demo SendGrid account",
        read_only=True,
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-sendgrid-global",
        "global",
        {"api_key": "SG.sandbox-sendgrid-mail-only-key"},
        "SharpSend demo SendGrid account",
        read_only=True,
        purpose="A key with the Mail Send scope only: the connection test refuses it, it has "
        "no Marketing access.",
    ),
)
SCOPES = {
    "SG.sandbox-sendgrid-full-key": FULL_SCOPES,
    "SG.sandbox-sendgrid-eu-key": FULL_SCOPES,
    "SG.sandbox-sendgrid-readonly-key": READ_SCOPES,
    "SG.sandbox-sendgrid-mail-only-key": MAIL_SCOPES,
}

urlpatterns = [
    path("<str:host>/v3/scopes", scopes),
    path("<str:host>/v3/marketing/field_definitions", field_definitions),
    path("<str:host>/v3/marketing/contacts", contacts),
    path("<str:host>/v3/marketing/contacts/search/emails", search_emails),
    path("<str:host>/v3/marketing/contacts/imports/<str:job_id>", import_status),
    path("<str:host>/v3/marketing/contacts/imports/<str:job_id>/errors", import_errors),
    path("<str:host>/v3/marketing/lists", lists),
    path("<str:host>/v3/marketing/lists/<str:list_id>", list_detail),
    path("<str:host>/v3/marketing/lists/<str:list_id>/contacts/count", list_count),
    path("<str:host>/v3/marketing/segments/2.0", segments),
    path("<str:host>/v3/marketing/segments/2.0/<str:segment_id>", segment_detail),
]
