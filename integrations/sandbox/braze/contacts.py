"""Braze users in the emulator: /users/track (array attribute add/remove applied to the stored
user), custom attributes, user delete and export."""

from __future__ import annotations

import re

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import store
from integrations.sandbox.braze.auth import EMULATOR, PLATFORM, message_response
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType

MAX_OBJECTS = 75
MAU_MAX_OBJECTS = 50  # combined, on "Monthly Active Users CY 24-25" contracts
MAX_IDS = 50
ATTRIBUTES_PER_PAGE = 50
IDENTIFIERS = ("external_id", "braze_id", "user_alias", "email", "phone")
SUBSCRIBE_STATES = ("opted_in", "subscribed", "unsubscribed")
MAU_ACCOUNTS = {"sandbox-braze-mau-workspace"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?$")


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


def _array_operation(value) -> bool:
    """Braze's array attribute syntax: {"add": [...], "remove": [...]} (fact sheet §3)."""
    return (
        isinstance(value, dict)
        and bool(value)
        and set(value) <= {"add", "remove"}
        and all(isinstance(items, list) for items in value.values())
    )


def _applied(current, attribute_sets: list[dict]) -> dict:
    """The attributes one user ends with after its objects, in order: plain values set, array
    operations applied to the stored array (adds appended unless held, removes taken out)."""
    held = dict(current.attributes) if current else {}
    result: dict = {}
    for attributes in attribute_sets:
        for name, value in attributes.items():
            if not _array_operation(value):
                result[name] = value
                continue
            before = result.get(name, held.get(name))
            items = list(before) if isinstance(before, list) else []
            for item in value.get("add", []):
                if item not in items:
                    items.append(item)
            gone = value.get("remove", [])
            result[name] = [item for item in items if item not in gone]
    return result


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
        return message_response("Invalid JSON in the request body", 400)
    arrays = {name: data.get(name) or [] for name in ("attributes", "events", "purchases")}
    if not all(isinstance(v, list) for v in arrays.values()):
        return message_response("'attributes', 'events' and 'purchases' must be arrays", 400)
    total = sum(len(v) for v in arrays.values())
    too_many = any(len(v) > MAX_OBJECTS for v in arrays.values())
    if account.account in MAU_ACCOUNTS:
        too_many = too_many or total > MAU_MAX_OBJECTS
    if too_many:
        return message_response("Max Input Length Exceeded", 400)
    if total == 0:
        return message_response(
            "Valid data must be provided in the 'attributes', 'events', or 'purchases' field.",
            400,
        )
    errors, updates, positions = [], {}, {}
    for index, obj in enumerate(arrays["attributes"]):
        problem = _check(index, obj)
        if problem:
            errors.append(_error(index, problem))
            continue
        kind, identifier = _identifier(obj)
        attributes = {k: v for k, v in obj.items() if not k.startswith("_") and k != "user_alias"}
        updates.setdefault(identifier, []).append(attributes)
        positions.setdefault(identifier, []).append((index, kind, obj))
    known = store.existing(PLATFORM, account.account, updates)
    changes = {
        identifier: _applied(known.get(identifier), attribute_sets)
        for identifier, attribute_sets in updates.items()
    }
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


STANDARD_NAMES = frozenset(
    {
        "external_id", "email", "first_name", "last_name", "email_subscribe", "phone",
        "country", "language", "home_city", "time_zone", "dob", "gender",
    }
)  # fmt: skip


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
        return message_response("Invalid JSON in the request body", 400)
    identifiers, problem = _requested_users(data)
    if identifiers is None:
        return message_response(problem, 400)
    deleted, _ = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=identifiers
    ).delete()
    return json_response({"message": "success", "deleted": deleted}, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="email.status")
def email_status(request, account):
    """POST /email/status {"email": str | [≤50], "subscription_state": "opted_in" |
    "subscribed" | "unsubscribed"}: every user with the address gets that email subscription
    state (a campaign skips the unsubscribed ones). An address no user has yet is accepted
    (Braze applies it to a later profile); the emulator keeps nothing for it."""
    data = parse_json(request)
    if not isinstance(data, dict):
        return message_response("Invalid JSON in the request body", 400)
    emails = data.get("email")
    emails = [emails] if isinstance(emails, str) else emails
    state = data.get("subscription_state")
    if not isinstance(emails, list) or not emails or len(emails) > 50:
        return message_response("email must be an address or an array of up to 50", 400)
    if not all(isinstance(e, str) and store.looks_like_email(e) for e in emails):
        return message_response("email holds an invalid address", 400)
    if state not in ("opted_in", "subscribed", "unsubscribed"):
        return message_response(
            "subscription_state must be opted_in, subscribed or unsubscribed", 400
        )
    lowered = [e.lower() for e in emails]
    users = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    for row in users.filter(identifier__in=lowered) | users.filter(attributes__email__in=lowered):
        row.attributes = {**row.attributes, "email_subscribe": state}
        row.save(update_fields=["attributes", "updated_at"])
    return json_response({"message": "success"}, status=201)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(permission="users.export.ids", endpoint="users.export.ids")
def users_export_ids(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return message_response("Invalid JSON in the request body", 400)
    fields = data.get("fields_to_export")
    if not isinstance(fields, list) or not fields:
        return message_response("fields_to_export is required", 400)
    identifiers, problem = _requested_users(data)
    if identifiers is None:
        return message_response(problem, 400)
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
