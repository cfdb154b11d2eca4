"""The Kit emulator's broadcasts: one with a send_at to come is held ("scheduled", not yet
sent) and delivered once at that time to the active subscribers then; a draft never goes."""

from __future__ import annotations

from datetime import UTC, timedelta

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import registry, scheduled
from integrations.sandbox.models import SandboxContact, SandboxSend
from tests.integrations.sandbox.test_kit import ACCOUNT, BASE, KEY

pytestmark = pytest.mark.django_db


def subscriber(email: str, state: str = "active") -> None:
    SandboxContact.objects.create(platform="kit", account=ACCOUNT, identifier=email,
                                  attributes={"email_address": email, "state": state})  # fmt: skip


@pytest.fixture(autouse=True)
def readers():
    registry.seed("kit")
    SandboxContact.objects.filter(platform="kit", account=ACCOUNT).delete()
    subscriber("a@example.com")
    subscriber("gone@example.com", "cancelled")


def create(client, send_at):
    body = {"subject": "Hi", "content": "<p>1</p>", "description": "Issue", "send_at": send_at}
    return client.post(f"{BASE}/broadcasts", data=orjson.dumps(body),
                       content_type="application/json", headers=KEY)  # fmt: skip


def later(minutes: int = 120):
    return (timezone.now().astimezone(UTC) + timedelta(minutes=minutes)).replace(microsecond=0)


def stamp(at) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_a_broadcast_to_come_is_held_and_delivered_once_at_its_time(client):
    at = later()
    answer = create(client, stamp(at))
    assert answer.status_code == 201 and answer.json()["broadcast"]["send_at"] == stamp(at)
    held = SandboxSend.objects.get(kind="broadcast")
    assert (held.status, held.sends, held.sent_at, scheduled.due_at(held)) == (
        "scheduled", 0, None, at
    )  # fmt: skip
    stats = client.get(f"{BASE}/broadcasts/{held.remote_id}/stats", headers=KEY).json()
    assert stats["broadcast"]["stats"]["recipients"] == 0  # nothing went out yet
    subscriber("late@example.com")  # subscribes before the time: gets it
    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.recipients, held.sent_at) == ("completed", 1, 2, at)


def test_a_draft_is_never_delivered_and_a_past_time_sends_at_once(client):
    create(client, None)
    assert scheduled.deliver_due(later(60 * 24)) == 0
    draft = SandboxSend.objects.get(kind="broadcast")
    assert (draft.status, draft.sends) == ("draft", 0)
    create(client, stamp(later(-5)))
    now = SandboxSend.objects.get(kind="broadcast", remote_id="1002")
    assert (now.status, now.sends, now.recipients) == ("completed", 1, 1)
    assert create(client, "tomorrow").status_code == 422
