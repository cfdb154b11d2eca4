"""Which subscribers a changed-only sync reads: O(changes), not O(audience).

A run that completed (succeeded or partial, not a dry run, over its whole scope) leaves a
snapshot time: every subscriber changed before it was compared by that run and is in its sync
state as last accepted, or pending. The next changed-only run then reads only subscribers
changed since that snapshot (`updated_at`, indexed) and those still pending, instead of hashing
every subscriber's payload. It compares the ones it reads as before, so reading a few extra
(the margin) costs little and changes nothing.

The snapshot is taken SYNC_CHANGE_MARGIN_SECONDS before the run starts, which covers a write
whose transaction was still open (its `updated_at` is earlier than its commit) and small clock
differences between machines. The snapshot counts only while the mappings are the same: any
run since it with other mappings (or another update-or-keep choice) sent other payloads, so
the next run compares the whole audience again.

Every write to a subscriber must move its `updated_at` (Django's auto_now on save and
bulk_create; the CSV import sets it in bulk_update): a write that does not is not synced by a
changed-only run until a full sync.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone

from integrations.models import (
    Integration,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncState,
    SyncStateStatus,
    SyncStatus,
)

COMPLETE = (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL)


def mapping_digest(integration: Integration, mappings=None) -> str:
    """A fingerprint of what decides the payloads: the mappings and update-or-keep."""
    if mappings is None:
        mappings = integration.field_mappings.all()
    rows = sorted((m.source, m.target, m.transform or "", bool(m.is_identifier)) for m in mappings)
    encoded = orjson.dumps([integration.platform, bool(integration.update_existing), rows])
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


def snapshot_now() -> datetime:
    """The snapshot a run starting now leaves for the next one."""
    return timezone.now() - timedelta(seconds=settings.SYNC_CHANGE_MARGIN_SECONDS)


def changed_since(run: SyncRun, digest: str) -> datetime | None:
    """Since when changed-only `run` needs to read (None: everyone)."""
    # Pushes only: a profile import sends no payloads (its writes move `updated_at`).
    runs = run.integration.sync_runs.filter(dry_run=False, kind=SyncKind.PUSH).exclude(pk=run.pk)
    last = (
        runs.filter(
            status__in=COMPLETE,
            mode__in=(SyncMode.CHANGED, SyncMode.FULL),
            snapshot_at__isnull=False,
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if last is None or last.mapping_digest != digest:
        return None
    # A run since then (of any kind or end) with other mappings sent other payloads.
    if runs.filter(created_at__gte=last.created_at).exclude(mapping_digest=digest).exists():
        return None
    return last.snapshot_at


def only_changes(subscribers: QuerySet, run: SyncRun) -> QuerySet:
    """`subscribers` narrowed to those a changed-only run must read (all when it reads all)."""
    if run.reads_since is None:
        return subscribers
    pending = SyncState.objects.filter(
        integration_id=run.integration_id, status=SyncStateStatus.PENDING
    ).values("subscriber_id")
    return subscribers.filter(Q(updated_at__gte=run.reads_since) | Q(id__in=pending))


def plan_reading(run: SyncRun) -> None:
    """Set a new run's snapshot, mapping digest and what it reads (a resumed run keeps its
    predecessor's, set by start_sync)."""
    if run.mapping_digest:
        return
    run.mapping_digest = mapping_digest(run.integration)
    run.snapshot_at = snapshot_now()
    if run.mode == SyncMode.CHANGED:
        run.reads_since = changed_since(run, run.mapping_digest)
