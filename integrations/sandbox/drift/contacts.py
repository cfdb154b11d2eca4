"""Drift contacts: the attribute list (all_contact_read), lookup by email, create and patch.
Email is not unique, as in Drift, but creating a second contact with a known email is refused.
A patch that changes something, and a visitor giving their email in chat, are reported to the
org's webhooks (drift/webhooks.py)."""

from __future__ import annotations

from datetime import UTC

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from integrations.sandbox import accounts, store
from integrations.sandbox.drift import webhooks
from integrations.sandbox.drift.auth import PLATFORM, errors, gated
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType

STANDARD_ATTRIBUTES = (
    ("email", "Email", "STRING"),
    ("name", "Name", "STRING"),
    ("phone", "Phone", "STRING"),
    ("externalId", "External Id", "STRING"),
)


def _drift_type(value) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMERIC"
    return "STRING"


def _contacts(account: str):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account)


def _contact_json(row: SandboxContact) -> dict:
    created = int(row.created_at.astimezone(UTC).timestamp() * 1000)
    return {"id": int(row.identifier), "createdAt": created, "attributes": row.attributes}


def _next_id(account: str) -> str:
    ids = [int(i) for i in _contacts(account).values_list("identifier", flat=True) if i.isdigit()]
    return str(max(ids, default=1_000_000) + 1)


def _attributes(request) -> dict | HttpResponse:
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        return errors(400, "validation_error", 'Body must be {"attributes": {...}}', "attributes")
    return data["attributes"]


def _learn_types(account: str, attributes: dict) -> None:
    standard = {name for name, _, _ in STANDARD_ATTRIBUTES}
    SandboxFieldType.objects.bulk_create(
        [
            SandboxFieldType(platform=PLATFORM, account=account, name=k, type=_drift_type(v))
            for k, v in attributes.items()
            if k not in standard and v is not None
        ],
        ignore_conflicts=True,
    )


@require_GET
@gated("all_contact_read")
def attributes(request, account):
    custom = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    properties = [
        {"type": kind, "displayName": label, "name": name}
        for name, label, kind in STANDARD_ATTRIBUTES
    ] + [
        {"type": row.type, "displayName": row.name.replace("_", " ").title(), "name": row.name}
        for row in custom
    ]
    return json_response({"data": {"properties": properties}})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contacts(request, host):
    if request.method == "GET":
        return _lookup(request, host)
    return _create(request, host)


@gated("contact_read")
def _lookup(request, account):
    email = request.GET.get("email")
    if not email:
        return errors(400, "validation_error", "email or idType is required", "email")
    try:
        limit = int(request.GET.get("limit") or 25)
    except ValueError:
        return errors(400, "validation_error", "limit must be a number", "limit")
    rows = _contacts(account.account).filter(attributes__email__iexact=email).order_by("id")
    return json_response({"data": [_contact_json(r) for r in rows[:limit]]})


@gated("contact_write")
def _create(request, account):
    given = _attributes(request)
    if isinstance(given, HttpResponse):
        return given
    email = given.get("email")
    if not store.looks_like_email(email):
        return errors(400, "validation_error", "A valid email is required", "email")
    if _contacts(account.account).filter(attributes__email__iexact=email).exists():
        return errors(400, "validation_error", "A contact with this email already exists", "email")
    identifier = _next_id(account.account)
    values = {k: v for k, v in given.items() if v is not None}
    store.upsert(PLATFORM, account.account, {identifier: values}, known={})
    _learn_types(account.account, values)
    row = _contacts(account.account).get(identifier=identifier)
    return json_response({"data": _contact_json(row)})


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def contact(request, host, contact_id: int):
    if request.method == "GET":
        return _get(request, host, contact_id)
    return _patch(request, host, contact_id)


@gated("contact_read")
def _get(request, account, contact_id):
    row = _contacts(account.account).filter(identifier=str(contact_id)).first()
    if row is None:
        return errors(404, "not_found", f"Contact {contact_id} not found")
    return json_response({"data": _contact_json(row)})


@gated("contact_write")
def _patch(request, account, contact_id):
    row = _contacts(account.account).filter(identifier=str(contact_id)).first()
    if row is None:
        return errors(404, "not_found", f"Contact {contact_id} not found")
    given = _attributes(request)
    if isinstance(given, HttpResponse):
        return given
    if "email" in given and not store.looks_like_email(given["email"]):
        return errors(400, "validation_error", "A valid email is required", "email")
    values = {k: v for k, v in given.items() if v is not None}
    before = dict(row.attributes or {})
    store.upsert(
        PLATFORM,
        account.account,
        {row.identifier: values},
        known={row.identifier: store.StoredContact(row.attributes, row.suppressed)},
    )
    _learn_types(account.account, values)
    row.refresh_from_db()
    webhooks.record_updated(account.account, row, before)
    return json_response({"data": _contact_json(row)})


def visitor_identifies(email: str, name: str = "", account: str = "") -> SandboxContact:
    """A visitor adds their email in chat (not through the API): Drift makes them a contact
    and reports contact_identified."""
    chosen = account or accounts.demo_account(PLATFORM).account
    identifier = _next_id(chosen)
    values = {"email": email, **({"name": name} if name else {})}
    store.upsert(PLATFORM, chosen, {identifier: values}, known={})
    row = _contacts(chosen).get(identifier=identifier)
    webhooks.record_identified(chosen, row)
    return row
