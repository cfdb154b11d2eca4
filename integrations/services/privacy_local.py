"""A privacy request's SharpSend side: what SharpSend holds about an email, erasing it,
suppressing it (do not sell / suppress: the data stays, nothing is sent), and scrubbing the records that name it (API call paths: Keap, Crisp and Front put the email in
the URL path)."""

from __future__ import annotations

from urllib.parse import quote

from django.db import transaction
from django.db.models import Q

from audience.models import EngagementEvent, Subscriber, SubscriberStatus, normalise_email
from audience.suppression import SUPPRESS_REQUEST, is_suppressed, suppress
from integrations.models import ApiCall, SyncRecord, SyncState

REDACTED_EMAIL = "[email redacted]"


def _subscriber(email: str) -> Subscriber | None:
    return Subscriber.objects.filter(email__iexact=normalise_email(email)).first()


def held_data(email: str) -> dict:
    """Everything SharpSend holds about `email`, as JSON-ready data ("found": False if none)."""
    subscriber = _subscriber(email)
    records = SyncRecord.objects.filter(email__iexact=normalise_email(email))
    if subscriber is None:
        return {
            "found": False,
            "detail": "SharpSend holds no subscriber with this email.",
            "suppressed": is_suppressed(email),
            "sync_records": _sync_records(records),
        }
    events = EngagementEvent.objects.filter(subscriber=subscriber).order_by("occurred_at")
    states = SyncState.objects.filter(subscriber=subscriber).select_related("integration")
    return {
        "found": True,
        "subscriber": {
            "email": subscriber.email,
            "first_name": subscriber.first_name,
            "last_name": subscriber.last_name,
            "status": subscriber.status,
            "attributes": subscriber.attributes,
            "created_at": subscriber.created_at.isoformat(),
            "updated_at": subscriber.updated_at.isoformat(),
            "last_opened_at": _iso(subscriber.last_opened_at),
            "last_clicked_at": _iso(subscriber.last_clicked_at),
            "opens_count": subscriber.opens_count,
            "clicks_count": subscriber.clicks_count,
        },
        "events": [
            {
                "kind": e.kind,
                "occurred_at": e.occurred_at.isoformat(),
                "source": e.source,
                "campaign": e.remote_campaign_id,
                "url": e.url,
            }
            for e in events
        ],
        "sent_to": [
            {
                "integration": s.integration.name,
                "platform": s.integration.platform,
                "status": s.status,
                "last_outcome": s.last_outcome,
                "updated_at": s.updated_at.isoformat(),
            }
            for s in states
        ],
        "sync_records": _sync_records(records),
        "suppressed": is_suppressed(email),
    }


def _sync_records(records) -> list[dict]:
    return [
        {"run": r.run_id, "outcome": r.outcome, "code": r.code, "message": r.message}
        for r in records.order_by("id")[:1000]
    ]


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def erase(email: str) -> dict:
    """Forget `email` in SharpSend: the subscriber row goes (with its events and sync states),
    sync records naming it go, and the email is suppressed so that no import or sync
    recreates the reader. Idempotent: a second call finds nothing and keeps the suppression."""
    email = normalise_email(email)
    with transaction.atomic():
        subscriber = _subscriber(email)
        counts = {"subscriber": 0, "events": 0, "sync_states": 0}
        if subscriber is not None:
            counts["events"] = EngagementEvent.objects.filter(subscriber=subscriber).count()
            counts["sync_states"] = SyncState.objects.filter(subscriber=subscriber).count()
            subscriber.delete()  # events and sync states cascade
            counts["subscriber"] = 1
        counts["sync_records"], _ = SyncRecord.objects.filter(email__iexact=email).delete()
        suppress(email, reason="deletion request")
        counts["api_call_paths"] = scrub_api_calls(email)
    found = counts["subscriber"] or counts["sync_records"]
    return {
        "found": bool(found),
        "erased": counts,
        "suppressed": True,
        "detail": "Erased from SharpSend and suppressed."
        if found
        else "SharpSend held nothing; the email is suppressed all the same.",
    }


def suppress_reader(email: str) -> dict:
    """Stop everything reaching `email`, keeping what SharpSend holds (a "do not sell /
    suppress" request): the suppression entry (its keyed hash) makes every sync, send,
    profile import, CSV import and webhook leave the reader out, and the subscriber, if
    any, is marked unsubscribed so that segments, pushes and experiments skip them too.
    Idempotent."""
    email = normalise_email(email)
    with transaction.atomic():
        suppress(email, reason=SUPPRESS_REQUEST)
        marked = (
            Subscriber.objects.filter(email__iexact=email)
            .exclude(status=SubscriberStatus.UNSUBSCRIBED)
            .update(status=SubscriberStatus.UNSUBSCRIBED)
        )
        found = Subscriber.objects.filter(email__iexact=email).exists()
    return {
        "found": found,
        "suppressed": True,
        "unsubscribed": marked,
        "detail": "Suppressed in SharpSend (data kept; nothing is sent to the reader)."
        if found
        else "SharpSend holds no subscriber with this email; it is suppressed all the same.",
    }


def _path_forms(email: str) -> list[str]:
    """The ways an email appears in a recorded URL path (raw, percent-encoded)."""
    email = normalise_email(email)
    return list(dict.fromkeys([email, quote(email, safe=""), quote(email, safe="@")]))


def scrub_api_calls(email: str, integration=None) -> int:
    """Replace `email` in recorded API call paths by a redaction; the number of rows changed."""
    if not email:
        return 0
    forms = _path_forms(email)
    match = Q()
    for form in forms:
        match |= Q(path__icontains=form)
    calls = ApiCall.objects.filter(match)
    if integration is not None:
        calls = calls.filter(integration=integration)
    changed = []
    for call in calls.only("pk", "path"):
        path = call.path
        for form in sorted(forms, key=len, reverse=True):
            path = _replace_ci(path, form, REDACTED_EMAIL)
        if path != call.path:
            call.path = path
            changed.append(call)
    ApiCall.objects.bulk_update(changed, ["path"], batch_size=500)
    return len(changed)


def redact_email(text: str, email: str) -> str:
    """`text` with every form of `email` replaced by a redaction."""
    for form in sorted(_path_forms(email), key=len, reverse=True):
        text = _replace_ci(text, form, REDACTED_EMAIL)
    return text


def _replace_ci(text: str, old: str, new: str) -> str:
    lowered, needle, out, start = text.lower(), old.lower(), [], 0
    while (at := lowered.find(needle, start)) != -1:
        out.append(text[start:at] + new)
        start = at + len(old)
    out.append(text[start:])
    return "".join(out)
