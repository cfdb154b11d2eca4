"""django-q2 schedules kept in step with each integration's sync frequency.

Nothing follows an integration's saves: `sync_schedule` is called where the frequency or the
enabled flag is set (the setup service, the admin's save, demo seeding), so a sync's own saves
never touch the schedule table. The status does not enter the schedule: a paused integration
(needs attention, disabled) keeps its schedule and `tasks.scheduled_sync` skips it, so a
status change needs no schedule update.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
from django_q.models import Schedule

from integrations.models import Integration, SyncFrequency

HOUSEKEEPING = (
    # (name, function, minutes)
    ("integrations: look after sync runs", "integrations.tasks.look_after_sync_runs", 1),
    ("integrations: prune API call records", "integrations.tasks.prune_api_calls", 1440),
    (
        "integrations: look after privacy requests",
        "integrations.tasks.look_after_privacy_requests",
        5,
    ),
    ("integrations: refresh OAuth tokens", "integrations.tasks.refresh_oauth_tokens", 15),
    ("integrations: look after webhooks", "integrations.tasks.look_after_webhooks", 1),
    ("integrations: refresh segment members", "integrations.tasks.refresh_stale_members", 60),
    ("campaigns: refresh send metrics", "campaigns.tasks.refresh_metrics", 15),
    ("campaigns: look after sends", "campaigns.tasks.look_after_sends", 1),
    ("campaigns: select A/B winners", "campaigns.tasks.select_ab_winners", 15),
)


def schedule_name(integration_id: int) -> str:
    return f"sync integration {integration_id}"


def sync_schedule(integration: Integration) -> Schedule | None:
    """Create, change or remove the integration's sync schedule to match its settings.

    The first scheduled run is one interval from now (django-q2 would otherwise run a new
    schedule at once, seconds after the first sync the user asked for); a changed interval
    starts counting again from now. Saving the integration with the same settings leaves the
    next run where it is.
    """
    name = schedule_name(integration.pk)
    minutes = SyncFrequency(integration.sync_frequency).minutes
    if not minutes or not integration.enabled:
        Schedule.objects.filter(name=name).delete()
        return None
    wanted = {
        "func": "integrations.tasks.scheduled_sync",
        "args": repr(integration.pk),
        "schedule_type": Schedule.MINUTES,
        "minutes": minutes,
        "repeats": -1,
    }
    schedule = Schedule.objects.filter(name=name).first()
    if schedule is not None and all(getattr(schedule, k) == v for k, v in wanted.items()):
        return schedule
    if schedule is None:
        schedule = Schedule(name=name)
    for key, value in wanted.items():
        setattr(schedule, key, value)
    schedule.next_run = timezone.now() + timedelta(minutes=minutes)
    schedule.save()
    return schedule


def remove_schedule(integration_id: int) -> None:
    Schedule.objects.filter(name=schedule_name(integration_id)).delete()


# Housekeeping schedules of earlier versions, removed when the new ones are made.
RETIRED = ("integrations: mark stale sync runs",)
# While the sandbox is on, its emulators post their pending webhooks (never in production).
SANDBOX = (("sandbox: post webhooks", "integrations.sandbox.tasks.post_webhooks", 1),)


def ensure_housekeeping() -> None:
    Schedule.objects.filter(name__in=RETIRED).delete()
    sandbox = SANDBOX if settings.SANDBOX_ENABLED else ()
    Schedule.objects.filter(name__in=[name for name, _, _ in SANDBOX]).exclude(
        name__in=[name for name, _, _ in sandbox]
    ).delete()
    for name, func, minutes in (*HOUSEKEEPING, *sandbox):
        Schedule.objects.update_or_create(
            name=name,
            defaults={
                "func": func,
                "schedule_type": Schedule.MINUTES,
                "minutes": minutes,
                "repeats": -1,
            },
        )
