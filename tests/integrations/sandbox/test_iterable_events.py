"""The Iterable emulator's bulk event tracking: events recorded for known users, one per id (a
repeated id updates it), the users it cannot take listed as Iterable lists them."""

from __future__ import annotations

import pytest

from integrations.sandbox.models import SandboxContact, SandboxEvent
from tests.integrations.sandbox.test_iterable import ACCOUNT, READ_ONLY_KEY
from tests.integrations.sandbox.test_iterable_campaigns import post

pytestmark = pytest.mark.django_db


@pytest.fixture
def users(db):
    for email, suppressed in (("a@example.com", False), ("gone@example.com", True)):
        SandboxContact.objects.create(
            platform="iterable", account=ACCOUNT, identifier=email, suppressed=suppressed
        )


def event(email, event_id="e1", **data):
    return {"email": email, "eventName": "sharpsend_assignment_approved", "id": event_id,
            "dataFields": data}  # fmt: skip


def test_known_users_get_their_event_once_per_id(client, users):
    answer = post(client, "/api/events/trackBulk", {"events": [event("A@example.com", n=1)]})
    assert answer.json()["successCount"] == 1 and answer.json()["failCount"] == 0
    again = post(client, "/api/events/trackBulk", {"events": [event("a@example.com", n=2)]})
    assert again.json()["successCount"] == 1
    (recorded,) = SandboxEvent.objects.all()
    assert (recorded.identifier, recorded.duplicates, recorded.data) == (
        "a@example.com",
        1,
        {"n": 2},
    )


def test_the_users_it_cannot_take_are_listed(client, users):
    events = [event("nobody@example.com", "e2"), event("gone@example.com", "e3"),
              event("not-an-email", "e4"), {"eventName": "x"}]  # fmt: skip
    answer = post(client, "/api/events/trackBulk", {"events": events}).json()
    failed = answer["failedUpdates"]
    assert failed["notFoundEmails"] == ["nobody@example.com"]
    assert failed["forgottenEmails"] == ["gone@example.com"]
    assert failed["invalidEmails"] == ["not-an-email", ""]
    assert (answer["successCount"], answer["failCount"]) == (0, 4)
    assert not SandboxEvent.objects.exists()
    assert post(client, "/api/events/trackBulk", {"users": []}).status_code == 400
    refused = post(client, "/api/events/trackBulk", {"events": []}, headers=READ_ONLY_KEY)
    assert refused.status_code == 401
