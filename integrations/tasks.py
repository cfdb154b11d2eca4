"""django-q2 tasks: thin wrappers that load ids and call services."""

from __future__ import annotations

import logging

from integrations import metering
from integrations.models import Integration, IntegrationStatus, Segment, SyncTrigger
from integrations.services import (
    connection,
    membership,
    oauth,
    privacy,
    queue,
    segments,
    sync,
    webhook_events,
    webhook_registration,
)

logger = logging.getLogger(__name__)


def run_sync(run_id: int) -> str:
    """Any run: a sync, a profile import or a segment push (execute_sync picks its runner)."""
    run = sync.execute_sync(run_id)
    if run.is_segment_push:
        return f"segment push run {run.pk}: {run.status} (+{run.created} -{run.removed})"
    return f"run {run.pk}: {run.status}"


def scheduled_sync(integration_id: int) -> str:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None or not integration.enabled:
        return "skipped: integration gone or disabled"
    if integration.status in (IntegrationStatus.NEEDS_ATTENTION, IntegrationStatus.DISABLED):
        return f"skipped: integration is {integration.get_status_display().lower()}"
    run, created = sync.start_sync(integration, SyncTrigger.SCHEDULE)
    if not created:
        return f"skipped: run {run.pk} is {run.status}"
    return run_sync(run.pk)


def test_connection(integration_id: int) -> str:
    report = connection.test_connection(Integration.objects.get(pk=integration_id))
    return report.detail


def import_segments(integration_id: int) -> str:
    integration = Integration.objects.get(pk=integration_id)
    result = segments.import_segments(integration)
    segments.schedule_pending_counts(integration, result)
    return f"{result.imported} segments, {result.counted} counted"


def refresh_segment_counts(integration_id: int) -> str:
    integration = Integration.objects.get(pk=integration_id)
    result = segments.refresh_counts(integration)
    segments.schedule_pending_counts(integration, result)
    return f"{result.counted} counted, {len(result.counts_pending)} pending"


def refresh_segment_members(segment_id: int) -> str:
    """Read a segment's members; a long one goes on in a follow-up task every few pages."""
    segment = Segment.objects.select_related("integration").filter(pk=segment_id).first()
    if segment is None:
        return "skipped: segment gone"
    result = membership.refresh_members(segment, max_pages=membership.PAGES_PER_TASK)
    if not result.complete:
        queue.enqueue("integrations.tasks.refresh_segment_members", segment.pk)
    return f"{segment.name}: {result.summary()}"


def refresh_stale_members() -> str:
    """Housekeeping: queue a member refresh of every segment not read for a day."""
    due = list(membership.stale_segments().values_list("pk", flat=True))
    for segment_id in due:
        queue.enqueue("integrations.tasks.refresh_segment_members", segment_id)
    return f"{len(due)} segments queued"


def mark_stale_runs() -> int:
    return sync.mark_stale_runs()


def look_after_sync_runs() -> str:
    done = queue.look_after_sync_runs()  # every kind: syncs, imports, segment pushes
    return f"{done.interrupted} interrupted, {done.resumed} resumed, {done.requeued} requeued"


def prune_api_calls() -> int:
    return metering.prune()


def refresh_oauth_tokens() -> dict:
    """Refresh OAuth tokens that would expire before the next run, ahead of any sync."""
    return oauth.refresh_due()


def process_webhook_event(event_id: int) -> str:
    """One delivery (a replay from the inbox)."""
    event = webhook_events.process(event_id)
    if event is None:
        return "skipped: webhook event gone"
    return f"webhook event {event.pk}: {event.state}"


def drain_webhook_events(integration_id: int) -> str:
    """Process the integration's pending webhook deliveries in batches."""
    return webhook_events.drain(integration_id).summary()


def look_after_webhooks() -> str:
    """Housekeeping: a drain for the deliveries left pending (a drain that died)."""
    return f"{webhook_events.drain_stalled()} webhook drains queued"


def register_webhooks(integration_id: int) -> str:
    integration = Integration.objects.filter(pk=integration_id).first()
    if integration is None:
        return "skipped: integration gone"
    return f"{integration}: {webhook_registration.register_webhooks(integration).summary()}"


def run_privacy_task(task_id: int) -> str:
    task = privacy.run_task(task_id)
    return f"privacy task {task_id}: {task.state if task else 'nothing to do'}"


def look_after_privacy_requests() -> str:
    """Housekeeping: follow platform jobs and stale tasks of open requests; purge bundles."""
    advanced = privacy.advance_open()
    purged = privacy.purge_expired_bundles()
    return f"{advanced} requests advanced, {purged} bundles purged"
