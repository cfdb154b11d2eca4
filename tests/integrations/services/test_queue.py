"""Housekeeping of sync runs: a queued run waits, a dead one is resumed within a minute."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import IntegrationStatus, SyncRun, SyncStatus, SyncTrigger
from integrations.services import queue

pytestmark = pytest.mark.django_db


@pytest.fixture
def queued_tasks(monkeypatch):
    tasks = []
    monkeypatch.setattr(queue, "async_task", lambda func, *args, **kw: tasks.append((func, args)))
    return tasks


def _age(run, **delta):
    SyncRun.objects.filter(pk=run.pk).update(created_at=timezone.now() - timedelta(**delta))


def test_a_run_waiting_in_a_busy_queue_is_never_taken_for_dead(
    make_integration, queued_tasks, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_STALE_AFTER_SECONDS = 600
    integration = make_integration("customerio")
    waiting = SyncRun.objects.create(integration=integration, trigger=SyncTrigger.MANUAL)
    _age(waiting, hours=2)

    with django_capture_on_commit_callbacks(execute=True):
        done = queue.look_after_sync_runs()
    waiting.refresh_from_db()
    assert waiting.status == SyncStatus.QUEUED
    assert (done.interrupted, done.resumed, done.requeued) == (0, 0, 1)
    assert queued_tasks == [("integrations.tasks.run_sync", (waiting.pk,))]

    with django_capture_on_commit_callbacks(execute=True):
        again = queue.look_after_sync_runs()
    assert again.requeued == 0, "requeued at most once per stale period"
    assert len(queued_tasks) == 1


def test_a_dead_run_is_interrupted_and_resumed_from_its_checkpoint(
    make_integration, queued_tasks, django_capture_on_commit_callbacks
):
    integration = make_integration("customerio")
    dead = SyncRun.objects.create(
        integration=integration,
        trigger=SyncTrigger.MANUAL,
        status=SyncStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=1),
        cursor=1234,
    )
    with django_capture_on_commit_callbacks(execute=True):
        done = queue.look_after_sync_runs()
    dead.refresh_from_db()
    assert dead.status == SyncStatus.INTERRUPTED
    resume = SyncRun.objects.get(resumed_from=dead)
    assert (resume.status, resume.trigger, resume.cursor) == (
        SyncStatus.QUEUED,
        SyncTrigger.RESUME,
        1234,
    )
    assert (done.interrupted, done.resumed) == (1, 1)
    assert queued_tasks == [("integrations.tasks.run_sync", (resume.pk,))]

    with django_capture_on_commit_callbacks(execute=True):
        assert queue.look_after_sync_runs().resumed == 0  # resumed once
    assert SyncRun.objects.filter(integration=integration).count() == 2


def test_a_running_run_with_a_fresh_heartbeat_is_left_alone(make_integration, queued_tasks):
    integration = make_integration("customerio")
    alive = SyncRun.objects.create(
        integration=integration,
        trigger=SyncTrigger.MANUAL,
        status=SyncStatus.RUNNING,
        heartbeat_at=timezone.now(),
    )
    _age(alive, hours=3)
    assert queue.look_after_sync_runs() == queue.Housekeeping(0, 0, 0)
    alive.refresh_from_db()
    assert alive.status == SyncStatus.RUNNING


@pytest.mark.parametrize(
    "fields", [{"status": IntegrationStatus.NEEDS_ATTENTION}, {"enabled": False}]
)
def test_an_integration_that_waits_for_a_person_is_not_resumed(
    make_integration, queued_tasks, fields
):
    integration = make_integration("customerio", **fields)
    SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.INTERRUPTED
    )
    assert queue.look_after_sync_runs().resumed == 0
    assert SyncRun.objects.filter(integration=integration).count() == 1


def test_an_interrupted_segment_push_is_queued_again(
    make_integration, queued_tasks, settings, django_capture_on_commit_callbacks
):
    from audience.models import AudienceSegment
    from integrations.models import PushStatus, SegmentPush, SegmentPushRun

    settings.SYNC_STALE_AFTER_SECONDS = 600
    integration = make_integration("iterable")
    segment = AudienceSegment.objects.create(name="VIPs", slug="vips")
    push = SegmentPush.objects.create(segment=segment, integration=integration, remote_id="5")
    dead = SegmentPushRun.objects.create(
        push=push, trigger="manual", status=PushStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(seconds=601),
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.look_after_segment_pushes() == 1
    dead.refresh_from_db()
    assert dead.status == PushStatus.INTERRUPTED
    resumed = push.runs.get(status=PushStatus.QUEUED)
    assert resumed.trigger == "resume"
    assert queued_tasks == [("integrations.tasks.run_segment_push", (resumed.pk,))]
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.look_after_segment_pushes() == 0  # queued once: the queued run stands
    integration.enabled = False
    integration.save()
    SegmentPushRun.objects.filter(pk=resumed.pk).update(status=PushStatus.INTERRUPTED)
    assert queue.look_after_segment_pushes() == 0  # a disabled integration is left alone
