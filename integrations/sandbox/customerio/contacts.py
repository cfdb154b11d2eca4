"""People through the Track API's v2 batch: identify, delete and event entries, suppressed
people refused. An event's `id` (a ULID) drops a second event with the same id, as Customer.io
does; a journey triggered by the event name is what the console's journey send reaches."""

from __future__ import annotations

import re
import secrets

import orjson
from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import store
from integrations.sandbox.customerio.auth import PLATFORM, TRACK
from integrations.sandbox.emulation import json_response, parse_json, read_body
from integrations.sandbox.models import SandboxContact, SandboxEvent

MAX_BODY = 500_000
MAX_ENTRY = 32_000
IDENTIFIERS = ("id", "email", "cio_id")
ULID = re.compile(r"[0-7][0-9A-HJKMNP-TV-Z]{25}")


def _entry_error(index: int, reason: str, field: str, message: str) -> dict:
    return {"batch_index": index, "reason": reason, "field": field, "message": message}


@csrf_exempt
@require_POST
@TRACK.endpoint()
def batch(request, account):
    if len(read_body(request)) >= MAX_BODY:
        return json_response(
            {"errors": [{"reason": "too_large", "field": "", "message": "body must be < 500KB"}]},
            status=400,
        )
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
        return json_response(
            {"errors": [{"reason": "invalid", "field": "batch", "message": "batch is required"}]},
            status=400,
        )
    errors, changes, positions, doomed, events = [], {}, {}, set(), []
    for index, entry in enumerate(data["batch"]):
        problem = _check_entry(entry)
        if problem:
            errors.append(_entry_error(index, *problem))
            continue
        kind, value = next(iter(entry["identifiers"].items()))
        identifier = value.lower() if kind == "email" else f"{kind}:{value}"
        if entry["action"] == "event":
            events.append((index, identifier, entry))
            continue
        if entry["action"] == "delete":  # the person goes (an unknown one is no error)
            doomed.add(identifier)
            changes.pop(identifier, None)
            continue
        doomed.discard(identifier)
        attributes = dict(entry.get("attributes") or {})
        if kind == "email":
            attributes.setdefault("email", value)
        changes[identifier] = {**changes.get(identifier, {}), **attributes}
        positions[identifier] = index
    known = store.existing(PLATFORM, account.account, changes)
    for identifier, contact in known.items():
        if contact.suppressed:
            errors.append(
                _entry_error(
                    positions[identifier], "suppressed", "identifiers", "person is suppressed"
                )
            )
            del changes[identifier]
    store.upsert(PLATFORM, account.account, changes, known)
    if events:
        errors += _take_events(account, events)
    if doomed:
        SandboxContact.objects.filter(
            platform=PLATFORM, account=account.account, identifier__in=doomed
        ).delete()
    if errors:
        return json_response({"errors": sorted(errors, key=lambda e: e["batch_index"])}, status=207)
    return HttpResponse(status=200)


def _take_events(account, events: list[tuple[int, str, dict]]) -> list[dict]:
    """Record each event once by its id (a suppressed person's are refused)."""
    people = store.existing(PLATFORM, account.account, {identifier for _, identifier, _ in events})
    errors = []
    for index, identifier, entry in events:
        person = people.get(identifier)
        if person is not None and person.suppressed:
            errors.append(_entry_error(index, "suppressed", "identifiers", "person is suppressed"))
            continue
        event_id = entry.get("id") or f"anonymous-{secrets.token_hex(8)}"
        _, created = SandboxEvent.objects.get_or_create(
            platform=PLATFORM, account=account.account, event_id=event_id,
            defaults={"name": entry["name"], "identifier": identifier,
                      "data": entry.get("attributes") or {}},
        )  # fmt: skip
        if not created:
            SandboxEvent.objects.filter(
                platform=PLATFORM, account=account.account, event_id=event_id
            ).update(duplicates=F("duplicates") + 1)
    return errors


def _check_entry(entry) -> tuple[str, str, str] | None:
    if not isinstance(entry, dict):
        return ("invalid", "", "entry must be an object")
    if len(orjson.dumps(entry)) > MAX_ENTRY:
        return ("too_large", "", "entry must be at most 32KB")
    if entry.get("type") != "person":
        return ("invalid", "type", "only person entries are emulated")
    if entry.get("action") not in ("identify", "delete", "event"):
        return ("invalid", "action", "only identify, delete and event are emulated")
    if entry["action"] == "event":
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip() or len(name.encode()) > 100:
            return ("invalid", "name", "an event needs a name of at most 100 bytes")
        event_id = entry.get("id")
        if event_id is not None and not ULID.fullmatch(str(event_id)):
            return ("invalid", "id", "id must be a ULID")
    identifiers = entry.get("identifiers")
    if (
        not isinstance(identifiers, dict)
        or len(identifiers) != 1
        or not set(identifiers) <= set(IDENTIFIERS)
    ):
        return ("invalid", "identifiers", "exactly one of id, email, cio_id is required")
    kind, value = next(iter(identifiers.items()))
    if not isinstance(value, str) or not value:
        return ("invalid", f"identifiers.{kind}", f"{kind} must be a non-empty string")
    if kind == "email" and not store.looks_like_email(value):
        return ("invalid", "identifiers.email", "email is invalid")
    attributes = entry.get("attributes", {})
    if not isinstance(attributes, dict):
        return ("invalid", "attributes", "attributes must be an object")
    if len(attributes) > 300:
        return ("invalid", "attributes", "at most 300 attributes")
    return None
