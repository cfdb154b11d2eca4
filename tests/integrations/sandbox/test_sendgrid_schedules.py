"""The SendGrid emulator's scheduled Single Sends: held until their time, then delivered once
to their lists as they are then ("triggered"); one taken back (DELETE …/schedule) never goes."""

from __future__ import annotations

from datetime import UTC, timedelta

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import outbound, registry, scheduled
from integrations.sandbox.models import SandboxContact, SandboxSend
from integrations.sandbox.sendgrid import ALL_READERS
from tests.integrations.sandbox.test_sendgrid import ACCOUNT, FULL, G

pytestmark = pytest.mark.django_db
PATH = f"{G}/v3/marketing/singlesends"


def reader(email: str) -> None:
    SandboxContact.objects.create(platform="sendgrid", account=ACCOUNT, identifier=email,
                                  attributes={"email": email, "list_ids": [ALL_READERS]})  # fmt: skip


@pytest.fixture
def single_send(client):
    registry.seed("sendgrid")
    reader("a@example.com")
    body = {"name": "Issue", "send_to": {"list_ids": [ALL_READERS]},
            "email_config": {"sender_id": 1, "suppression_group_id": 5}}  # fmt: skip
    answer = client.post(PATH, data=orjson.dumps(body), content_type="application/json",
                         headers=FULL)  # fmt: skip
    return answer.json()["id"]


def put_schedule(client, send_id, send_at):
    return client.put(f"{PATH}/{send_id}/schedule", data=orjson.dumps({"send_at": send_at}),
                      content_type="application/json", headers=FULL)  # fmt: skip


def later(hours: int = 2):
    return (timezone.now().astimezone(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def stamp(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_scheduled_single_send_is_delivered_once_at_its_time(client, single_send):
    at = later()
    answer = put_schedule(client, single_send, stamp(at))
    assert answer.status_code == 201 and answer.json()["status"] == "scheduled"
    held = SandboxSend.objects.get(kind="single_send")
    assert (held.status, held.sends, held.sent_at, scheduled.due_at(held)) == (
        "scheduled", 0, None, at
    )  # fmt: skip
    assert client.get(f"{PATH}/{single_send}", headers=FULL).json()["send_at"] == stamp(at)
    reader("late@example.com")  # on the list by the time it goes
    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.recipients, held.sent_at) == ("triggered", 1, 2, at)


def test_a_single_send_taken_back_is_never_delivered(client, single_send):
    at = later()
    put_schedule(client, single_send, stamp(at))
    gone = client.delete(f"{PATH}/{single_send}/schedule", headers=FULL)
    assert gone.json() == {"send_at": None, "status": "draft"}
    assert client.delete(f"{PATH}/{single_send}/schedule", headers=FULL).status_code == 404
    assert scheduled.deliver_due(at + timedelta(days=1)) == 0
    held = SandboxSend.objects.get(kind="single_send")
    assert (held.status, held.sends, held.sent_at) == ("draft", 0, None)


def test_now_sends_at_once_and_a_past_or_bad_time_is_refused(client, single_send):
    assert put_schedule(client, single_send, stamp(later(-1))).status_code == 400
    assert put_schedule(client, single_send, "soon").status_code == 400
    assert put_schedule(client, single_send, "now").json()["status"] == "triggered"
    sent = SandboxSend.objects.get(kind="single_send")
    assert (sent.sends, sent.recipients) == (1, 1) and sent.sent_at is not None
    assert scheduled.deliver_due(later(1)) == 0


def test_its_webhook_events_are_there_only_once_it_is_delivered(client, single_send):
    at = later()
    put_schedule(client, single_send, stamp(at))
    assert outbound.harvest("sendgrid", ACCOUNT, at + timedelta(days=1)) == 0  # held: nothing
    scheduled.deliver_due(at)
    assert outbound.harvest("sendgrid", ACCOUNT, at + timedelta(days=1)) > 0
