"""Processing a stored webhook delivery: its normalised events become EngagementEvents on the
SharpSend subscriber, and the opt-outs among them change the subscriber's status.

Rules:
- once per event: EngagementEvent's (integration, dedupe_key) — the platform's event id, or a
  hash of what identifies the event — so a replay or a redelivery counts nothing twice;
- an unknown (or suppressed) reader: the event is noted on the delivery, nothing is created;
- never backwards: an event older than the subscriber's newest status event changes no
  status (an old "subscribed" after a newer unsubscribe does nothing), and an opt-out always
  wins over a subscribe (audience/profiles.py);
- a delivery that fails is marked failed with the error; `replay` runs it again.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from audience import engagement
from audience.models import (
    EngagementEvent,
    EngagementKind,
    Subscriber,
    SubscriberStatus,
    normalise_email,
)
from audience.profiles import merge_profile
from audience.suppression import suppressed_among
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.webhook_events import NormalisedEvent
from integrations.services.webhooks import storable

# What an event says about the reader's status.
STATUS_OF = {
    EngagementKind.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
    EngagementKind.BOUNCED_HARD: SubscriberStatus.BOUNCED,
    EngagementKind.COMPLAINED: SubscriberStatus.COMPLAINED,
}
STATUS_KINDS = (*STATUS_OF, EngagementKind.CONTACT_CREATED)
PROFILE_KINDS = (EngagementKind.CONTACT_CREATED, EngagementKind.CONTACT_UPDATED)
ERROR_KEPT = 2000


@dataclass
class Outcome:
    recorded: int = 0
    duplicates: int = 0
    unknown: int = 0
    status_changes: int = 0
    kept_newer: int = 0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.recorded} recorded"]
        for count, label in (
            (self.duplicates, "already recorded"),
            (self.unknown, "for no known subscriber (nothing created)"),
            (self.status_changes, "changed a status"),
            (self.kept_newer, "older than the last status change (status kept)"),
        ):
            if count:
                parts.append(f"{count} {label}")
        return "; ".join(parts + self.notes)


def process(event_id: int) -> WebhookEvent | None:
    """Process one stored delivery (idempotent: a processed one is left as it is)."""
    updated = WebhookEvent.objects.filter(
        pk=event_id, state__in=(WebhookState.VERIFIED, WebhookState.RECEIVED, WebhookState.FAILED)
    ).update(attempts=F("attempts") + 1)
    event = WebhookEvent.objects.select_related("integration").filter(pk=event_id).first()
    if event is None or not updated:
        return event
    try:
        client = event.integration.client()
        events = client.parse_webhook(bytes(event.body), event.content_type, event.received_at)
        with transaction.atomic():
            outcome = apply_events(event.integration, events)
    except Exception as exc:  # noqa: BLE001 - any failure is kept on the delivery for replay
        event.state = WebhookState.FAILED
        event.error = storable(f"{type(exc).__name__}: {exc}", ERROR_KEPT)
        event.save(update_fields=["state", "error"])
        return event
    # Every event already recorded (the same events in another body): a duplicate delivery.
    duplicate = events and not outcome.recorded and outcome.duplicates == len(events)
    event.state = WebhookState.DUPLICATE if duplicate else WebhookState.PROCESSED
    event.error = ""
    event.events_count = len(events)
    event.note = outcome.summary() if events else "no event the console records"
    event.processed_at = timezone.now()
    event.save(update_fields=["state", "error", "events_count", "note", "processed_at"])
    return event


def apply_events(integration, events: list[NormalisedEvent]) -> Outcome:
    outcome = Outcome()
    emails = {normalise_email(e.email) for e in events if e.email}
    suppressed = suppressed_among(emails) if emails else set()
    readers = {s.email: s for s in Subscriber.objects.filter(email__in=emails - suppressed)}
    engaged: set[int] = set()
    for event in events:
        subscriber = readers.get(normalise_email(event.email)) if event.email else None
        if subscriber is None:
            outcome.unknown += 1
            continue
        if _apply(integration, subscriber, event, outcome):
            engaged.add(subscriber.pk)
    # Opens, clicks, rates and the engagement score, computed from every stored event.
    engagement.refresh(engaged)
    return outcome


def dedupe_key(event: NormalisedEvent) -> str:
    if event.event_id:
        return event.event_id[:128]
    identity = "|".join(
        (
            event.kind,
            normalise_email(event.email),
            event.platform_id,
            event.occurred_at.isoformat(),
            event.remote_campaign_id,
            event.url,
        )
    )
    return "h:" + hashlib.sha256(identity.encode()).hexdigest()


def _apply(integration, subscriber: Subscriber, event: NormalisedEvent, outcome: Outcome) -> bool:
    """Record one event for the reader; False when it was recorded before."""
    kind = EngagementKind(event.kind)
    data = dict(event.data)
    if kind == EngagementKind.CONTACT_CREATED:
        data.setdefault("status", SubscriberStatus.SUBSCRIBED)
    try:
        with transaction.atomic():
            recorded = EngagementEvent.objects.create(
                subscriber=subscriber,
                integration=integration,
                kind=kind,
                occurred_at=event.occurred_at,
                source="webhook",
                dedupe_key=dedupe_key(event),
                remote_campaign_id=event.remote_campaign_id[:100],
                url=event.url[:1000],
                data={k: v for k, v in data.items() if k != "api_url"} | _ids(event),
            )
    except IntegrityError:
        outcome.duplicates += 1
        return False
    outcome.recorded += 1
    incoming = {}
    if kind in PROFILE_KINDS:
        incoming.update({k: data[k] for k in ("first_name", "last_name") if data.get(k)})
    status = STATUS_OF.get(kind) or data.get("status")
    if status and status != subscriber.status:
        if _newer_status_event(subscriber, recorded):
            outcome.kept_newer += 1
        else:
            incoming["status"] = status
    if not incoming:
        return True
    policy = integration.conflict_policy if integration is not None else ""
    subscriber.refresh_from_db(fields=["status", "first_name", "last_name", "attributes"])
    before = subscriber.status
    changed = merge_profile(subscriber, incoming, policy, is_new=False)
    if changed:
        subscriber.save(update_fields=[*changed, "updated_at"])
        if "status" in changed and subscriber.status != before:
            outcome.status_changes += 1
    return True


def _ids(event: NormalisedEvent) -> dict:
    return {"platform_id": event.platform_id} if event.platform_id else {}


def _newer_status_event(subscriber: Subscriber, recorded: EngagementEvent) -> bool:
    """Whether a status event newer than `recorded` is already on the subscriber."""
    return (
        EngagementEvent.objects.filter(subscriber=subscriber, occurred_at__gt=recorded.occurred_at)
        .filter(Q(kind__in=STATUS_KINDS) | Q(data__has_key="status"))
        .exclude(pk=recorded.pk)
        .exists()
    )


def replay(event: WebhookEvent) -> WebhookEvent | None:
    """Run a failed delivery again (its events already recorded are not counted twice)."""
    if event.state != WebhookState.FAILED:
        return event
    return process(event.pk)
