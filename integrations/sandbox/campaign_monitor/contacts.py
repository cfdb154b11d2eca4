"""The Campaign Monitor emulator's subscribers: the list's custom fields, the synchronous
import (Code 210 partial failures), one subscriber, its lists and history."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import store
from integrations.sandbox.campaign_monitor import campaigns, lists
from integrations.sandbox.campaign_monitor.auth import (
    CLIENT_ID,
    EMULATOR,
    PLATFORM,
    _error,
    _rows,
    list_id,
)
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType

MAX_SUBSCRIBERS = 1000
MAX_VALUE = 250
_DATA_TYPES = ("Text", "Number", "MultiSelectOne", "MultiSelectMany", "Date", "Country", "USState")

# --- lists ------------------------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint()
def custom_fields(request, account, list_ref: str):
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    return json_response(
        [
            {
                "FieldName": row.name,
                "Key": f"[{row.name}]",
                "DataType": row.type,
                "FieldOptions": [],
                "VisibleInPreferenceCenter": True,
            }
            for row in rows
        ]
    )


# --- subscribers ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
@EMULATOR.endpoint(group="import")
def import_subscribers(request, account, list_ref: str):
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("Subscribers"), list):
        return _error(400, "Failed to deserialize your request.")
    subscribers = data["Subscribers"]
    if not subscribers:
        return _error(212, "Subscribers Array empty")
    if len(subscribers) > MAX_SUBSCRIBERS:
        return _error(213, "Too many subscribers: at most 1000 an import")
    resubscribe = data.get("Resubscribe") is True
    types = {
        row.name: row.type
        for row in SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    }
    failures, changes, seen, duplicates = [], {}, set(), []
    for entry in subscribers:
        email = entry.get("EmailAddress") if isinstance(entry, dict) else None
        if not store.looks_like_email(email):
            failures.append(
                {"EmailAddress": email or "", "Code": 1, "Message": "Invalid Email Address"}
            )
            continue
        key = email.lower()
        if key in seen:
            duplicates.append(email)
        seen.add(key)
        problem = _check_subscriber(entry, types)
        if problem:
            failures.append({"EmailAddress": email, "Code": problem[0], "Message": problem[1]})
            continue
        changes[key] = {**changes.get(key, {}), **_attributes(entry)}
    created = lists.created_list(account, list_ref)
    if created is not None:
        refused, existing, new = lists.import_into(account, created, changes, resubscribe)
        failures += refused
        return _import_answer(failures, seen, existing, new, duplicates)
    known = store.existing(PLATFORM, account.account, changes)
    for key, contact in known.items():
        state = contact.attributes.get("State", "Active")
        if contact.suppressed:
            failures.append({"EmailAddress": key, "Code": 204, "Message": "In Suppression List"})
            del changes[key]
        elif state != "Active" and not resubscribe:
            # Not reactivated: fields are updated, the state stays.
            changes[key]["State"] = state
    store.upsert(PLATFORM, account.account, changes, known)
    existing = sum(1 for key in changes if key in known)
    return _import_answer(failures, seen, existing, len(changes) - existing, duplicates)


def _import_answer(failures: list, seen: set, existing: int, new: int, duplicates: list):
    """201 with the counts, or the 400 Code 210 partial failure carrying them in ResultData."""
    result = {
        "FailureDetails": failures,
        "TotalUniqueEmailsSubmitted": len(seen),
        "TotalExistingSubscribers": existing,
        "TotalNewSubscribers": new,
        "DuplicateEmailsInSubmission": duplicates,
    }
    if failures:
        return _error(210, "Subscriber Import had some failures", ResultData=result)
    return json_response(result, status=201)


def _check_subscriber(entry: dict, types: dict) -> tuple[int, str] | None:
    if entry.get("ConsentToTrack") not in ("Yes", "No", "Unchanged"):
        return (1, "ConsentToTrack must be Yes, No or Unchanged")
    name = entry.get("Name", "")
    if not isinstance(name, str):
        return (1, "Name must be a string")
    fields = entry.get("CustomFields", [])
    if not isinstance(fields, list):
        return (1, "CustomFields must be a list")
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("Value"), str):
            return (1, "Custom field values must be strings")
        key, value = field.get("Key"), field["Value"]
        if key not in types:
            continue  # unknown keys are ignored by Campaign Monitor
        if len(value) > MAX_VALUE:
            return (1, f"Value of {key} is longer than 250 characters")
        if types[key] == "Number" and value:
            try:
                float(value)
            except ValueError:
                return (1, f"Value of {key} is not a number")
    return None


def _attributes(entry: dict) -> dict:
    attributes = {"EmailAddress": entry["EmailAddress"], "State": "Active"}
    if entry.get("Name"):
        attributes["Name"] = entry["Name"]
    attributes["ConsentToTrack"] = entry.get("ConsentToTrack", "Unchanged")
    many: dict[str, list] = {}
    for field in entry.get("CustomFields", []):
        many.setdefault(field["Key"], []).append(field["Value"])
    for key, values in many.items():
        attributes[key] = values[0] if len(values) == 1 else values
    return attributes


def _subscriber_body(row: SandboxContact, state: str | None = None) -> dict:
    attrs = row.attributes or {}
    standard = {"EmailAddress", "Name", "State", "ConsentToTrack", lists.DELETED_FROM}
    return {
        "EmailAddress": attrs.get("EmailAddress", row.identifier),
        "Name": attrs.get("Name", ""),
        "Date": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "ListJoinedDate": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "State": state or attrs.get("State", "Active"),
        "CustomFields": [{"Key": k, "Value": v} for k, v in attrs.items() if k not in standard],
        "ReadsEmailWith": "",
        "ConsentToTrack": attrs.get("ConsentToTrack", "Unchanged"),
    }


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@EMULATOR.endpoint()
def subscriber(request, account, list_ref: str):
    email = request.GET.get("email", "").lower()
    row = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=email
    ).first()
    if row is None:
        return _error(203, "Subscriber not in list")
    created = lists.created_list(account, list_ref)
    if created is not None:  # a list made through the API: its own membership
        if request.method == "DELETE":
            if not lists.delete_member(row, created):
                return _error(203, "Subscriber not in list")
            return HttpResponse(status=200)
        state = lists.state_of(row, created)
        if state is None:
            return _error(203, "Subscriber not in list")
        return json_response(_subscriber_body(row, state))
    if request.method == "DELETE":
        row.attributes = {**row.attributes, "State": "Deleted"}  # a soft delete
        row.save(update_fields=["attributes", "updated_at"])
        return HttpResponse(status=200)
    return json_response(_subscriber_body(row))


@require_GET
@EMULATOR.endpoint()
def lists_for_email(request, account, client_id: str):
    row = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=request.GET.get("email", "").lower()
    ).first()
    if row is None or client_id != CLIENT_ID:
        return json_response([])
    found = []
    for s in _rows(account, "list"):
        state = lists.state_of(row, s) if s.static else row.attributes.get("State", "Active")
        if state is not None:
            found.append(
                {
                    "ListID": list_id(s.remote_id),
                    "ListName": s.name,
                    "SubscriberState": state,
                    "DateSubscriberAdded": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                }
            )
    return json_response(found)


@require_GET
@EMULATOR.endpoint()
def history(request, account, list_ref: str):
    """The campaigns sent to the subscriber, with their opens and clicks so far."""
    email = request.GET.get("email", "").lower()
    exists = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=email
    ).exists()
    if not exists:
        return _error(203, "Subscriber not in list")
    return json_response(campaigns.history(account, email))


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def suppress(request, account, client_id: str):
    """POST /clients/{clientid}/suppress.json {"EmailAddresses": [...]} → 200, empty: the
    addresses go on the client's suppression list (a stored subscriber is marked suppressed:
    no list shows it, no campaign reaches it, an import answers Code 204; an address no list
    holds yet is kept as a suppressed entry so a later import is refused the same way)."""
    data = parse_json(request)
    emails = data.get("EmailAddresses") if isinstance(data, dict) else None
    if not isinstance(emails, list) or not emails:
        return _error(1, "EmailAddresses must list at least one address")
    if not all(isinstance(e, str) and store.looks_like_email(e) for e in emails):
        return _error(1, "Invalid Email Address")
    for email in {e.strip().lower() for e in emails}:
        contact, created = SandboxContact.objects.get_or_create(
            platform=PLATFORM,
            account=account.account,
            identifier=email,
            defaults={"attributes": {"EmailAddress": email}, "suppressed": True},
        )
        if not created and not contact.suppressed:
            contact.suppressed = True
            contact.save(update_fields=["suppressed", "updated_at"])
    return HttpResponse(status=200)
