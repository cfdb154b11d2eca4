"""Putting integration work on the django-q2 queue (after the current transaction commits)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from integrations.models import (
    AuditAction,
    Integration,
    IntegrationStatus,
    SegmentPush,
    SyncKind,
    SyncMode,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.errors import UnsupportedCapability
from integrations.platforms.types import Capability
from integrations.services import audit, segment_push
from integrations.services.sync import mark_stale_runs, start_sync


def enqueue(func: str, *args, **kwargs) -> None:
    """Queue `func(*args)` once the current transaction has committed."""
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))


def enqueue_sync(
    integration: Integration,
    trigger: str,
    mode: str = SyncMode.CHANGED,
    dry_run: bool = False,
    *,
    kind: str = SyncKind.PUSH,
    actor=None,
    via: str = "",
) -> tuple[SyncRun, bool]:
    """Create a queued run and queue its task; (the active run, False) if one is under way.

    A request by someone (`actor`, or `via` for a command) is in the audit log; the
    housekeeping's own resumes are not.
    """
    run, created = start_sync(integration, trigger, mode=mode, dry_run=dry_run, kind=kind)
    if created:
        _enqueue_run(run)
        _audit(AuditAction.SYNC_REQUESTED, integration, actor, via, f"Sync run #{run.pk} ({mode})")
    return run, created


def enqueue_profile_import(
    integration: Integration, trigger: str, conflict_policy: str = "", *, actor=None, via=""
) -> tuple[SyncRun, bool]:
    """Queue an import of the platform's profiles (a run of kind "import"); (the active run,
    False) when a run of the integration is under way. UnsupportedCapability (with the
    reason) where the platform cannot list its contacts."""
    platform = integration.platform_class
    if not platform.supports(Capability.LIST_CONTACTS):
        raise platform.unsupported(Capability.LIST_CONTACTS)
    run, created = start_sync(
        integration, trigger, kind=SyncKind.IMPORT, conflict_policy=conflict_policy
    )
    if created:
        _enqueue_run(run)
        policy = run.conflict_policy or integration.conflict_policy
        summary = f"Profile import run #{run.pk} ({policy})"
        _audit(AuditAction.PROFILES_IMPORT_REQUESTED, integration, actor, via, summary)
    return run, created


def _audit(action: str, integration: Integration, actor, via: str, summary: str) -> None:
    if actor is not None or via:
        audit.record(action, actor=actor, via=via, target=integration, summary=summary)


def _enqueue_run(run: SyncRun) -> None:
    enqueue("integrations.tasks.run_sync", run.pk, group=f"sync-{run.integration_id}")


@dataclass(frozen=True)
class Housekeeping:
    interrupted: int
    resumed: int
    requeued: int


def look_after_sync_runs() -> Housekeeping:
    """What the one-minute housekeeping schedule does for runs of every kind (syncs, profile
    imports, segment pushes: one life, services/sync.py).

    - A running run without a heartbeat for SYNC_STALE_AFTER_SECONDS is marked interrupted.
    - An interrupted run is resumed from its checkpoint (a new run of its kind, and for a
      segment push of its target), unless the integration is disabled or waits for a person
      (needs attention), or a push can no longer be queued (the platform lost the capability,
      the segment's rules were made invalid since).
    - A run queued for longer than that gets its task queued again, once per such period, in
      case the broker lost it; running it twice is harmless, as only one worker can claim a
      queued run. Its `heartbeat_at` records when it was last queued.
    """
    interrupted = mark_stale_runs()
    resumed = 0
    waiting = (
        SyncRun.objects.filter(
            status=SyncStatus.INTERRUPTED,
            dry_run=False,
            resumed_by__isnull=True,
            integration__enabled=True,
        )
        .exclude(
            integration__status__in=(IntegrationStatus.NEEDS_ATTENTION, IntegrationStatus.DISABLED)
        )
        .order_by("integration_id", "kind", "segment_push_id")
        .values_list("integration_id", "kind", "segment_push_id")
        .distinct()
    )
    for integration_id, kind, push_id in waiting:
        if kind == SyncKind.SEGMENT:
            push = SegmentPush.objects.select_related("segment", "integration").get(pk=push_id)
            try:
                _, created = enqueue_segment_push(
                    push.segment, push.integration, trigger=SyncTrigger.RESUME
                )
            except (UnsupportedCapability, ValidationError):
                continue
        else:
            integration = Integration.objects.get(pk=integration_id)
            _, created = enqueue_sync(integration, SyncTrigger.RESUME, kind=kind)
        resumed += created
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    requeued = 0
    for run in SyncRun.objects.filter(status=SyncStatus.QUEUED, created_at__lt=cutoff).exclude(
        heartbeat_at__gte=cutoff
    ):
        if SyncRun.objects.filter(pk=run.pk, status=SyncStatus.QUEUED).update(
            heartbeat_at=timezone.now()
        ):
            _enqueue_run(run)
            requeued += 1
    return Housekeeping(interrupted, resumed, requeued)


def enqueue_test_connection(integration: Integration, *, actor=None, via: str = "") -> None:
    enqueue("integrations.tasks.test_connection", integration.pk)
    _audit(AuditAction.CONNECTION_TESTED, integration, actor, via, "Connection test queued")


def enqueue_register_webhooks(integration: Integration, *, actor=None, via: str = "") -> None:
    """Queue registering the integration's webhook with its platform; UnsupportedCapability
    (with the reason) where its API cannot (the integration's page shows the steps)."""
    platform = integration.platform_class
    if not platform.supports(Capability.REGISTER_WEBHOOKS):
        raise platform.unsupported(Capability.REGISTER_WEBHOOKS)
    enqueue("integrations.tasks.register_webhooks", integration.pk)
    _audit(AuditAction.WEBHOOKS_REGISTERED, integration, actor, via, "Webhook registration queued")


def enqueue_segment_push(
    segment, integration: Integration, *, actor=None, via: str = "", trigger: str = ""
):
    """Queue a push of a SharpSend segment to `integration` (a run of kind "segment", run by
    the run_sync task like any run); (run, created) as start_push.

    UnsupportedCapability (with the reason) where the platform takes no pushed segments;
    ValidationError when the segment's rules are invalid.
    """
    trigger = trigger or (SyncTrigger.MANUAL if actor else SyncTrigger.COMMAND)
    run, created = segment_push.start_push(segment, integration, trigger)
    if created:
        _enqueue_run(run)
        _audit(
            AuditAction.SEGMENT_PUSH_REQUESTED,
            integration,
            actor,
            via,
            f"Push of segment '{segment}' (run #{run.pk})",
        )
    return run, created


def enqueue_import_segments(integration: Integration, *, actor=None, via: str = "") -> None:
    """Queue a segment import; UnsupportedCapability (with the reason) where there is none."""
    platform = integration.platform_class
    if not platform.supports(Capability.LIST_SEGMENTS):
        raise platform.unsupported(Capability.LIST_SEGMENTS)
    enqueue("integrations.tasks.import_segments", integration.pk)
    _audit(AuditAction.SEGMENTS_IMPORTED, integration, actor, via, "Segment import queued")


def enqueue_member_refresh(segment, *, actor=None, via: str = "") -> None:
    """Queue reading a platform segment's members; UnsupportedCapability where there is none."""
    platform = segment.integration.platform_class
    if not platform.supports(Capability.LIST_SEGMENT_MEMBERS):
        raise platform.unsupported(Capability.LIST_SEGMENT_MEMBERS)
    enqueue("integrations.tasks.refresh_segment_members", segment.pk)
    _audit(
        AuditAction.SEGMENTS_IMPORTED,
        segment.integration,
        actor,
        via,
        f"Member import queued for segment {segment.name}",
    )
