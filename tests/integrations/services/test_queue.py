"""Housekeeping of sync runs: a queued run waits, a dead one is resumed within a minute."""

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import IntegrationStatus, SyncKind, SyncRun, SyncStatus, SyncTrigger
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


def _push_target(integration, slug="vips"):
    from audience.models import AudienceSegment
    from integrations.models import SegmentPush

    segment = AudienceSegment.objects.create(name=slug.upper(), slug=slug)
    return SegmentPush.objects.create(segment=segment, integration=integration, remote_id="5")


def test_an_interrupted_segment_push_is_resumed_by_the_housekeeping_of_syncs(
    make_integration, queued_tasks, settings, django_capture_on_commit_callbacks
):
    """One housekeeping for every kind: a dead sync and a dead push of one integration are
    both interrupted and resumed (each as a run of its kind and target) by the same call."""
    settings.SYNC_STALE_AFTER_SECONDS = 600
    integration = make_integration("iterable")
    push = _push_target(integration)
    long_ago = timezone.now() - timedelta(seconds=601)
    dead_sync = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING,
        heartbeat_at=long_ago, cursor=77,
    )  # fmt: skip
    dead_push = SyncRun.objects.create(
        integration=integration, kind=SyncKind.SEGMENT, segment_push=push,
        trigger=SyncTrigger.MANUAL, status=SyncStatus.RUNNING, heartbeat_at=long_ago,
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        done = queue.look_after_sync_runs()
    assert (done.interrupted, done.resumed) == (2, 2)
    dead_push.refresh_from_db()
    assert dead_push.status == SyncStatus.INTERRUPTED
    resumed = SyncRun.objects.get(resumed_from=dead_push)
    assert (resumed.kind, resumed.segment_push, resumed.status, resumed.trigger) == (
        SyncKind.SEGMENT,
        push,
        SyncStatus.QUEUED,
        SyncTrigger.RESUME,
    )
    sync_resume = SyncRun.objects.get(resumed_from=dead_sync)
    assert (sync_resume.kind, sync_resume.segment_push, sync_resume.cursor) == (
        SyncKind.PUSH,
        None,
        77,
    )
    assert sorted(queued_tasks) == sorted(
        [
            ("integrations.tasks.run_sync", (resumed.pk,)),
            ("integrations.tasks.run_sync", (sync_resume.pk,)),
        ]
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.look_after_sync_runs().resumed == 0  # queued once: the queued runs stand
    integration.enabled = False
    integration.save()
    SyncRun.objects.filter(pk=resumed.pk).update(status=SyncStatus.INTERRUPTED)
    assert queue.look_after_sync_runs().resumed == 0  # a disabled integration is left alone


def test_a_push_whose_queued_task_was_lost_is_queued_again(
    make_integration, queued_tasks, settings, django_capture_on_commit_callbacks
):
    settings.SYNC_STALE_AFTER_SECONDS = 600
    integration = make_integration("iterable")
    push = _push_target(integration)
    lost = SyncRun.objects.create(
        integration=integration, kind=SyncKind.SEGMENT, segment_push=push, trigger="manual"
    )
    _age(lost, hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert queue.look_after_sync_runs().requeued == 1
    assert queued_tasks == [("integrations.tasks.run_sync", (lost.pk,))]


def test_a_segment_push_runs_beside_a_sync_but_not_beside_another_push_of_its_target(
    make_integration, queued_tasks, django_capture_on_commit_callbacks
):
    """The one-active rule (SyncRun's docstring): a sync and an import of one integration
    exclude each other; a push excludes only a second push of the same segment to it."""
    from audience.models import AudienceSegment

    integration = make_integration("kit")  # takes pushes and lists its contacts
    vips = AudienceSegment.objects.create(name="VIPs", slug="vips")
    growth = AudienceSegment.objects.create(name="Growth", slug="growth")
    with django_capture_on_commit_callbacks(execute=True):
        sync, created = queue.enqueue_sync(integration, SyncTrigger.MANUAL)
        assert created
        first_push, pushed = queue.enqueue_segment_push(vips, integration, via="test")
        assert pushed, "a queued sync does not hold up a segment push"
        other_push, pushed_other = queue.enqueue_segment_push(growth, integration, via="test")
        assert pushed_other, "nor does a push of another segment"
        again, pushed_again = queue.enqueue_segment_push(vips, integration, via="test")
        assert not pushed_again and again.pk == first_push.pk
        blocked, imported = queue.enqueue_profile_import(integration, SyncTrigger.MANUAL)
        assert not imported and blocked.pk == sync.pk, "an import still waits for the sync"
        sync_again, created_again = queue.enqueue_sync(integration, SyncTrigger.MANUAL)
        assert not created_again and sync_again.pk == sync.pk, "pushes do not count as syncs"
    assert first_push.kind == other_push.kind == SyncKind.SEGMENT
    assert {first_push.segment_push.segment, other_push.segment_push.segment} == {vips, growth}
    assert len(queued_tasks) == 3


def test_the_database_refuses_a_second_active_push_of_one_target(make_integration):
    from django.db import IntegrityError, transaction

    integration = make_integration("iterable")
    push = _push_target(integration)
    fields = {"integration": integration, "kind": SyncKind.SEGMENT, "trigger": "manual"}
    SyncRun.objects.create(segment_push=push, status=SyncStatus.RUNNING, **fields)
    SyncRun.objects.create(trigger="manual", integration=integration)  # a sync beside it
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(segment_push=push, **fields)
    SyncRun.objects.create(segment_push=push, status=SyncStatus.SUCCEEDED, **fields)  # finished
