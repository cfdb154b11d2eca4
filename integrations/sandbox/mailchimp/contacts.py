"""The Mailchimp emulator's audience: its details, batch subscribe and merge fields."""

from __future__ import annotations

import re

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.state import _member_view, _members, _merge_fields, _subscribed

MAX_MEMBERS = 500
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
_DATE = re.compile(r"^(\d{4}[-/]\d{2}[-/]\d{2}|\d{2}[-/]\d{2}[-/]\d{4})$")
_BIRTHDAY = re.compile(r"^\d{2}/\d{2}$")
_SIGNUP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")

# --- the audience and batch subscribe ---------------------------------------------------------


@csrf_exempt
def audience(request, host, list_id):
    if request.method == "GET":
        return _audience_info(request, host, list_id=list_id)
    if request.method == "POST":
        return _batch_subscribe(request, host, list_id=list_id)
    return HttpResponse(status=405)


@endpoint()
def _audience_info(request, account):
    members = _members(account)
    return json_response(
        {
            "id": account.credentials["list_id"],
            "name": account.name,
            "stats": {
                "member_count": _subscribed(members).count(),
                "unsubscribe_count": members.filter(attributes__status="unsubscribed").count(),
                "cleaned_count": members.filter(attributes__status="cleaned").count(),
            },
        }
    )


@endpoint(write=True)
def _batch_subscribe(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return problem(400, "JSON Parse Exception", "We encountered an unspecified JSON error.")
    members = data.get("members")
    if not isinstance(members, list):
        return problem(
            400,
            "Invalid Resource",
            "The resource submitted could not be validated.",
            [{"field": "members", "message": "Schema describes array, object found instead"}],
        )
    if len(members) > MAX_MEMBERS:
        return problem(
            400,
            "Invalid Resource",
            f"A batch may contain at most {MAX_MEMBERS} members; {len(members)} were sent.",
        )
    update_existing = data.get("update_existing") is True
    merge_types = {tag: kind for tag, (_, _, kind) in _merge_fields(account).items()}
    emails = [m.get("email_address", "") for m in members if isinstance(m, dict)]
    known = store.existing(
        PLATFORM, account.account, {str(e).lower() for e in emails if isinstance(e, str)}
    )
    created, updated, errors, changes = [], [], [], {}
    for member in members:
        outcome = _apply(member, known, changes, update_existing, merge_types)
        if isinstance(outcome, dict):
            errors.append(outcome)
        elif outcome[0] == "new":
            created.append(outcome[1])
        else:
            updated.append(outcome[1])
    store.upsert(PLATFORM, account.account, changes, known)
    return json_response(
        {
            "new_members": [_member_view(account, changes[e]) for e in created],
            "updated_members": [_member_view(account, changes[e]) for e in updated],
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
            "_links": [],
        }
    )


def _error(email, message: str, code: str = "ERROR_GENERIC", field: str = "", field_message=""):
    return {
        "email_address": email,
        "error": message,
        "error_code": code,
        "field": field,
        "field_message": field_message,
    }


def _apply(member, known, changes, update_existing: bool, merge_types):
    """("new" | "updated", identifier) or a per-member error dict."""
    if not isinstance(member, dict):
        return _error("", "Member must be an object")
    email = member.get("email_address")
    if not store.looks_like_email(email):
        return _error(
            email or "",
            f"{email} looks fake or invalid, please enter a real email address.",
            field="email_address",
            field_message="Please provide a valid email address.",
        )
    identifier = email.lower()
    status, status_if_new = member.get("status"), member.get("status_if_new")
    for name, value in (("status", status), ("status_if_new", status_if_new)):
        if value is not None and value not in STATUSES:
            return _error(email, "Invalid status", field=name, field_message="Invalid value")
    if status is None and status_if_new is None:
        return _error(email, "A status is required", field="status", field_message="Required field")
    merge_fields = member.get("merge_fields") or {}
    if not isinstance(merge_fields, dict):
        return _error(email, "Invalid merge fields", field="merge_fields")
    for tag, value in merge_fields.items():
        problem_text = _merge_problem(merge_types.get(tag), value)
        if problem_text:
            return _error(
                email,
                "Your merge fields were invalid.",
                field=tag,
                field_message=problem_text,
            )
    signup = member.get("timestamp_signup")
    if signup is not None and not (isinstance(signup, str) and _SIGNUP.match(signup)):
        return _error(
            email,
            "Invalid timestamp",
            field="timestamp_signup",
            field_message="Use YYYY-MM-DD HH:MM:SS or ISO 8601",
        )
    current = changes_as_known(changes, identifier) or known.get(identifier)
    if current is not None and current.suppressed:
        if current.attributes.get("permanently_deleted"):
            message = (
                f"{email} was permanently deleted and cannot be re-imported. The contact must "
                "re-subscribe to get back on the list."
            )
        else:
            message = (
                f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
                "review and cannot be subscribed."
            )
        return _error(email, message)
    known_merge = {tag: v for tag, v in merge_fields.items() if tag in merge_types}
    if current is None:
        attributes = {
            "email_address": email,
            "status": status or status_if_new,
            "merge_fields": known_merge,
        }
        if signup:
            attributes["timestamp_signup"] = signup
        changes[identifier] = attributes
        return ("new", identifier)
    if not update_existing:
        return _error(
            email,
            f"{email} is already a list member. Use PUT to insert or update list members.",
            code="ERROR_CONTACT_EXISTS",
        )
    before = current.attributes
    if status == "subscribed" and before.get("status") in ("unsubscribed", "cleaned"):
        return _error(
            email,
            f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
            "review and cannot be subscribed.",
        )
    attributes = {
        **before,
        "email_address": email,
        "merge_fields": {**(before.get("merge_fields") or {}), **known_merge},
    }
    if status:
        attributes["status"] = status
    if signup:
        attributes["timestamp_signup"] = signup
    changes[identifier] = attributes
    return ("updated", identifier)


def changes_as_known(changes, identifier):
    """A member sent twice in one batch: the second sees the first."""
    if identifier in changes:
        return store.StoredContact(changes[identifier], False)
    return None


def _merge_problem(kind, value) -> str:
    if kind is None or value in (None, ""):
        return ""
    if kind == "number" and not isinstance(value, (int, float)):
        return "Please enter a number"
    if kind == "date" and not (isinstance(value, str) and _DATE.match(value)):
        return "Please enter the date"
    if kind == "birthday" and not (isinstance(value, str) and _BIRTHDAY.match(value)):
        return "Please enter a month and day (MM/DD)"
    if kind == "text" and not isinstance(value, (str, int, float)):
        return "Please enter a value"
    return ""


# --- merge fields --------------------------------------------------------------------------


@require_GET
@endpoint()
def merge_fields(request, account):
    fields = [
        {
            "merge_id": merge_id,
            "tag": tag,
            "name": name,
            "type": kind,
            "required": False,
            "default_value": "",
            "public": True,
            "display_order": index,
            "options": {"date_format": "YYYY-MM-DD"} if kind == "date" else {},
            "list_id": account.credentials["list_id"],
        }
        for index, (tag, (merge_id, name, kind)) in enumerate(
            _merge_fields(account).items(), start=2
        )
    ]
    return json_response({"merge_fields": fields, "total_items": len(fields)})
