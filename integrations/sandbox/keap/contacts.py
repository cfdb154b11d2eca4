"""The Keap emulator's contacts: the contact model, list and upsert (duplicate_option), one
contact and its tags, and an address's opt-in status."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_http_methods

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.keap.auth import PLATFORM, _error, gated
from integrations.sandbox.keap.state import (
    CREATED,
    DUPLICATE_OPTIONS,
    LISTABLE,
    MARKETABLE,
    MAX_LENGTHS,
    REOPTABLE,
    REQUEST_PROPERTIES,
    SCALARS,
    _by_email,
    _contact_json,
    _contacts,
    _fields,
    _next_id,
    _page,
    _tag_json,
)
from integrations.sandbox.models import SandboxContact, SandboxSegment


@require_GET
@gated
def contact_model(request, account):
    return json_response(
        {
            "custom_fields": list(_fields(account.account).values()),
            "optional_properties": ["custom_fields", "notes", "origin", "utm_parameters"],
        }
    )


@require_http_methods(["GET", "POST"])
@gated
def contacts(request, account):
    if request.method == "GET":
        return _list_contacts(request, account)
    return _create_contact(request, account)


def _list_contacts(request, account):
    rows = _contacts(account.account).order_by("id")
    expression = request.GET.get("filter", "")
    if expression:
        name, sep, value = expression.partition("==")
        if not sep or name != "email":
            return _error(400, f"Unsupported filter: {expression}", "Bad Request")
        rows = _by_email(account.account, value)
    paged = _page(request, list(rows))
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    fields = _fields(account.account)
    wanted = {f for f in request.GET.get("fields", "").split(",") if f}
    if wanted - LISTABLE:
        return _error(400, f"Unknown fields: {', '.join(sorted(wanted - LISTABLE))}", "Bad Request")
    contacts = [_contact_json(c, fields) for c in chunk]
    if wanted:  # only the properties asked for (and the id)
        contacts = [{k: v for k, v in c.items() if k in wanted or k == "id"} for c in contacts]
    return json_response({"contacts": contacts, "next_page_token": token})


def _create_contact(request, account):
    option = request.GET.get("duplicate_option")
    if option is not None and option not in DUPLICATE_OPTIONS:
        return _error(400, f"Invalid duplicate_option: {option}", "Bad Request")
    data = parse_json(request)
    if not isinstance(data, dict):
        return _error(400, "The request body must be a JSON object", "Bad Request")
    unknown = sorted(set(data) - REQUEST_PROPERTIES)
    if unknown:
        return _error(400, f"Unknown properties: {', '.join(unknown)}", "Bad Request")
    if not any(data.get(k) for k in ("email_addresses", "phone_numbers", "addresses")):
        return _error(
            400,
            "Contact must contain at least one item in email_addresses, phone_numbers, or "
            "addresses",
            "Bad Request",
        )
    for key, limit in MAX_LENGTHS.items():
        if isinstance(data.get(key), str) and len(data[key]) > limit:
            return _error(400, f"{key} must be at most {limit} characters", "Bad Request")
    email, reason = None, None
    for entry in data.get("email_addresses") or []:
        if not isinstance(entry, dict) or entry.get("field") not in ("EMAIL1", "EMAIL2", "EMAIL3"):
            return _error(400, "Each email address needs an email and a field", "Bad Request")
        address = entry.get("email")
        limit = 75 if entry["field"] == "EMAIL1" else 100
        if not store.looks_like_email(address) or len(address) > limit:
            return _error(400, f"Invalid email address: {address}", "Bad Request")
        if entry["field"] == "EMAIL1":
            email, reason = address, entry.get("opt_in_reason")
    fields = _fields(account.account)
    by_id = {meta["id"]: name for name, meta in fields.items()}
    custom = {}
    for entry in data.get("custom_fields") or []:
        name = by_id.get(str((entry or {}).get("id")))
        if name is None:
            return _error(400, f"Invalid custom field id: {(entry or {}).get('id')}", "Bad Request")
        custom[name] = entry.get("content")

    match = None
    if option and email:
        candidates = list(_by_email(account.account, email))
        if option != "Email":
            candidates = [
                c
                for c in candidates
                if c.attributes.get("given_name") == data.get("given_name")
                and c.attributes.get("family_name") == data.get("family_name")
            ]
        match = candidates[0] if candidates else None

    current = dict(match.attributes) if match else {}
    attributes = {k: v for k, v in current.items() if k not in fields}  # custom: replace-all
    if "custom_fields" not in data:
        attributes.update({k: v for k, v in current.items() if k in fields})
    attributes.update(custom)
    attributes.update({k: v for k, v in data.items() if k in SCALARS})
    if "email_addresses" in data:
        same = bool(email and current.get("email", "").lower() == email.lower())
        if email and not same:
            attributes["email_status"] = "SINGLE_OPT_IN" if reason else "NON_MARKETABLE"
        elif not email:
            attributes.pop("email_status", None)
        attributes["email"] = email
        if not email:
            attributes.pop("email")
    if "phone_numbers" in data:
        phone = next((p.get("number") for p in data["phone_numbers"] if isinstance(p, dict)), None)
        attributes["phone"] = phone
    identifier = match.identifier if match else _next_id(account.account)
    # Replace, not merge: what is left out above is gone, as in Keap.
    store.upsert(PLATFORM, account.account, {identifier: attributes}, known={})
    contact = _contacts(account.account).get(identifier=identifier)
    return json_response(_contact_json(contact, fields), status=200 if match else 201)


@require_http_methods(["GET", "DELETE"])
@gated
def contact(request, account, contact_id: str):
    row = _contacts(account.account).filter(identifier=contact_id).first()
    if row is None:
        return _error(404, f"Contact {contact_id} not found", "Not Found")
    if request.method == "DELETE":
        row.delete()
        return HttpResponse(status=204)
    return json_response(_contact_json(row, _fields(account.account)))


def _tags_of(account: str, row: SandboxContact) -> list[SandboxSegment]:
    tags = SandboxSegment.objects.filter(platform=PLATFORM, account=account)
    return [t for t in tags if t.members().filter(pk=row.pk).exists()]


@require_GET
@gated
def contact_tags(request, account, contact_id: str):
    row = _contacts(account.account).filter(identifier=contact_id).first()
    if row is None:
        return _error(404, f"Contact {contact_id} not found", "Not Found")
    paged = _page(request, _tags_of(account.account, row))
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response(
        {
            "tags": [{"tag": _tag_json(t), "applied_time": CREATED} for t in chunk],
            "next_page_token": token,
        }
    )


def _status_json(row: SandboxContact) -> dict:
    status = row.attributes.get("email_status", "NON_MARKETABLE")
    return {
        "email": row.attributes["email"],
        "opted_in": status in MARKETABLE,
        "status": status,
        "create_time": CREATED,
    }


@require_http_methods(["GET", "PATCH"])
@gated
def email_status(request, account, email: str):
    rows = list(_by_email(account.account, email))
    if not rows:
        return _error(404, f"Email address {email} not found", "Not Found")
    if request.method == "GET":
        return json_response(_status_json(rows[0]))
    data = parse_json(request)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("opted_in"), bool)
        or not data.get("reason")
    ):
        return _error(400, "opted_in (boolean) and reason are required", "Bad Request")
    for row in rows:
        status = row.attributes.get("email_status", "NON_MARKETABLE")
        if data["opted_in"] and status in REOPTABLE:
            status = "SINGLE_OPT_IN"
        elif not data["opted_in"] and status in MARKETABLE:
            status = "MANUAL"  # "Opt-Out: Manual"
        # Anything else (unsubscribed, bounced, complained …) stays as it is.
        row.attributes = {**row.attributes, "email_status": status}
        row.save(update_fields=["attributes", "updated_at"])
    return json_response(_status_json(rows[0]))


def set_email_status(account: str, email: str, status: str) -> None:
    """Tests and demos: put an address in an opt-in state (as a reader or Keap would)."""
    for row in _by_email(account, email):
        row.attributes = {**row.attributes, "email_status": status}
        row.save(update_fields=["attributes", "updated_at"])
