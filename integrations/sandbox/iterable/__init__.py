"""Iterable emulator: lists and their sizes, user fields, users/bulkUpdate.

Served as /sandbox/iterable/<real host>/api/…, so the two data centers stay distinct.
"""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import (
    Emulator,
    json_response,
    parse_json,
    read_body,
    windowed,
)
from integrations.sandbox.models import SandboxFieldType, SandboxSegment

PLATFORM = "iterable"
HOSTS = {"api.iterable.com": "us", "api.eu.iterable.com": "eu"}
MAX_BODY = 4_000_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")
_LIMIT_BODY = {"code": "RateLimitExceeded", "msg": "Rate limit exceeded", "params": None}
FAILURE_LISTS = (
    "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds",
    "invalidDataEmails", "invalidDataUserIds", "invalidEmails", "invalidUserIds",
    "notFoundEmails", "notFoundUserIds",
)  # fmt: skip
# endpoint → (requests, per seconds), from the operation descriptions in the spec
RATES = {
    "lists": (100, 1.0),
    "lists.size": (5, 60.0),
    "users.getFields": (3, 1.0),
    "users.bulkUpdate": (5, 1.0),
}


def _error(code: str, msg: str, status: int) -> HttpResponse:
    return json_response({"code": code, "msg": msg, "params": None}, status=status)


def _authenticate(request, region, **_):
    account = accounts.find(PLATFORM, api_key=request.headers.get("Api-Key", ""))
    if account is None or account.region != region:
        return _error("BadApiKey", "Invalid API key", 401)
    return account


def _admit(request, account, *, write: bool = False, **_):
    if write and account.read_only:
        return _error("BadApiKey", "This API key is read-only", 401)
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not an Iterable host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    admit=_admit,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, option="endpoint"),
)


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
@EMULATOR.endpoint(endpoint="lists")
def lists(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return json_response(
        {
            "lists": [
                {
                    "id": s.remote_id,
                    "name": s.name,
                    "description": "",
                    "createdAt": 1700000000000,
                    "listType": s.kind or "Standard",
                }
                for s in rows
            ]
        }
    )


@require_GET
@EMULATOR.endpoint(endpoint="lists.size")
def list_size(request, account, list_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=list_id
    ).first()
    if segment is None:
        return _error("BadParams", f"List {list_id} does not exist", 400)
    return HttpResponse(str(segment.members().count()), content_type="text/plain")


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
        return _error("BatchTooLarge", "Request body is larger than 4MB", 400)
    data = parse_json(request)
    if not isinstance(data, dict):
        return _error("BadJsonBody", "Could not parse the request body", 400)
    users = data.get("users")
    if not isinstance(users, list):
        return _error("BadParams", "users is required", 400)
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


def seed_account(account) -> None:
    """Demo lists for one emulated project."""
    from integrations.sandbox.emulation import seed_segments

    seed_segments(PLATFORM, account.account, kinds=("Dynamic", "Standard"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-us",
        "us",
        {"api_key": "sandbox-iterable-server-key-us"},
        "SharpSend demo project",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-eu",
        "eu",
        {"api_key": "sandbox-iterable-server-key-eu"},
        "SharpSend EU project",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-us",
        "us",
        {"api_key": "sandbox-iterable-readonly-key-us"},
        "SharpSend demo project",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/api/lists", lists),
    path("<str:host>/api/lists/<int:list_id>/size", list_size),
    path("<str:host>/api/users/getFields", get_fields),
    path("<str:host>/api/users/bulkUpdate", bulk_update),
]
