"""Iterable's bulk event tracking in the emulator: each event recorded for its user (journeys
enter on it).

Real shapes (../shared/platforms/iterable.md §5; specs/iterable/api-docs.json `trackBulk`):
`POST /api/events/trackBulk {"events": [{"email" | "userId", "eventName", "id", "dataFields",
"createdAt"}]}` → 200 `{"successCount", "failCount", "disallowedEventNames", "failedUpdates":
{"invalidEmails", "notFoundEmails", "forgottenEmails", … user ids alike}, "invalidEmails",
"invalidUserIds"}`; 10 requests a second; a body over 4 MB is `BatchTooLarge`. Each event is a
SandboxEvent; one whose `id` the project already has updates it (its data replaced, counted in
`duplicates`) instead of adding one, as Iterable does. A user the project does not have is in
notFoundEmails (notFoundUserIds), a forgotten one in forgottenEmails; no event name is disallowed.
"""

from __future__ import annotations

import hashlib
import secrets

from django.db.models import F
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json, read_body
from integrations.sandbox.iterable.auth import EMULATOR, PLATFORM, error
from integrations.sandbox.iterable.contacts import FAILURE_LISTS, MAX_BODY
from integrations.sandbox.models import SandboxEvent

MAX_ID_BYTES = 512


def _identifier(event) -> tuple[str, str, str] | None:
    """(stored identifier, the failure list it would go in, as sent), None when malformed."""
    email, user_id = event.get("email"), event.get("userId")
    if bool(email) == bool(user_id) or not event.get("eventName"):
        return None
    if email:
        return email.lower(), "Emails", email
    return f"userId:{user_id}", "UserIds", str(user_id)


def _record(account, identifier: str, event: dict) -> None:
    sent_id = str(event.get("id") or f"generated-{secrets.token_hex(12)}")
    key = sent_id if len(sent_id) <= 64 else hashlib.sha256(sent_id.encode()).hexdigest()
    data = event.get("dataFields") or {}
    _, created = SandboxEvent.objects.get_or_create(
        platform=PLATFORM, account=account.account, event_id=key,
        defaults={"name": event["eventName"], "identifier": identifier, "data": data},
    )  # fmt: skip
    if not created:  # the same id: the event is updated, not added
        SandboxEvent.objects.filter(
            platform=PLATFORM, account=account.account, event_id=key
        ).update(data=data, duplicates=F("duplicates") + 1)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, endpoint="events.trackBulk")
def track_bulk(request, account):
    if len(read_body(request)) > MAX_BODY:
        return error("BatchTooLarge", "Request body is larger than 4MB", 400)
    data = parse_json(request)
    events = data.get("events") if isinstance(data, dict) else None
    if not isinstance(events, list):
        return error("BadParams", "events is required", 400)
    failed: dict[str, list] = {name: [] for name in FAILURE_LISTS}
    parsed = []
    for event in events:
        found = _identifier(event) if isinstance(event, dict) else None
        if found is None or len(str(event.get("id") or "").encode()) > MAX_ID_BYTES:
            failed["invalidEmails"].append(str((event or {}).get("email") or ""))
            continue
        identifier, kind, sent = found
        if kind == "Emails" and not store.looks_like_email(sent):
            failed["invalidEmails"].append(sent)
            continue
        parsed.append((identifier, kind, sent, event))
    known = store.existing(PLATFORM, account.account, {p[0] for p in parsed})
    success = 0
    for identifier, kind, sent, event in parsed:
        contact = known.get(identifier)
        if contact is None:
            failed[f"notFound{kind}"].append(sent)
        elif contact.suppressed:
            failed[f"forgotten{kind}"].append(sent)
        else:
            _record(account, identifier, event)
            success += 1
    return json_response(
        {
            "successCount": success,
            "failCount": sum(len(v) for v in failed.values()),
            "disallowedEventNames": [],
            "invalidEmails": failed["invalidEmails"],
            "invalidUserIds": failed["invalidUserIds"],
            "failedUpdates": failed,
        }
    )
