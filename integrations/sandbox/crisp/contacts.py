"""Crisp people in the emulator: profiles, their custom data and email subscription, and
the suggested data keys."""

from __future__ import annotations

import re
import uuid

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import store
from integrations.sandbox.crisp.auth import EMULATOR, PLATFORM, fail, paged, reply
from integrations.sandbox.emulation import parse_json
from integrations.sandbox.models import SandboxContact

DATA_KEY = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
PROFILE_KEYS = {"email", "person", "company", "segments", "notepad", "active"}


def _identifier(people_id: str) -> str:
    return people_id.lower()


def _find(account, people_id: str) -> SandboxContact | None:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    if "@" in people_id:
        return rows.filter(identifier=_identifier(people_id)).first()
    return rows.filter(attributes__people_id=people_id).first()


def _check_profile(data, creating: bool) -> str:
    if not isinstance(data, dict):
        return "body must be an object"
    unknown = set(data) - PROFILE_KEYS
    if unknown:
        return f"unknown keys: {', '.join(sorted(unknown))}"
    if creating and not store.looks_like_email(data.get("email")):
        return "email is required and must be valid"
    if "email" in data and not creating:
        return "the email cannot be changed here"
    for key in ("person", "company"):
        if key in data and not isinstance(data[key], dict):
            return f"{key} must be an object"
    if "segments" in data and not (
        isinstance(data["segments"], list) and all(isinstance(s, str) for s in data["segments"])
    ):
        return "segments must be an array of strings"
    return ""


def _merge_profile(attributes: dict, body: dict) -> dict:
    merged = dict(attributes)
    for key, value in body.items():
        if key in ("person", "company") and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        elif key == "segments":
            merged[key] = sorted(set(merged.get(key, [])) | set(value))
        else:
            merged[key] = value
    return merged


def _profile_out(row: SandboxContact) -> dict:
    attrs = row.attributes
    return {
        "people_id": attrs["people_id"],
        "email": attrs["email"],
        "person": attrs.get("person", {}),
        "company": attrs.get("company", {}),
        "segments": attrs.get("segments", []),
        "created_at": attrs.get("created_at", 1700000000000),
        "updated_at": attrs.get("updated_at", 1700000000000),
    }


@EMULATOR.endpoint(methods=("GET",))
def profiles(request, account, website_id, page):
    per_page = min(50, max(20, int(request.GET.get("per_page", 20) or 20)))
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    chunk = rows[(page - 1) * per_page : page * per_page]
    return reply("listed", [_profile_out(r) for r in chunk])


@csrf_exempt
@EMULATOR.endpoint(methods=("POST",), writes=("POST",))
def create_profile(request, account, website_id):
    body = parse_json(request)
    reason = _check_profile(body, creating=True)
    if reason:
        return fail(400, "invalid_data", reason)
    identifier = _identifier(body["email"])
    known = store.existing(PLATFORM, account.account, [identifier])
    if identifier in known:
        return fail(409, "people_exists", "A profile with this email already exists")
    people_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"crisp:{account.account}:{identifier}"))
    attributes = _merge_profile({"people_id": people_id, "data": {}, "subscribed": True}, body)
    store.upsert(PLATFORM, account.account, {identifier: attributes}, known)
    return reply("added", {"people_id": people_id}, status=201)


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "HEAD", "PATCH", "DELETE"), writes=("PATCH", "DELETE"))
def profile(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return fail(404, "people_not_found", "No such people profile")
    if request.method == "HEAD":
        return HttpResponse(status=200)
    if request.method == "GET":
        return reply("resolved", _profile_out(row))
    if request.method == "DELETE":
        row.delete()
        return reply("deleted")
    body = parse_json(request)
    reason = _check_profile(body, creating=False)
    if reason:
        return fail(400, "invalid_data", reason)
    row.attributes = _merge_profile(row.attributes, body)
    row.save(update_fields=["attributes", "updated_at"])
    return reply("updated")


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH", "PUT"), writes=("PATCH", "PUT"))
def people_data(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return fail(404, "people_not_found", "No such people profile")
    if request.method == "GET":
        return reply("resolved", {"data": row.attributes.get("data", {})})
    body = parse_json(request)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or set(body) != {"data"}:
        return fail(400, "invalid_data", 'body must be {"data": {...}}')
    for key, value in data.items():
        if not DATA_KEY.match(key) or not isinstance(value, str | int | float | bool):
            return fail(400, "invalid_data", f"invalid data key or value: {key}")
    current = row.attributes.get("data", {}) if request.method == "PATCH" else {}
    row.attributes = {**row.attributes, "data": {**current, **data}}
    row.save(update_fields=["attributes", "updated_at"])
    return reply("updated")


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH"), writes=("PATCH",))
def subscription(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return fail(404, "people_not_found", "No such people profile")
    if request.method == "GET":
        return reply("resolved", {"email": bool(row.attributes.get("subscribed", True))})
    body = parse_json(request)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("email"), bool)
        or set(body) != {"email"}
    ):
        return fail(400, "invalid_data", 'body must be {"email": true|false}')
    row.attributes = {**row.attributes, "subscribed": body["email"]}
    row.save(update_fields=["attributes", "updated_at"])
    return reply("updated")


@EMULATOR.endpoint(methods=("GET",))
def suggest_data(request, account, website_id, page):
    counts: dict[str, int] = {}
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    for attributes in rows.values_list("attributes", flat=True):
        for key in attributes.get("data", {}):
            counts[key] = counts.get(key, 0) + 1
    items = [{"key": k, "count": n} for k, n in sorted(counts.items())]
    return paged(request, items, page)
