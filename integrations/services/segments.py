"""Importing a platform's lists, segments, audiences or tags, with member counts."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django_q.models import Schedule

from integrations import clock, metering
from integrations.models import ApiFeature, Integration, Segment
from integrations.platforms.errors import RateLimited

logger = logging.getLogger(__name__)

# How long one import may wait on a platform's count rate limit before leaving the rest of the
# counts to a follow-up task (Iterable allows 5 list counts a minute).
COUNT_BUDGET_SECONDS = 20.0


@dataclass
class SegmentImport:
    imported: int = 0
    removed: int = 0
    counted: int = 0
    counts_pending: list[str] = field(default_factory=list)
    retry_in: float = 0.0


@metering.feature(ApiFeature.SEGMENTS)
def import_segments(integration: Integration, budget: float | None = None) -> SegmentImport:
    """Store the platform's segments (dropping ones it no longer has), then count members.

    Counting waits on the platform's rate limit for `budget` seconds at most; the counts left
    over are listed in `counts_pending`.
    """
    budget = COUNT_BUDGET_SECONDS if budget is None else budget
    client = integration.client()
    remote = client.list_segments()
    now = timezone.now()
    result = SegmentImport()
    with transaction.atomic():
        for segment in remote:
            Segment.objects.update_or_create(
                integration=integration,
                remote_id=segment.remote_id,
                defaults={"name": segment.name, "kind": segment.kind, "imported_at": now},
            )
        result.removed, _ = (
            Segment.objects.filter(integration=integration)
            .exclude(remote_id__in=[s.remote_id for s in remote])
            .delete()
        )
    result.imported = len(remote)
    known_counts = {s.remote_id: s.member_count for s in remote if s.member_count is not None}
    _count(integration, client, known_counts, budget, result)
    return result


@metering.feature(ApiFeature.SEGMENTS)
def refresh_counts(integration: Integration, budget: float | None = None) -> SegmentImport:
    """Count the members of the integration's stored segments, oldest counts first."""
    budget = COUNT_BUDGET_SECONDS if budget is None else budget
    result = SegmentImport()
    _count(integration, integration.client(), {}, budget, result)
    return result


def _count(integration, client, known: dict, budget: float, result: SegmentImport) -> None:
    started = clock.now()
    segments = integration.segments.order_by("count_updated_at", "name")
    for segment in segments:
        if segment.remote_id in known:
            count = known[segment.remote_id]
        else:
            remaining = budget - (clock.now() - started)
            try:
                count = client.segment_member_count(segment.remote_id, max_wait=max(remaining, 0))
            except RateLimited as exc:
                result.counts_pending.append(segment.remote_id)
                result.retry_in = max(result.retry_in, exc.retry_after or 60.0)
                continue
        segment.member_count = count
        segment.count_updated_at = timezone.now()
        segment.save(update_fields=["member_count", "count_updated_at"])
        result.counted += 1


def schedule_pending_counts(integration: Integration, result: SegmentImport) -> Schedule | None:
    """Counts the platform's rate limit did not allow now are fetched by a one-off schedule."""
    if not result.counts_pending:
        return None
    schedule, _ = Schedule.objects.update_or_create(
        name=f"segment counts {integration.pk}",
        defaults={
            "func": "integrations.tasks.refresh_segment_counts",
            "args": repr(integration.pk),
            "schedule_type": Schedule.ONCE,
            "repeats": 1,
            "next_run": timezone.now() + timedelta(seconds=result.retry_in + 1),
        },
    )
    return schedule
