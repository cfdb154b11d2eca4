"""The Braze emulator's scheduled triggers: created with the real shape, refused when the time
is not one it can hold, deleted, and delivered once at their time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from integrations.sandbox import scheduled
from integrations.sandbox.models import SandboxSend
from tests.integrations.sandbox.test_braze import post
from tests.integrations.sandbox.test_braze_campaigns import DAILY, GROWTH, WELCOME, WINBACK
from tests.integrations.sandbox.test_braze_campaigns import readers as readers  # a fixture

pytestmark = pytest.mark.django_db


def later(hours=2) -> str:
    at = timezone.now().astimezone(UTC) + timedelta(hours=hours)
    return at.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def schedule(client, campaign=GROWTH, time=None, **extra):
    body = {"campaign_id": campaign, "broadcast": True, "trigger_properties": {"subject": "Hi"}}
    return post(
        client,
        "/campaigns/trigger/schedule/create",
        {**body, "schedule": {"time": time or later(), **extra}},
    )


def test_a_schedule_is_held_with_its_time_and_delivered_once(client, readers):
    answer = schedule(client, time=later(2))
    assert answer.status_code == 201
    data = answer.json()
    assert set(data) == {"dispatch_id", "schedule_id", "message"}
    (held,) = SandboxSend.objects.filter(kind="campaign_trigger")
    due = scheduled.due_at(held)
    assert (held.status, held.sends, held.remote_id) == ("scheduled", 0, data["dispatch_id"])
    assert scheduled.deliver_due(due - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(due) == 1 and scheduled.deliver_due(due) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.recipients, held.sent_at) == ("sent", 1, 1, due)


def test_times_it_cannot_hold_are_refused(client, readers):
    past = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert schedule(client, time=past).json() == {"message": "schedule.time must be in the future"}
    assert schedule(client, time="soon").status_code == 400
    assert schedule(client, in_local_time=True).status_code == 400
    refused = post(client, "/campaigns/trigger/schedule/create", {"campaign_id": GROWTH})
    assert refused.json() == {"message": "schedule.time is required (ISO 8601)"}
    assert schedule(client, campaign="nope").json() == {"message": "Invalid Campaign ID"}
    assert not SandboxSend.objects.filter(kind="campaign_trigger").exists()


def test_a_deleted_schedule_is_never_delivered(client, readers):
    schedule_id = schedule(client).json()["schedule_id"]
    wrong = post(
        client,
        "/campaigns/trigger/schedule/delete",
        {"campaign_id": DAILY, "schedule_id": schedule_id},
    )
    assert wrong.json() == {"message": "Invalid schedule_id"}  # another campaign's
    body = {"campaign_id": GROWTH, "schedule_id": schedule_id}
    assert post(client, "/campaigns/trigger/schedule/delete", body).json() == {"message": "success"}
    assert post(client, "/campaigns/trigger/schedule/delete", body).status_code == 400
    assert scheduled.deliver_due(timezone.now() + timedelta(days=1)) == 0
    assert SandboxSend.objects.get(kind="campaign_trigger").sends == 0


def test_a_canvas_schedule_and_a_stopped_canvas(client, readers):
    body = {"canvas_id": WELCOME, "broadcast": True, "context": {}, "schedule": {"time": later()}}
    schedule_id = post(client, "/canvas/trigger/schedule/create", body).json()["schedule_id"]
    assert SandboxSend.objects.get(kind="canvas_trigger").status == "scheduled"
    stopped = post(client, "/canvas/trigger/schedule/create", {**body, "canvas_id": WINBACK})
    assert "notice" in stopped.json()
    assert SandboxSend.objects.filter(kind="canvas_trigger").count() == 1
    gone = post(
        client,
        "/canvas/trigger/schedule/delete",
        {"canvas_id": WELCOME, "schedule_id": schedule_id},
    )
    assert gone.json() == {"message": "success"}
