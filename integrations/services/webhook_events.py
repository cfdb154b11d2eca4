"""Processing stored webhook deliveries: their normalised events become EngagementEvents on the
SharpSend subscribers, and the opt-outs among them change the subscribers' status.

Deliveries are processed in batches (`drain`): one transaction claims up to BATCH_SIZE pending
deliveries of an integration, records all their new events with one insert, applies the status
and profile changes in the order the events came in, recomputes each touched reader's
engagement once, and marks the deliveries processed. A crash anywhere in it rolls the whole
batch back: its deliveries stay pending and the next drain takes them (nothing lost, nothing
recorded twice). A delivery whose body cannot be parsed, or whose events fail to apply, is
marked failed on its own; the others of its batch go on.

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
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Max, Q
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
from integrations.models import Integration, WebhookEvent, WebhookState
from integrations.platforms.webhook_events import NormalisedEvent
from integrations.services import queue
from integrations.services.webhooks import (
    DRAIN_OPTIONS,
    DRAIN_TASK,
    PENDING_STATES,
    storable,
)

# What an event says about the reader's status.
STATUS_OF = {
    EngagementKind.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
    EngagementKind.BOUNCED_HARD: SubscriberStatus.BOUNCED,
    EngagementKind.COMPLAINED: SubscriberStatus.COMPLAINED,
}
STATUS_KINDS = (*STATUS_OF, EngagementKind.CONTACT_CREATED)
PROFILE_KINDS = (EngagementKind.CONTACT_CREATED, EngagementKind.CONTACT_UPDATED)
ERROR_KEPT = 2000
# Deliveries a drain's transaction takes at once: big enough that the per-batch work (the
# engagement refresh, the inbox updates) is shared by many, small enough that SQLite's one
# writer is not held for long while the endpoint stores new deliveries.
BATCH_SIZE = 100
# And at most this many events (a delivery may hold thousands: SendGrid posts arrays), which
# keeps the batch's IN lists well below SQLite's 32,766 variables; one delivery always goes.
BATCH_EVENTS = 5000
# A drain hands over to a new task after this long (far below the queue's task timeout).
DRAIN_SECONDS = 60
# After a batch smaller than BATCH_SIZE (the drain has caught up), wait this long before
# looking again, so that deliveries arriving one by one are taken a batch at a time rather
# than in a write transaction each (what a delivery waits longer: at most this).
LINGER_SECONDS = 0.2
# Pending deliveries this old have no drain working on them (one died): the housekeeping
# queues one.
STALLED_AFTER = timedelta(minutes=1)


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


@dataclass
class Drained:
    batches: int = 0
    processed: int = 0
    failed: int = 0
    handed_over: bool = False

    def summary(self) -> str:
        text = f"{self.processed} processed, {self.failed} failed in {self.batches} batches"
        return text + ("; a new drain goes on" if self.handed_over else "")


def drain(
    integration_id: int, *, batch_size: int = BATCH_SIZE, linger: float | None = None
) -> Drained:
    """Process the integration's pending deliveries a batch at a time until none is left.

    It stops only after a batch in which it found none to claim, so a delivery stored while a
    batch was running is taken by the next one (the endpoint queues no drain while an older
    delivery is pending: services/webhooks.py). A batch found short is followed by a pause of
    `linger` seconds (default LINGER_SECONDS), for the next to gather more. After DRAIN_SECONDS it queues a new drain
    to go on. Two drains side by side take different deliveries (PostgreSQL skips the rows the
    other one locked; SQLite runs one writer at a time).
    """
    done = Drained()
    linger = LINGER_SECONDS if linger is None else linger
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return done
    client = integration.client()
    started = time.monotonic()
    while True:
        claimed, failed, full = _drain_batch(integration, client, batch_size)
        if not claimed:
            return done
        done.batches += 1
        done.processed += claimed - failed
        done.failed += failed
        if time.monotonic() - started > DRAIN_SECONDS:
            queue.enqueue(DRAIN_TASK, integration_id, **DRAIN_OPTIONS)
            done.handed_over = True
            return done
        if not full and linger:
            time.sleep(linger)


def drain_stalled() -> int:
    """Queue a drain for each integration with a delivery pending for STALLED_AFTER (the
    housekeeping's: a drain that died, or a queue that lost its task); how many."""
    stalled = (
        WebhookEvent.objects.filter(
            state__in=PENDING_STATES, received_at__lt=timezone.now() - STALLED_AFTER
        )
        .values_list("integration_id", flat=True)
        .order_by("integration_id")
        .distinct()
    )
    integration_ids = list(stalled)
    for integration_id in integration_ids:
        queue.enqueue(DRAIN_TASK, integration_id, **DRAIN_OPTIONS)
    return len(integration_ids)


def process(event_id: int) -> WebhookEvent | None:
    """Process one stored delivery, pending or failed (a replay); a processed one is left as
    it is."""
    event = WebhookEvent.objects.select_related("integration").filter(pk=event_id).first()
    if event is None or event.state not in (*PENDING_STATES, WebhookState.FAILED):
        return event
    client = event.integration.client()
    parsed = {event.pk: _parse(client, event)}
    with transaction.atomic():
        claimed = _claim(
            WebhookEvent.objects.filter(
                pk=event.pk, state__in=(*PENDING_STATES, WebhookState.FAILED)
            )
        )
        if claimed:
            _process_claimed(event.integration, claimed, parsed)
    event.refresh_from_db()
    return event


def _drain_batch(integration, client, batch_size: int) -> tuple[int, int, bool]:
    """One batch: (deliveries claimed, of which failed, whether the batch was full). Read
    and parsed before the write transaction (SQLite's writer lock is held only for the
    writing)."""
    rows = list(
        WebhookEvent.objects.filter(integration=integration, state__in=PENDING_STATES)
        .order_by("pk")
        .only("pk", "body", "content_type", "received_at")[:batch_size]
    )
    if not rows:
        return 0, 0, False
    parsed, events = {}, 0
    for row in rows:
        result = _parse(client, row)
        count = 0 if isinstance(result, Exception) else len(result)
        if parsed and events + count > BATCH_EVENTS:
            break
        parsed[row.pk] = result
        events += count
    full = len(parsed) < len(rows) or len(rows) == batch_size
    with transaction.atomic():
        claimed = _claim(WebhookEvent.objects.filter(pk__in=parsed, state__in=PENDING_STATES))
        if not claimed:  # taken by another drain meanwhile
            return 0, 0, False
        failed = _process_claimed(integration, claimed, parsed)
    return len(claimed), failed, full


def _parse(client, delivery: WebhookEvent) -> list[NormalisedEvent] | Exception:
    try:
        return client.parse_webhook(
            bytes(delivery.body), delivery.content_type, delivery.received_at
        )
    except Exception as exc:  # noqa: BLE001 - any failure is kept on the delivery for replay
        return exc


def _claim(deliveries) -> list[int]:
    """Lock the deliveries still claimable (inside the caller's transaction) and count the
    attempt; their ids in order."""
    deliveries = deliveries.order_by("pk")
    if connection.features.has_select_for_update_skip_locked:
        deliveries = deliveries.select_for_update(skip_locked=True)
    ids = list(deliveries.values_list("pk", flat=True))
    if ids:
        WebhookEvent.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1)
    return ids


def _process_claimed(integration, ids: list[int], parsed: dict) -> int:
    """Apply the claimed deliveries' events and record how each went; how many failed."""
    failures = {pk: parsed[pk] for pk in ids if isinstance(parsed[pk], Exception)}
    good = {pk: parsed[pk] for pk in ids if pk not in failures}
    outcomes: dict[int, Outcome] = {}
    try:
        with transaction.atomic():
            outcomes = dict(zip(good, apply_batch(integration, list(good.values())), strict=True))
    except Exception:  # noqa: BLE001 - one delivery broke the batch: each on its own then
        for pk, events in good.items():
            try:
                with transaction.atomic():
                    outcomes[pk] = apply_batch(integration, [events])[0]
            except Exception as exc:  # noqa: BLE001 - kept on the delivery for replay
                failures[pk] = exc
    now = timezone.now()
    updates: dict[tuple, list[int]] = {}
    for pk in ids:
        if pk in failures:
            exc = failures[pk]
            values = (
                ("state", WebhookState.FAILED),
                ("error", storable(f"{type(exc).__name__}: {exc}", ERROR_KEPT)),
            )
        else:
            events, outcome = good[pk], outcomes[pk]
            # Every event already recorded (the same events in another body): a duplicate.
            duplicate = events and not outcome.recorded and outcome.duplicates == len(events)
            values = (
                ("state", WebhookState.DUPLICATE if duplicate else WebhookState.PROCESSED),
                ("error", ""),
                ("events_count", len(events)),
                ("note", outcome.summary() if events else "no event the console records"),
                ("processed_at", now),
            )
        updates.setdefault(values, []).append(pk)
    # Most deliveries of a batch end alike ("1 recorded"): one UPDATE for each kind of ending.
    for values, pks in updates.items():
        WebhookEvent.objects.filter(pk__in=pks).update(**dict(values))
    return len(failures)


def apply_events(integration, events: list[NormalisedEvent]) -> Outcome:
    """Record one delivery's events (see apply_batch)."""
    with transaction.atomic():
        return apply_batch(integration, [events])[0]


@dataclass
class _New:
    delivery: int
    subscriber: Subscriber
    event: NormalisedEvent
    row: EngagementEvent


def apply_batch(integration, deliveries: list[list[NormalisedEvent]]) -> list[Outcome]:
    """Record the events of several deliveries at once; one Outcome per delivery.

    The same as recording them one by one in that order: an event already stored (or earlier
    in the batch) counts as a duplicate; status and profile changes are applied per reader in
    the order the events came, each checked against the newest status event stored or
    recorded before it; the readers' engagement is recomputed once at the end. Run inside a
    transaction (the caller's).
    """
    outcomes = [Outcome() for _ in deliveries]
    emails = {normalise_email(e.email) for events in deliveries for e in events if e.email}
    suppressed = suppressed_among(emails) if emails else set()
    # Locked in id order (PostgreSQL): a drain beside this one touching the same readers waits
    # here rather than interleave its status changes and engagement counts with these.
    readers = {
        s.email: s
        for s in Subscriber.objects.filter(email__in=emails - suppressed)
        .order_by("pk")
        .select_for_update()
    }
    found = []
    for index, events in enumerate(deliveries):
        for event in events:
            subscriber = readers.get(normalise_email(event.email)) if event.email else None
            if subscriber is None:
                outcomes[index].unknown += 1
            else:
                found.append((index, subscriber, event, dedupe_key(event)))
    stored = set(
        EngagementEvent.objects.filter(
            integration=integration, dedupe_key__in={key for *_, key in found}
        ).values_list("dedupe_key", flat=True)
    )
    new: list[_New] = []
    for index, subscriber, event, key in found:
        if key in stored:
            outcomes[index].duplicates += 1
            continue
        stored.add(key)
        outcomes[index].recorded += 1
        new.append(_New(index, subscriber, event, _row(integration, subscriber, event, key)))
    if not new:
        return outcomes
    _apply_statuses(integration, new, outcomes)
    EngagementEvent.objects.bulk_create([n.row for n in new], batch_size=500)
    # Opens, clicks, rates and the engagement score, computed from every stored event.
    engagement.refresh({n.subscriber.pk for n in new})
    return outcomes


def _row(integration, subscriber: Subscriber, event: NormalisedEvent, key: str) -> EngagementEvent:
    return EngagementEvent(
        subscriber=subscriber,
        integration=integration,
        kind=EngagementKind(event.kind),
        occurred_at=event.occurred_at,
        source="webhook",
        dedupe_key=key,
        remote_campaign_id=event.remote_campaign_id[:100],
        remote_send_id=event.remote_send_id[:100],
        url=event.url[:1000],
        data={k: v for k, v in _data(event).items() if k != "api_url"} | _ids(event),
    )


def _data(event: NormalisedEvent) -> dict:
    data = dict(event.data)
    if event.kind == EngagementKind.CONTACT_CREATED:
        data.setdefault("status", SubscriberStatus.SUBSCRIBED)
    return data


def _is_status_event(row: EngagementEvent) -> bool:
    return row.kind in STATUS_KINDS or "status" in row.data


def _apply_statuses(integration, new: list[_New], outcomes: list[Outcome]) -> None:
    """Status and profile changes of the new events, reader by reader in the order they came:
    an event older than the reader's newest status event (stored, or earlier in the batch)
    changes no status; merge_profile applies the conflict policy and lets opt-outs win."""
    bearing = [n for n in new if n.event.kind in PROFILE_KINDS or _status_of(n)]
    if not bearing:
        return
    latest = dict(
        EngagementEvent.objects.filter(subscriber_id__in={n.subscriber.pk for n in bearing})
        .filter(Q(kind__in=STATUS_KINDS) | Q(data__has_key="status"))
        .values("subscriber_id")
        .annotate(last=Max("occurred_at"))
        .values_list("subscriber_id", "last")
        .order_by()
    )
    policy = integration.conflict_policy if integration is not None else ""
    changed: dict[int, tuple[Subscriber, set[str]]] = {}
    for n in new:
        subscriber, row, outcome = n.subscriber, n.row, outcomes[n.delivery]
        incoming = {}
        if row.kind in PROFILE_KINDS:
            data = _data(n.event)
            incoming.update({k: data[k] for k in ("first_name", "last_name") if data.get(k)})
        status = _status_of(n)
        if status and status != subscriber.status:
            newest = latest.get(subscriber.pk)
            if newest is not None and newest > row.occurred_at:
                outcome.kept_newer += 1
            else:
                incoming["status"] = status
        if _is_status_event(row):
            newest = latest.get(subscriber.pk)
            latest[subscriber.pk] = max(newest, row.occurred_at) if newest else row.occurred_at
        if not incoming:
            continue
        before = subscriber.status
        fields = merge_profile(subscriber, incoming, policy, is_new=False)
        if fields:
            changed.setdefault(subscriber.pk, (subscriber, set()))[1].update(fields)
            if "status" in fields and subscriber.status != before:
                outcome.status_changes += 1
    for subscriber, fields in changed.values():
        subscriber.save(update_fields=[*sorted(fields), "updated_at"])


def _status_of(n: _New) -> str:
    return STATUS_OF.get(n.row.kind) or _data(n.event).get("status") or ""


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


def _ids(event: NormalisedEvent) -> dict:
    return {"platform_id": event.platform_id} if event.platform_id else {}


def replay(event: WebhookEvent) -> WebhookEvent | None:
    """Run a failed delivery again (its events already recorded are not counted twice)."""
    if event.state != WebhookState.FAILED:
        return event
    return process(event.pk)
