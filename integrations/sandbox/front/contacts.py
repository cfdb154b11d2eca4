"""Front contacts in the emulator: by id or email alias, their conversations, and the
contact custom fields."""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import store
from integrations.sandbox.emulation import (
    parse_json,
)
from integrations.sandbox.front.auth import EMULATOR, PLATFORM, error_response, no_content, ok, page
from integrations.sandbox.models import SandboxContact, SandboxFieldType

HANDLE_SOURCES = {"twitter", "email", "phone", "facebook", "intercom", "front_chat", "custom"}
CONTACT_KEYS = {"name", "description", "avatar", "links", "group_names", "list_names"}


def _contact_id(email: str) -> str:
    return "crd_" + hashlib.sha1(email.lower().encode()).hexdigest()[:8]


def _find(account: str, contact_id: str) -> SandboxContact | None:
    contact_id = unquote(contact_id)
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account)
    if contact_id.startswith("alt:email:"):
        return rows.filter(identifier=contact_id[len("alt:email:") :].lower()).first()
    if contact_id.startswith("crd_"):
        return rows.filter(attributes__id=contact_id).first()
    return None


def render(row: SandboxContact) -> dict:
    attrs = row.attributes
    base = f"https://sandbox.api.frontapp.com/contacts/{attrs['id']}"
    return {
        "_links": {"self": base, "related": {"conversations": f"{base}/conversations"}},
        "id": attrs["id"],
        "name": attrs.get("name", ""),
        "description": attrs.get("description", ""),
        "avatar_url": None,
        "links": attrs.get("links", []),
        "lists": [{"name": n} for n in attrs.get("list_names", [])],
        "handles": [{"handle": attrs["email"], "source": "email"}],
        "custom_fields": attrs.get("custom_fields", {}),
        "is_private": False,
    }


def _field_types(account: str) -> dict[str, str]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account)
    return dict(rows.values_list("name", "type"))


def _check_value(kind: str, value) -> bool:
    if value is None:
        return True
    if kind in ("string", "enum", "teammate", "inbox"):
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("number", "datetime"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


def _check_body(data, account: str, creating: bool) -> str:
    """The reason a contact body is invalid, or ""."""
    if not isinstance(data, dict):
        return "Body must be a JSON object"
    unknown = set(data) - CONTACT_KEYS - {"custom_fields"} - ({"handles"} if creating else set())
    if unknown:
        return f"Unknown properties: {', '.join(sorted(unknown))}"
    if creating:
        handles = data.get("handles")
        if not isinstance(handles, list) or not handles:
            return "handles is required"
        for handle in handles:
            if not isinstance(handle, dict) or set(handle) != {"handle", "source"}:
                return "Each handle needs handle and source"
            if handle["source"] not in HANDLE_SOURCES:
                return f"Unknown handle source {handle['source']!r}"
            if handle["source"] == "email" and not store.looks_like_email(handle["handle"]):
                return f"Invalid email handle {handle['handle']!r}"
        if not any(h["source"] == "email" for h in handles):
            return "The sandbox stores contacts by their email handle"
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            return f"{key} must be a string"
    for key in ("links", "list_names", "group_names"):
        if key in data and not (
            isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])
        ):
            return f"{key} must be an array of strings"
    custom = data.get("custom_fields")
    if custom is not None:
        if not isinstance(custom, dict):
            return "custom_fields must be an object"
        types = _field_types(account)
        for name, value in custom.items():
            if name not in types:
                return f"Unknown contact custom field: {name}"
            if not _check_value(types[name], value):
                return f"Invalid value for custom field {name} (type {types[name]})"
    return ""


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "POST"), writes=("POST",))
def contacts(request, caller):
    if request.method == "GET":
        rows = SandboxContact.objects.filter(platform=PLATFORM, account=caller.name)
        return page(request, [render(r) for r in rows], caller, "/contacts")
    data = parse_json(request)
    reason = _check_body(data, caller.name, creating=True)
    if reason:
        return error_response(400, "Bad request", reason)
    email = next(h["handle"] for h in data["handles"] if h["source"] == "email")
    identifier = email.lower()
    known = store.existing(PLATFORM, caller.name, [identifier])
    if identifier in known:
        return error_response(409, "Conflict", f"A contact with the handle {email} already exists")
    attributes = {
        "id": _contact_id(identifier),
        "email": email,
        **{k: v for k, v in data.items() if k in CONTACT_KEYS},
        "custom_fields": data.get("custom_fields") or {},
    }
    store.upsert(PLATFORM, caller.name, {identifier: attributes}, known)
    row = SandboxContact.objects.get(platform=PLATFORM, account=caller.name, identifier=identifier)
    return ok(render(row), caller, status=201)


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH", "DELETE"), writes=("PATCH", "DELETE"))
def contact(request, caller, contact_id):
    row = _find(caller.name, contact_id)
    if row is None:
        return error_response(404, "Not found", "Unknown contact")
    if request.method == "GET":
        return ok(render(row), caller)
    if request.method == "DELETE":
        row.delete()
        return no_content(caller)
    data = parse_json(request)
    reason = _check_body(data, caller.name, creating=False)
    if reason:
        return error_response(400, "Bad request", reason)
    # Every property sent replaces the stored one: custom_fields as a whole.
    attributes = {**row.attributes, **{k: v for k, v in data.items() if k in CONTACT_KEYS}}
    if "custom_fields" in data:
        attributes["custom_fields"] = data["custom_fields"] or {}
    row.attributes = attributes
    row.save(update_fields=["attributes", "updated_at"])
    return no_content(caller)


@EMULATOR.endpoint(methods=("GET",))
def contact_conversations(request, caller, contact_id):
    if _find(caller.name, contact_id) is None:
        return error_response(404, "Not found", "Unknown contact")
    return page(request, [], caller, f"/contacts/{contact_id}/conversations")


@EMULATOR.endpoint(methods=("GET",))
def custom_fields(request, caller):
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=caller.name)
    results = [
        {
            "_links": {"self": f"https://sandbox.api.frontapp.com/custom_fields/fld_{r.pk}"},
            "id": f"fld_{r.pk}",
            "name": r.name,
            "description": "",
            "type": r.type,
            **(
                {"values": [{"value": v, "label": v} for v in ("free", "pro")]}
                if r.type == "enum"
                else {}
            ),
        }
        for r in rows
    ]
    return ok({"_links": {"self": "/contacts/custom_fields"}, "_results": results}, caller)
