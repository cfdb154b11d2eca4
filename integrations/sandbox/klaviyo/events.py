"""The Klaviyo emulator's bulk event jobs: each profile's events recorded (flows trigger on them).

Real shapes (../shared/platforms/klaviyo.md §5; specs/klaviyo/stable.json `bulk_create_events`):
`POST /api/event-bulk-create-jobs` `{"data": {"type": "event-bulk-create-job", "attributes":
{"events-bulk-create": {"data": [{"type": "event-bulk-create", "attributes": {"profile":
{"data": {"type": "profile", "attributes": {"email" …}}}, "events": {"data": [{"type":
"event", "attributes": {"properties", "metric": {"data": {"type": "metric", "attributes":
{"name"}}}, "unique_id", "time"}}]}}}]}}}}` → 202 with no body; at most 1,000 events and 5 MB a
request (413 over it); a malformed body is a 400 with JSON:API errors. Each event is a
SandboxEvent whose `event_id` is its `unique_id` (an event with one already held for the profile
and metric is dropped and counted in `duplicates`, as Klaviyo de-duplicates by it); one with no
unique_id gets its own id, as Klaviyo keys it by the time to the second.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db.models import F
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox.emulation import parse_json, read_body
from integrations.sandbox.klaviyo.auth import EMULATOR, PLATFORM, error_response
from integrations.sandbox.models import SandboxEvent

MAX_BODY = 5_000_000
MAX_EVENTS = 1000


def _invalid(detail: str) -> HttpResponse:
    return error_response(400, "invalid", "Invalid input.", detail)


def _entries(data) -> list | None:
    try:
        job = data["data"]
        if job["type"] != "event-bulk-create-job":
            return None
        entries = job["attributes"]["events-bulk-create"]["data"]
    except (KeyError, TypeError):
        return None
    return entries if isinstance(entries, list) else None


def _parse(entry) -> tuple[str, list[dict]] | None:
    """(the profile's email, its events' attributes), or None when the entry is malformed."""
    try:
        attributes = entry["attributes"]
        profile = attributes["profile"]["data"]["attributes"]
        events = [e["attributes"] for e in attributes["events"]["data"]]
        if entry["type"] != "event-bulk-create" or not all(
            isinstance(e.get("properties"), dict) and e["metric"]["data"]["attributes"]["name"]
            for e in events
        ):
            return None
    except (KeyError, TypeError):
        return None
    email = str(profile.get("email") or "").lower()
    return (email, events) if email else None


@csrf_exempt
@require_POST
@EMULATOR.endpoint(scopes=("events:write",), endpoint="event_jobs", write=True)
def event_bulk_create_jobs(request, account):
    if len(read_body(request)) > MAX_BODY:
        return error_response(413, "too_large", "Payload too large.", "The body is over 5MB.")
    entries = _entries(parse_json(request))
    if entries is None:
        return _invalid("The body must be an event-bulk-create-job.")
    parsed = [_parse(entry) for entry in entries]
    if any(p is None for p in parsed):
        return _invalid("Each entry needs a profile with an email and events with a metric name.")
    if sum(len(events) for _, events in parsed) > MAX_EVENTS:
        return _invalid("At most 1,000 events a request.")
    for email, events in parsed:
        for event in events:
            name = event["metric"]["data"]["attributes"]["name"]
            unique = event.get("unique_id") or f"time-{secrets.token_hex(8)}"
            # Klaviyo keys an event by profile, metric and unique_id (64 hex characters here).
            key = hashlib.sha256(f"{email}:{name}:{unique}".encode()).hexdigest()
            _, created = SandboxEvent.objects.get_or_create(
                platform=PLATFORM, account=account.account, event_id=key,
                defaults={"name": name, "identifier": email, "data": event["properties"]},
            )  # fmt: skip
            if not created:
                SandboxEvent.objects.filter(
                    platform=PLATFORM, account=account.account, event_id=key
                ).update(duplicates=F("duplicates") + 1)
    return HttpResponse(status=202)
