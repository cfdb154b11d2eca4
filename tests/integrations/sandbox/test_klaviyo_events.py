"""The Klaviyo emulator's bulk event jobs: the real shape taken (202), a malformed or too large
one refused, each event recorded once per profile, metric and unique_id."""

from __future__ import annotations

import orjson
import pytest

from integrations.sandbox.models import SandboxEvent
from tests.integrations.sandbox.test_klaviyo import BASE, HEADERS, MEDIA, READ_ONLY

pytestmark = pytest.mark.django_db


def entry(email, unique_id="u1", name="sharpsend_assignment_approved"):
    event = {
        "type": "event",
        "attributes": {
            "properties": {"subject": "Markets"},
            "metric": {"data": {"type": "metric", "attributes": {"name": name}}},
            "unique_id": unique_id,
        },
    }
    return {
        "type": "event-bulk-create",
        "attributes": {
            "profile": {"data": {"type": "profile", "attributes": {"email": email}}},
            "events": {"data": [event]},
        },
    }


def submit(client, entries, headers=HEADERS):
    body = {
        "data": {
            "type": "event-bulk-create-job",
            "attributes": {"events-bulk-create": {"data": entries}},
        }
    }
    return client.post(
        f"{BASE}/api/event-bulk-create-jobs",
        data=orjson.dumps(body),
        content_type=MEDIA,
        headers=headers,
    )


def test_each_event_is_recorded_once_by_its_unique_id(client):
    answer = submit(client, [entry("A@example.com", "u1"), entry("b@example.com", "u2")])
    assert (answer.status_code, answer.content) == (202, b"")
    assert submit(client, [entry("a@example.com", "u1")]).status_code == 202  # sent again
    events = SandboxEvent.objects.order_by("identifier")
    assert [(e.identifier, e.duplicates) for e in events] == [
        ("a@example.com", 1),
        ("b@example.com", 0),
    ]
    assert events[0].data == {"subject": "Markets"}


def test_malformed_too_many_and_read_only_are_refused(client):
    assert submit(client, [{"type": "event-bulk-create", "attributes": {}}]).status_code == 400
    many = [entry(f"r{i}@example.com", f"u{i}") for i in range(1001)]
    assert submit(client, many).status_code == 400
    assert submit(client, [entry("a@example.com")], headers=READ_ONLY).status_code == 403
    assert not SandboxEvent.objects.exists()
