"""Customer.io journey events against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/customerio.md §5): v2 batch event entries with a ULID id each."""

from __future__ import annotations

import json
import re

import pytest

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.journeys import JOURNEY_EVENT, event_id
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import ContactRecord, Outcome, Written
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_customerio import TRACK_US, US_CREDS

pytestmark = pytest.mark.usefixtures("steady_retries")

SPEC = SendSpec(
    "ss-7-3-abc", "journey_event", "Issue 42", subject="Markets", html="<p>Hi</p>",
    segment_id="7", data={"sharpsend_assignment": 7},
)  # fmt: skip
READERS = [
    ContactRecord(11, "email", "a@example.com", {}),
    ContactRecord(12, "email", "b@x.io", {}),
]


@pytest.fixture
def client(make_integration):
    return CustomerIoClient(make_integration("customerio", region="us", credentials=dict(US_CREDS)))


def test_event_ids_are_ulid_shaped_and_the_same_for_the_same_send_and_reader():
    first = event_id("ss-7-3-abc", 11)
    assert re.fullmatch(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", first)
    assert first == event_id("ss-7-3-abc", 11)
    assert len({first, event_id("ss-7-3-abc", 12), event_id("ss-7-4-abc", 11)}) == 3


def test_one_event_entry_per_reader_with_the_assignment_as_event_data(client):
    with strict() as rsps:
        call = rsps.post(f"{TRACK_US}/api/v2/batch", status=200)
        results = client.trigger_journey(SPEC, READERS)
    body = json.loads(call.calls[0].request.body)
    data = {
        "sharpsend_send": "ss-7-3-abc", "title": "Issue 42", "subject": "Markets",
        "preview_text": "", "from_name": "", "reply_to": "", "sharpsend_assignment": 7,
        "html": "<p>Hi</p>", "plain_text": "",
    }  # fmt: skip
    assert body == {
        "batch": [
            {"type": "person", "identifiers": {"email": r.identifier}, "action": "event",
             "name": JOURNEY_EVENT, "id": event_id("ss-7-3-abc", r.key), "attributes": data}
            for r in READERS
        ]
    }  # fmt: skip
    assert call.calls[0].request.headers["Authorization"].startswith("Basic ")
    assert [(r.key, r.outcome) for r in results] == [(11, Written.WRITTEN), (12, Written.WRITTEN)]


def test_a_refused_entry_is_that_reader_s_outcome(client):
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=207,
            json={"errors": [{"batch_index": 1, "reason": "suppressed", "field": "identifiers",
                              "message": "person is suppressed"}]},
        )  # fmt: skip
        results = client.trigger_journey(SPEC, READERS)
    assert [(r.key, r.outcome) for r in results] == [
        (11, Written.WRITTEN),
        (12, Outcome.REJECTED_COMPLIANCE),
    ]


def test_content_too_large_for_an_event_is_a_preflight_problem(client):
    from dataclasses import replace

    huge = replace(SPEC, html="x" * 40_000)
    problems = client.journey_problems(huge)
    assert len(problems) == 1 and problems[0].startswith("The journey event cannot carry")
    assert client.journey_problems(SPEC) == []
