"""Tasks are thin: they load ids and call services."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from audience.models import Subscriber
from integrations import tasks
from integrations.models import IntegrationStatus, SyncRun, SyncStatus, SyncTrigger
from integrations.sandbox.registry import seed

pytestmark = pytest.mark.django_db(transaction=True)


def test_scheduled_sync_runs_a_sync(make_integration, sandbox_url):
    Subscriber.objects.create(email="a@example.com")
    integration = make_integration("customerio", base_url=f"{sandbox_url}/customerio")
    assert tasks.scheduled_sync(integration.pk).endswith("succeeded")
    run = SyncRun.objects.get(integration=integration)
    assert (run.trigger, run.created) == (SyncTrigger.SCHEDULE, 1)


def test_scheduled_sync_skips_paused_integrations_and_active_runs(make_integration):
    integration = make_integration("customerio", status=IntegrationStatus.NEEDS_ATTENTION)
    assert tasks.scheduled_sync(integration.pk) == "skipped: integration is needs attention"
    integration.status = IntegrationStatus.CONNECTED
    integration.save()
    active = SyncRun.objects.create(integration=integration, trigger=SyncTrigger.MANUAL)
    assert tasks.scheduled_sync(integration.pk) == f"skipped: run {active.pk} is queued"
    assert tasks.scheduled_sync(999999) == "skipped: integration gone or disabled"


def test_stale_runs_are_marked_interrupted(make_integration):
    integration = make_integration("customerio")
    run = SyncRun.objects.create(
        integration=integration,
        trigger=SyncTrigger.MANUAL,
        status=SyncStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(hours=2),
    )
    assert tasks.mark_stale_runs() == 1
    run.refresh_from_db()
    assert run.status == SyncStatus.INTERRUPTED and "resumes" in run.error


def test_segment_counts_over_the_rate_limit_are_left_to_a_one_off_schedule(
    make_integration, sandbox_url, settings, monkeypatch
):
    seed("iterable")
    integration = make_integration("iterable", base_url=f"{sandbox_url}/iterable")
    from integrations.services import segments

    monkeypatch.setattr(segments, "COUNT_BUDGET_SECONDS", 0.0)
    message = tasks.import_segments(integration.pk)
    assert message.startswith("3 segments")
    follow_up = Schedule.objects.get(name=f"segment counts {integration.pk}")
    assert follow_up.func == "integrations.tasks.refresh_segment_counts"
    assert follow_up.schedule_type == Schedule.ONCE
    assert follow_up.next_run > timezone.now()


def test_a_long_member_refresh_continues_in_a_follow_up_task(
    make_integration, sandbox_url, monkeypatch
):
    from integrations.models import Segment, SegmentMember
    from integrations.platforms.customerio import members
    from integrations.services import membership, segments

    monkeypatch.setattr(members, "MEMBERS_PER_PAGE", 2)
    monkeypatch.setattr(membership, "PAGES_PER_TASK", 2)
    seed("customerio")
    integration = make_integration("customerio", base_url=f"{sandbox_url}/customerio")
    for i in range(7):
        Subscriber.objects.create(email=f"m{i}@example.com")
    tasks.run_sync(tasks.sync.start_sync(integration, SyncTrigger.COMMAND)[0].pk)
    segments.import_segments(integration)
    everyone = Segment.objects.get(integration=integration, name="All readers")
    queued = []  # whatever the broker (the ORM here, Redis under CI's second run)
    monkeypatch.setattr(tasks.queue, "async_task", lambda *args, **kwargs: queued.append(args))
    assert tasks.refresh_segment_members(everyone.pk).endswith("continuing")
    # the follow-up, from the stored cursor
    assert queued == [("integrations.tasks.refresh_segment_members", everyone.pk)]
    assert tasks.refresh_segment_members(everyone.pk).endswith("left the segment")
    assert SegmentMember.objects.filter(segment=everyone).count() == 7
    assert tasks.refresh_segment_members(999999) == "skipped: segment gone"


def test_segments_not_read_for_a_day_are_queued_by_the_housekeeping(make_integration, monkeypatch):
    from integrations.models import Segment

    queued = []
    monkeypatch.setattr(tasks.queue, "async_task", lambda *args, **kwargs: queued.append(args))
    now = timezone.now()
    cio = make_integration("customerio", name="cio")
    braze = make_integration("braze", name="braze")  # lists no members: never queued
    fresh = Segment.objects.create(integration=cio, remote_id="1", name="fresh", imported_at=now,
                                   members_refreshed_at=now)  # fmt: skip
    Segment.objects.create(integration=cio, remote_id="2", name="old", imported_at=now,
                           members_refreshed_at=now - timedelta(days=2))  # fmt: skip
    Segment.objects.create(integration=cio, remote_id="3", name="never", imported_at=now)
    Segment.objects.create(integration=braze, remote_id="4", name="braze", imported_at=now)
    assert tasks.refresh_stale_members() == "2 segments queued"
    assert sorted(pk for _, pk in queued) == sorted(
        Segment.objects.filter(name__in=["old", "never"]).values_list("pk", flat=True)
    )
    assert fresh.pk not in {s.pk for s in tasks.membership.stale_segments()}


def test_run_sync_runs_a_queued_segment_push(make_integration, sandbox_url, fake_clock):
    from audience.models import AudienceSegment
    from integrations.services import segment_push

    Subscriber.objects.create(email="a@example.com", attributes={"vip": True})
    segment = AudienceSegment.objects.create(
        name="VIPs", slug="vips", rules={"field": "attributes.vip", "op": "eq", "value": True}
    )
    integration = make_integration("iterable", base_url=f"{sandbox_url}/iterable")
    run, _ = segment_push.start_push(segment, integration, "manual")
    assert tasks.run_sync(run.pk) == f"segment push run {run.pk}: succeeded (+1 -0)"
    assert tasks.run_sync(run.pk).endswith("succeeded (+1 -0)")  # not run twice
    run.refresh_from_db()
    assert run.api_calls == 2  # the list's creation and the add, once
