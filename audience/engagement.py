"""Recording what readers did, once each, and the engagement fields computed from it.

Webhooks and metrics read back hand their normalised events to `record`. An event is stored
once per integration (its dedupe key); the readers' engagement fields are then recomputed from
all their stored events, never incremented, so a redelivered or replayed event, or two workers
recording the same batch, cannot count twice. A field is written only when its value changes,
so `updated_at` moves — and a changed-only sync sends the reader — only then.

An unsubscribe, a complaint or a hard bounce opts the reader out (opt-outs always win: nothing
that comes in later re-subscribes them; see audience/profiles.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.db import connection, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from audience.models import (
    OPTED_OUT,
    EngagementEvent,
    EngagementKind,
    Subscriber,
    SubscriberStatus,
    normalise_email,
)

OPT_OUT_BY_KIND = {
    EngagementKind.UNSUBSCRIBED: SubscriberStatus.UNSUBSCRIBED,
    EngagementKind.COMPLAINED: SubscriberStatus.COMPLAINED,
    EngagementKind.BOUNCED_HARD: SubscriberStatus.BOUNCED,
}
# The fields `refresh` computes (mapping sources like any subscriber field).
COMPUTED_FIELDS = (
    "opens_count",
    "clicks_count",
    "last_opened_at",
    "last_clicked_at",
    "sends_received",
    "open_rate",
    "click_rate",
    "engagement_score",
    "last_interaction_at",
)
OPEN_WEIGHT, CLICK_WEIGHT = 0.6, 0.4


@dataclass(frozen=True)
class Observed:
    """One event as a platform reported it, before it is matched to a reader."""

    email: str
    kind: str
    occurred_at: datetime
    dedupe_key: str
    remote_campaign_id: str = ""
    url: str = ""
    data: dict = field(default_factory=dict)


@dataclass
class Recorded:
    created: int = 0
    duplicates: int = 0
    unknown_readers: int = 0
    opted_out: int = 0
    refreshed: int = 0


def record(integration, observed: Iterable[Observed], source: str) -> Recorded:
    """Store new events (skipping those already stored), opt readers out, refresh their fields.

    Events for an address SharpSend does not hold are kept without a reader (they count in
    the send's analytics) and nobody is created for them.
    """
    observed = list(observed)
    result = Recorded()
    emails = {normalise_email(o.email) for o in observed}
    readers = dict(Subscriber.objects.filter(email__in=emails).values_list("email", "id"))
    stored = set(
        EngagementEvent.objects.filter(
            integration=integration, dedupe_key__in=[o.dedupe_key for o in observed]
        ).values_list("dedupe_key", flat=True)
    )
    new: list[EngagementEvent] = []
    for o in observed:
        if o.dedupe_key in stored:
            result.duplicates += 1
            continue
        stored.add(o.dedupe_key)
        reader = readers.get(normalise_email(o.email))
        if reader is None:
            result.unknown_readers += 1
        new.append(
            EngagementEvent(
                subscriber_id=reader,
                integration=integration,
                kind=o.kind,
                occurred_at=o.occurred_at,
                source=source,
                dedupe_key=o.dedupe_key,
                remote_campaign_id=o.remote_campaign_id,
                url=o.url[:1000],
                data=o.data,
            )
        )
    with transaction.atomic():
        # A worker recording the same events at the same moment loses the race quietly; the
        # fields below are computed from what is stored, so nothing counts twice either way.
        EngagementEvent.objects.bulk_create(new, ignore_conflicts=True)
        result.created = len(new)
        touched = {e.subscriber_id for e in new if e.subscriber_id is not None}
        result.opted_out = _opt_out(new)
        result.refreshed = refresh(touched)
    return result


def _opt_out(events: Sequence[EngagementEvent]) -> int:
    """Readers an unsubscribe, complaint or hard bounce opts out (the first such event wins)."""
    status_for: dict[int, str] = {}
    for event in sorted(events, key=lambda e: e.occurred_at):
        status = OPT_OUT_BY_KIND.get(event.kind)
        if status and event.subscriber_id is not None:
            status_for.setdefault(event.subscriber_id, status)
    changed = 0
    now = timezone.now()
    for status in set(status_for.values()):
        ids = [sid for sid, s in status_for.items() if s == status]
        changed += (
            Subscriber.objects.filter(pk__in=ids)
            .exclude(status__in=OPTED_OUT)
            .update(status=status, updated_at=now)
        )
    return changed


def refresh(subscriber_ids: Iterable[int]) -> int:
    """Recompute the readers' engagement fields from their events; return how many changed.

    One aggregate over the readers' events and one UPDATE statement run for many rows, so a
    batch of readers costs little more than one. The readers' rows are locked first (in id
    order; PostgreSQL, as SQLite has one writer anyway): a refresh of the same reader running
    beside this one waits, then aggregates what this one committed, so neither writes counts
    that miss the other's events.
    """
    ids = sorted(set(subscriber_ids))
    if not ids:
        return 0
    with transaction.atomic():
        readers = list(
            Subscriber.objects.filter(pk__in=ids)
            .order_by("pk")
            .select_for_update()
            .only("pk", *COMPUTED_FIELDS)
        )
        figures = _figures(ids)
        now = timezone.now()
        changed = []
        for subscriber in readers:
            values = computed(figures.get(subscriber.pk))
            if any(getattr(subscriber, name) != value for name, value in values.items()):
                for name, value in values.items():
                    setattr(subscriber, name, value)
                subscriber.updated_at = now
                changed.append(subscriber)
        _write(changed, [*COMPUTED_FIELDS, "updated_at"])
    return len(changed)


def _figures(ids: list[int]) -> dict[int, dict]:
    opened, clicked, delivered = (
        Q(kind=EngagementKind.OPENED),
        Q(kind=EngagementKind.CLICKED),
        Q(kind=EngagementKind.DELIVERED),
    )
    of_a_send = ~Q(remote_campaign_id="")
    return {
        row.pop("subscriber_id"): row
        for row in EngagementEvent.objects.filter(subscriber_id__in=ids)
        .values("subscriber_id")
        .annotate(
            opens=Count("id", filter=opened),
            clicks=Count("id", filter=clicked),
            last_open=Max("occurred_at", filter=opened),
            last_click=Max("occurred_at", filter=clicked),
            received=Count("remote_campaign_id", filter=delivered & of_a_send, distinct=True),
            sends_opened=Count("remote_campaign_id", filter=opened & of_a_send, distinct=True),
            sends_clicked=Count("remote_campaign_id", filter=clicked & of_a_send, distinct=True),
        )
        .order_by()
    }


def _write(subscribers: list[Subscriber], names: list[str]) -> None:
    """UPDATE the fields `names` of each subscriber, one parameterised statement executed for
    all rows (bulk_update's CASE expression of one WHEN a row and field cost more to build
    than the refresh's own query). Values are prepared by the model fields, as save() does."""
    if not subscribers:
        return
    fields = [Subscriber._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    statement = (
        f"UPDATE {quote(Subscriber._meta.db_table)} SET {assignments} "
        f"WHERE {quote(Subscriber._meta.pk.column)} = %s"
    )
    rows = [
        [f.get_db_prep_save(getattr(s, f.attname), connection) for f in fields] + [s.pk]
        for s in subscribers
    ]
    with connection.cursor() as cursor:
        cursor.executemany(statement, rows)


def computed(figures: dict | None) -> dict:
    """The engagement fields for one reader's aggregated events (None: no events)."""
    figures = figures or {}
    opens, clicks = figures.get("opens", 0), figures.get("clicks", 0)
    last_open, last_click = figures.get("last_open"), figures.get("last_click")
    # A platform that reports opens but not deliveries still delivered what was opened.
    received = max(
        figures.get("received", 0), figures.get("sends_opened", 0), figures.get("sends_clicked", 0)
    )
    open_rate = figures.get("sends_opened", 0) / received if received else None
    click_rate = figures.get("sends_clicked", 0) / received if received else None
    score = round(100 * (OPEN_WEIGHT * open_rate + CLICK_WEIGHT * click_rate)) if received else None
    interactions = [t for t in (last_open, last_click) if t is not None]
    return {
        "opens_count": opens,
        "clicks_count": clicks,
        "last_opened_at": last_open,
        "last_clicked_at": last_click,
        "sends_received": received,
        "open_rate": open_rate,
        "click_rate": click_rate,
        "engagement_score": score,
        "last_interaction_at": max(interactions) if interactions else None,
    }
