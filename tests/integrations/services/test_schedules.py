"""Each integration's django-q2 schedule follows its sync frequency."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.models import Schedule

from integrations.models import SyncFrequency
from integrations.services.schedules import HOUSEKEEPING, schedule_name

pytestmark = pytest.mark.django_db


def test_schedule_is_created_changed_and_removed_with_the_integration(make_integration):
    integration = make_integration("iterable", sync_frequency=SyncFrequency.HOURLY)
    schedule = Schedule.objects.get(name=schedule_name(integration.pk))
    assert (schedule.func, schedule.minutes, schedule.repeats) == (
        "integrations.tasks.scheduled_sync",
        60,
        -1,
    )
    assert schedule.args == repr(integration.pk)

    integration.sync_frequency = SyncFrequency.EVERY_15_MIN
    integration.save()
    assert Schedule.objects.get(name=schedule_name(integration.pk)).minutes == 15

    integration.sync_frequency = SyncFrequency.MANUAL
    integration.save()
    assert not Schedule.objects.filter(name=schedule_name(integration.pk)).exists()

    integration.sync_frequency = SyncFrequency.DAILY
    integration.save()
    assert Schedule.objects.get(name=schedule_name(integration.pk)).minutes == 1440
    integration.enabled = False
    integration.save()
    assert not Schedule.objects.filter(name=schedule_name(integration.pk)).exists()


def test_deleting_an_integration_removes_its_schedule(make_integration):
    integration = make_integration("customerio", sync_frequency=SyncFrequency.EVERY_30_MIN)
    pk = integration.pk
    integration.delete()
    assert not Schedule.objects.filter(name=schedule_name(pk)).exists()


def test_housekeeping_schedules_exist_after_migrate():
    names = set(Schedule.objects.values_list("name", flat=True))
    assert {name for name, _, _ in HOUSEKEEPING} <= names


def test_the_first_scheduled_run_is_one_interval_away_not_at_once(make_integration):
    before = timezone.now()
    integration = make_integration("iterable", sync_frequency=SyncFrequency.HOURLY)
    after = timezone.now()
    schedule = Schedule.objects.get(name=schedule_name(integration.pk))
    assert before + timedelta(minutes=60) <= schedule.next_run <= after + timedelta(minutes=60)

    # Saving with the same settings (a sync ending, a rename) keeps the next run where it is.
    integration.name = "Renamed"
    integration.save()
    assert Schedule.objects.get(name=schedule_name(integration.pk)).next_run == schedule.next_run

    # A new interval counts from now.
    before = timezone.now()
    integration.sync_frequency = SyncFrequency.EVERY_15_MIN
    integration.save()
    next_run = Schedule.objects.get(name=schedule_name(integration.pk)).next_run
    assert before + timedelta(minutes=15) <= next_run <= timezone.now() + timedelta(minutes=15)
