"""Each integration's django-q2 schedule follows its sync frequency, set where it changes."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_q.models import Schedule

from audience.models import Subscriber
from integrations.models import IntegrationStatus, SyncFrequency, SyncStatus, SyncTrigger
from integrations.services import schedules, sync
from integrations.services.schedules import HOUSEKEEPING, schedule_name

pytestmark = pytest.mark.django_db


def schedule_of(integration) -> Schedule | None:
    return Schedule.objects.filter(name=schedule_name(integration.pk)).first()


def test_schedule_is_created_changed_and_removed_to_match_the_settings(make_integration):
    integration = make_integration("iterable", sync_frequency=SyncFrequency.HOURLY)
    schedules.sync_schedule(integration)
    schedule = schedule_of(integration)
    assert (schedule.func, schedule.minutes, schedule.repeats) == (
        "integrations.tasks.scheduled_sync",
        60,
        -1,
    )
    assert schedule.args == repr(integration.pk)

    integration.sync_frequency = SyncFrequency.EVERY_15_MIN
    schedules.sync_schedule(integration)
    assert schedule_of(integration).minutes == 15

    integration.sync_frequency = SyncFrequency.MANUAL
    schedules.sync_schedule(integration)
    assert schedule_of(integration) is None

    integration.sync_frequency = SyncFrequency.DAILY
    schedules.sync_schedule(integration)
    assert schedule_of(integration).minutes == 1440
    integration.enabled = False
    schedules.sync_schedule(integration)
    assert schedule_of(integration) is None


def test_saving_an_integration_leaves_its_schedule_alone(make_integration):
    integration = make_integration("iterable", sync_frequency=SyncFrequency.HOURLY)
    assert schedule_of(integration) is None  # created without a service: no schedule
    schedules.sync_schedule(integration)
    integration.sync_frequency = SyncFrequency.EVERY_15_MIN
    integration.save()
    assert schedule_of(integration).minutes == 60  # only the services set it


def test_deleting_an_integration_removes_its_schedule(make_integration):
    integration = make_integration("customerio", sync_frequency=SyncFrequency.EVERY_30_MIN)
    schedules.sync_schedule(integration)
    pk = integration.pk
    integration.delete()
    assert not Schedule.objects.filter(name=schedule_name(pk)).exists()


def test_housekeeping_schedules_exist_after_migrate():
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {name for name, _, _ in HOUSEKEEPING} <= names


def test_the_first_scheduled_run_is_one_interval_away_not_at_once(make_integration):
    integration = make_integration("iterable", sync_frequency=SyncFrequency.HOURLY)
    before = timezone.now()
    schedules.sync_schedule(integration)
    after = timezone.now()
    schedule = schedule_of(integration)
    assert before + timedelta(minutes=60) <= schedule.next_run <= after + timedelta(minutes=60)

    # The same settings again (the wizard saving a rename) keep the next run where it is.
    integration.name = "Renamed"
    integration.save()
    schedules.sync_schedule(integration)
    assert schedule_of(integration).next_run == schedule.next_run

    # A new interval counts from now.
    before = timezone.now()
    integration.sync_frequency = SyncFrequency.EVERY_15_MIN
    schedules.sync_schedule(integration)
    next_run = schedule_of(integration).next_run
    assert before + timedelta(minutes=15) <= next_run <= timezone.now() + timedelta(minutes=15)


@pytest.mark.django_db(transaction=True)
def test_a_sync_runs_own_saves_do_not_touch_the_schedule_table(make_integration, sandbox_url):
    Subscriber.objects.create(email="reader@example.com")
    integration = make_integration(
        "customerio",
        base_url=f"{sandbox_url}/customerio",
        sync_frequency=SyncFrequency.HOURLY,
        status=IntegrationStatus.ERROR,
    )
    schedules.sync_schedule(integration)
    before = Schedule.objects.filter(name=schedule_name(integration.pk)).values().get()

    run, created = sync.start_sync(integration, SyncTrigger.SCHEDULE)
    assert created
    with CaptureQueriesContext(connection) as queries:
        sync.execute_sync(run.pk)
    run.refresh_from_db()
    integration.refresh_from_db()

    assert run.status == SyncStatus.SUCCEEDED
    assert integration.status == IntegrationStatus.CONNECTED  # the run saved the integration
    touching = [q["sql"] for q in queries.captured_queries if "django_q_schedule" in q["sql"]]
    assert touching == []
    assert Schedule.objects.filter(name=schedule_name(integration.pk)).values().get() == before
