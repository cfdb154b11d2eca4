"""Braze emulator: /users/track, custom attributes, segments and their sizes, user delete/export.

Served as /sandbox/braze/<instance REST host>/<real path>, so instances stay distinct: a key
used on another instance's host is answered 401, as Braze does. Keys carry permissions; an
endpoint the key may not use answers 403 "Access Denied". Users identified by email are stored
under the lower-cased address, users identified by external id as `external_id:<id>`. A stored
contact marked `suppressed` stands for an identifier Braze blocks ("blacklisted and
disallowed"): its objects come back as minor errors and nothing is written.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations import clock
from integrations.sandbox import accounts, emulation, store
from integrations.sandbox.emulation import Emulator, json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "braze"
HOSTS = {
    "rest.iad-01.braze.com": "us-01", "rest.iad-02.braze.com": "us-02",
    "rest.iad-03.braze.com": "us-03", "rest.iad-04.braze.com": "us-04",
    "rest.iad-05.braze.com": "us-05", "rest.iad-06.braze.com": "us-06",
    "rest.iad-07.braze.com": "us-07", "rest.iad-08.braze.com": "us-08",
    "rest.iad-10.braze.com": "us-10", "rest.fra-01.braze.eu": "eu-01",
    "rest.fra-02.braze.eu": "eu-02", "rest.au-01.braze.com": "au-01",
}  # fmt: skip
MAX_OBJECTS = 75
MAU_MAX_OBJECTS = 50  # combined, on "Monthly Active Users CY 24-25" contracts
MAX_IDS = 50
ATTRIBUTES_PER_PAGE = 50
SEGMENTS_PER_PAGE = 100
IDENTIFIERS = ("external_id", "braze_id", "user_alias", "email", "phone")
SUBSCRIBE_STATES = ("opted_in", "subscribed", "unsubscribed")
# endpoint group → (requests, per seconds)
RATES = {
    "default": (250_000, 3600.0),
    "users.track": (3000, 3.0),
    "custom_attributes": (1000, 3600.0),
    "users.delete": (20_000, 60.0),
    "users.export.ids": (250, 60.0),
}
ALL_PERMISSIONS = frozenset(
    {
        "users.track", "users.delete", "users.export.ids", "segments.list",
        "segments.data_series", "segments.details", "custom_attributes.get",
    }
)  # fmt: skip
READ_PERMISSIONS = frozenset({"segments.list", "segments.data_series", "custom_attributes.get"})
MAU_ACCOUNTS = {"sandbox-braze-mau-workspace"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")
_SEGMENT_PREFIX = "5a9d0000-0000-4000-8000-"


def _message(message: str, status: int, errors: list | None = None) -> HttpResponse:
    body: dict = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status)


def _throttled(request, account, *, endpoint: str = "default", **_) -> HttpResponse | None:
    """Braze's 429: no Retry-After, but X-RateLimit-* headers with an epoch reset time."""
    count, per = RATES[endpoint]
    wait = emulation.over_limit(f"{PLATFORM}:{account.account}:{endpoint}", count, per)
    if wait is None:
        return None
    return json_response(
        {"message": "Rate Limited"},
        status=429,
        headers={
            "X-RateLimit-Limit": str(count),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(clock.now() + wait) + 1),
        },
    )


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    key = header[7:] if header.startswith("Bearer ") else ""
    account = accounts.find(PLATFORM, api_key=key) if key else None
    if account is None or account.region != region:
        # A wrong key and a key of another instance look the same.
        return _message("Invalid API key: " + (key[:4] + "…" if key else "missing"), 401)
    return account


def _admit(request, account, *, permission: str, **_):
    allowed = READ_PERMISSIONS if account.read_only else ALL_PERMISSIONS
    return None if permission in allowed else _message("Access Denied", 403)


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a Braze REST host",
    authenticate=_authenticate,
    throttled={"message": "Rate Limited"},
    admit=_admit,
    limit=_throttled,
)


def _identifier(obj: dict) -> tuple[str, str] | None:
    """(kind, stored identifier) of one attributes object; None when it names nobody."""
    for kind in IDENTIFIERS:
        value = obj.get(kind)
        if value in (None, ""):
            continue
        if kind == "user_alias":
            if not isinstance(value, dict) or not value.get("alias_name"):
                return None
            return kind, f"alias:{value.get('alias_label', '')}:{value['alias_name']}"
        if kind == "email":
            return kind, str(value).lower()
        return kind, f"{kind}:{value}"
    return None


def _error(index: int, message: str) -> dict:
    return {"type": message, "input_array": "attributes", "index": index}


def _check(index: int, obj) -> str:
    """An error message for one attributes object, or ''."""
    if not isinstance(obj, dict):
        return "attributes object must be a JSON object"
    if _identifier(obj) is None:
        return "'external_id', 'braze_id', 'user_alias', 'email' or 'phone' is required"
    email = obj.get("email")
    if email is not None and not store.looks_like_email(email):
        return f"'{email}' is not a valid email address"
    state = obj.get("email_subscribe")
    if state is not None and state not in SUBSCRIBE_STATES:
        return f"email_subscribe must be one of {', '.join(SUBSCRIBE_STATES)}"
    return ""


def field_type(value) -> str:
    if isinstance(value, bool):
        return "Boolean"
    if isinstance(value, int | float):
        return "Number"
    if isinstance(value, str):
        return "Date" if _DATE.match(value) and len(value) >= 10 else "String"
    if isinstance(value, list):
        return "Array"
    return "Object"


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="users.track", endpoint="users.track")
def users_track(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _message("Invalid JSON in the request body", 400)
    arrays = {name: data.get(name) or [] for name in ("attributes", "events", "purchases")}
    if not all(isinstance(v, list) for v in arrays.values()):
        return _message("'attributes', 'events' and 'purchases' must be arrays", 400)
    total = sum(len(v) for v in arrays.values())
    too_many = any(len(v) > MAX_OBJECTS for v in arrays.values())
    if account.account in MAU_ACCOUNTS:
        too_many = too_many or total > MAU_MAX_OBJECTS
    if too_many:
        return _message("Max Input Length Exceeded", 400)
    if total == 0:
        return _message(
            "Valid data must be provided in the 'attributes', 'events', or 'purchases' field.",
            400,
        )
    errors, changes, positions = [], {}, {}
    for index, obj in enumerate(arrays["attributes"]):
        problem = _check(index, obj)
        if problem:
            errors.append(_error(index, problem))
            continue
        kind, identifier = _identifier(obj)
        attributes = {k: v for k, v in obj.items() if not k.startswith("_") and k != "user_alias"}
        changes[identifier] = {**changes.get(identifier, {}), **attributes}
        positions.setdefault(identifier, []).append((index, kind, obj))
    known = store.existing(PLATFORM, account.account, changes)
    for identifier in list(changes):
        contact = known.get(identifier)
        if contact is not None and contact.suppressed:
            for index, kind, _ in positions[identifier]:
                errors.append(_error(index, f"provided {kind} is blacklisted and disallowed"))
            del changes[identifier]
        elif contact is None and all(
            o.get("_update_existing_only") for _, _, o in positions[identifier]
        ):
            del changes[identifier]  # update-only objects never create a user
    store.upsert(PLATFORM, account.account, changes, known)
    types = {
        name: field_type(value)
        for attrs in changes.values()
        for name, value in attrs.items()
        if name not in IDENTIFIERS and value is not None
    }
    SandboxFieldType.objects.bulk_create(
        [
            SandboxFieldType(platform=PLATFORM, account=account.account, name=n, type=t)
            for n, t in types.items()
        ],
        ignore_conflicts=True,
    )
    body = {
        "message": "success",
        "attributes_processed": sum(len(positions[i]) for i in changes),
        "events_processed": 0,
        "purchases_processed": 0,
    }
    if errors:
        body["errors"] = sorted(errors, key=lambda e: e["index"])
    return json_response(body, status=201)


@require_GET
@EMULATOR.endpoint(permission="custom_attributes.get", endpoint="custom_attributes")
def custom_attributes(request, account):
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    rows = rows.exclude(name__in=STANDARD_NAMES).order_by("name")
    cursor = request.GET.get("cursor", "")
    if cursor:
        rows = rows.filter(name__gt=cursor)
    page = list(rows[: ATTRIBUTES_PER_PAGE + 1])
    headers = {}
    if len(page) > ATTRIBUTES_PER_PAGE:
        page = page[:ATTRIBUTES_PER_PAGE]
        url = request.build_absolute_uri(request.path) + f"?cursor={page[-1].name}"
        headers["Link"] = f'<{url}>; rel="next"'
    return json_response(
        {
            "message": "success",
            "attributes": [
                {
                    "name": row.name,
                    "description": "",
                    "data_type": row.type,
                    "array_length": 25 if row.type == "Array" else None,
                    "status": "Active",
                    "tag_names": [],
                }
                for row in page
            ],
        },
        headers=headers,
    )


def segment_id(remote_id: int) -> str:
    return f"{_SEGMENT_PREFIX}{remote_id:012d}"


def _segment(account, value: str) -> SandboxSegment | None:
    if not value.startswith(_SEGMENT_PREFIX) or not value[len(_SEGMENT_PREFIX) :].isdigit():
        return None
    return SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=int(value[len(_SEGMENT_PREFIX) :])
    ).first()


@require_GET
@EMULATOR.endpoint(permission="segments.list")
def segments_list(request, account):
    try:
        page = int(request.GET.get("page", "0"))
    except ValueError:
        return _message("page must be an integer", 400)
    order = "-remote_id" if request.GET.get("sort_direction", "asc") == "desc" else "remote_id"
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    rows = rows.order_by(order)[page * SEGMENTS_PER_PAGE : (page + 1) * SEGMENTS_PER_PAGE]
    return json_response(
        {
            "message": "success",
            "segments": [
                {
                    "id": segment_id(s.remote_id),
                    "name": s.name,
                    "analytics_tracking_enabled": s.kind != "untracked",
                    "tags": [],
                }
                for s in rows
            ],
        }
    )


@require_GET
@EMULATOR.endpoint(permission="segments.data_series")
def segments_data_series(request, account):
    segment = _segment(account, request.GET.get("segment_id", ""))
    if segment is None:
        return _message("Invalid segment_id", 400)
    try:
        length = int(request.GET.get("length", ""))
    except ValueError:
        length = 0
    if not 1 <= length <= 100:
        return _message("length must be an integer between 1 and 100", 400)
    if segment.kind == "untracked":
        return json_response({"message": "success", "data": []})
    today = datetime.now(UTC).date().isoformat()
    return json_response(
        {"message": "success", "data": [{"time": today, "size": segment.members().count()}]}
    )


def _requested_users(data: dict) -> tuple[list[str], str] | tuple[None, str]:
    """Stored identifiers named by a delete/export body, or (None, error message)."""
    if "external_ids" in data:
        ids = data["external_ids"]
        # Braze refuses an empty list on shape (400), whatever the key's permissions.
        if not isinstance(ids, list) or not ids or len(ids) > MAX_IDS:
            return None, f"external_ids must be an array of 1 to {MAX_IDS} ids"
        return [f"external_id:{i}" for i in ids], ""
    if "email_addresses" in data:  # delete
        entries = data["email_addresses"]
        if not isinstance(entries, list) or len(entries) > MAX_IDS:
            return None, f"email_addresses must be an array of at most {MAX_IDS}"
        if any(not isinstance(e, dict) or not e.get("prioritization") for e in entries):
            return None, "each email address needs an email and a prioritization"
        return [str(e.get("email", "")).lower() for e in entries], ""
    if "email_address" in data:  # export
        return [str(data["email_address"]).lower()], ""
    return None, "one identifier type is required"


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="users.delete", endpoint="users.delete")
def users_delete(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _message("Invalid JSON in the request body", 400)
    identifiers, problem = _requested_users(data)
    if identifiers is None:
        return _message(problem, 400)
    deleted, _ = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=identifiers
    ).delete()
    return json_response({"message": "success", "deleted": deleted}, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="users.export.ids", endpoint="users.export.ids")
def users_export_ids(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _message("Invalid JSON in the request body", 400)
    fields = data.get("fields_to_export")
    if not isinstance(fields, list) or not fields:
        return _message("fields_to_export is required", 400)
    identifiers, problem = _requested_users(data)
    if identifiers is None:
        return _message(problem, 400)
    rows = {
        row.identifier: row
        for row in SandboxContact.objects.filter(
            platform=PLATFORM, account=account.account, identifier__in=identifiers
        )
    }
    users = []
    for row in rows.values():
        custom = {k: v for k, v in row.attributes.items() if k not in STANDARD_NAMES}
        user = {k: v for k, v in row.attributes.items() if k in STANDARD_NAMES}
        if row.identifier.startswith("external_id:"):
            user["external_id"] = row.identifier.removeprefix("external_id:")
        user["custom_attributes"] = custom
        users.append({k: v for k, v in user.items() if k in fields})
    invalid = [
        i.removeprefix("external_id:")
        for i in identifiers
        if i.startswith("external_id:") and i not in rows
    ]
    return json_response(
        {"message": "success", "users": users, "invalid_user_ids": invalid}, status=201
    )


STANDARD_NAMES = frozenset(
    {
        "external_id", "email", "first_name", "last_name", "email_subscribe", "phone",
        "country", "language", "home_city", "time_zone", "dob", "gender",
    }
)  # fmt: skip


def seed_account(account) -> None:
    """Demo segments for one emulated workspace (filter-based, analytics tracking on)."""
    emulation.seed_segments(PLATFORM, account.account, kinds=("filter", "filter"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-us",
        "us-01",
        {"api_key": "sandbox-braze-rest-key-us01"},
        "SharpSend demo workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-eu",
        "eu-01",
        {"api_key": "sandbox-braze-rest-key-eu01"},
        "SharpSend EU workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-mau-workspace",
        "us-03",
        {"api_key": "sandbox-braze-rest-key-mau", "objects_per_request": "50"},
        "SharpSend workspace on a MAU contract",
        purpose="A workspace on a Monthly Active Users contract (instance US-03): it takes at "
        "most 50 objects a request, so enter Objects per request 50; without it every batch "
        "is refused with “Max Input Length Exceeded”.",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-us",
        "us-01",
        {"api_key": "sandbox-braze-restricted-key-us01"},
        "SharpSend demo workspace",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/users/track", users_track),
    path("<str:host>/users/delete", users_delete),
    path("<str:host>/users/export/ids", users_export_ids),
    path("<str:host>/custom_attributes", custom_attributes),
    path("<str:host>/segments/list", segments_list),
    path("<str:host>/segments/data_series", segments_data_series),
]
