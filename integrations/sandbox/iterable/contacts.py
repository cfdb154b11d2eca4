"""Iterable users: the field catalogue (types fixed on first write) and users/bulkUpdate."""

from __future__ import annotations

import re

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json, read_body
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.models import SandboxFieldType

MAX_BODY = 4_000_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
FAILURE_LISTS = (
    "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds",
    "invalidDataEmails", "invalidDataUserIds", "invalidEmails", "invalidUserIds",
    "notFoundEmails", "notFoundUserIds",
)  # fmt: skip


def field_type(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "date" if _DATE.match(value) else "string"
    if isinstance(value, dict):
        return "object"
    return "array"


@require_GET
@EMULATOR.endpoint(endpoint="users.getFields")
def get_fields(request, account):
    types = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    fields = {"email": "string", "userId": "string", **{t.name: t.type for t in types}}
    return json_response({"fields": fields})


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="users.bulkUpdate")
def bulk_update(request, account):
    if len(read_body(request)) > MAX_BODY:
        return error("BatchTooLarge", "Request body is larger than 4MB", 400)
    data = parse_json(request)
    if not isinstance(data, dict):
        return error("BadJsonBody", "Could not parse the request body", 400)
    users = data.get("users")
    if not isinstance(users, list):
        return error("BadParams", "users is required", 400)
    create_fields = data.get("createNewFields", True)
    types = {
        t.name: t.type
        for t in SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    }
    failed: dict[str, list] = {name: [] for name in FAILURE_LISTS}
    created_fields, filtered, new_types, changes = set(), set(), {}, {}
    for user in users:
        outcome = _check_user(user, types, new_types, create_fields, created_fields, filtered)
        if outcome[0]:
            failed[outcome[0]].append(outcome[1])
        else:
            identifier, fields = outcome[1], outcome[2]
            changes[identifier] = {**changes.get(identifier, {}), **fields}
    known = store.existing(PLATFORM, account.account, changes)
    for identifier, contact in known.items():
        if contact.suppressed:
            name = "forgottenUserIds" if identifier.startswith("userId:") else "forgottenEmails"
            failed[name].append(identifier.removeprefix("userId:"))
            del changes[identifier]
    store.upsert(PLATFORM, account.account, changes, known)
    SandboxFieldType.objects.bulk_create(
        [
            SandboxFieldType(platform=PLATFORM, account=account.account, name=n, type=t)
            for n, t in new_types.items()
        ],
        ignore_conflicts=True,
    )
    fail_count = sum(len(v) for v in failed.values())
    return json_response(
        {
            "successCount": len(changes),
            "failCount": fail_count,
            "createdFields": sorted(created_fields),
            "filteredOutFields": sorted(filtered),
            "invalidEmails": failed["invalidEmails"],
            "invalidUserIds": failed["invalidUserIds"],
            "failedUpdates": failed,
        }
    )


def _check_user(user, types, new_types, create_fields, created_fields, filtered):
    """(failure list name, identifier) or ("", stored identifier, fields to store)."""
    if not isinstance(user, dict):
        return ("invalidEmails", "")
    email, user_id = user.get("email"), user.get("userId")
    if bool(email) == bool(user_id):
        return ("invalidEmails", email or user_id or "")
    if email and not store.looks_like_email(email):
        return ("invalidEmails", email)
    identifier = email.lower() if email else f"userId:{user_id}"
    failed_name = "invalidDataEmails" if email else "invalidDataUserIds"
    fields = {}
    for name, value in (user.get("dataFields") or {}).items():
        kind = field_type(value)
        if kind is None:
            continue
        fixed = types.get(name) or new_types.get(name)
        if fixed is None:
            if not create_fields:
                filtered.add(name)
                continue
            new_types[name] = kind
            created_fields.add(name)
        elif fixed != kind:
            return (failed_name, email or user_id)
        fields[name] = value
    if email:
        fields["email"] = email
    return ("", identifier, fields)
