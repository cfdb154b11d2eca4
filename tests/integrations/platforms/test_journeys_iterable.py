"""Iterable journeys triggered by event against strict `responses` mocks and the Swagger spec
(tests/specs/iterable/api-docs.json `trackBulk`; ../shared/platforms/iterable.md §5): one event
per reader with an id made from the send and the reader, and what the answer says of each."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.iterable import IterableClient
from integrations.platforms.journeys import JOURNEY_EVENT, event_id
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import Outcome, Written
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_iterable import AUTH, KEY, SPEC, US, _closed, _resolve, rec

pytestmark = pytest.mark.usefixtures("steady_retries")

TRACK = f"{US}/api/events/trackBulk"
SEND = SendSpec(
    "ss-7-3-abc", "journey_event", "Issue 42", subject="Markets", html="<p>Hi</p>",
    segment_id="12", data={"sharpsend_assignment": 7},
)  # fmt: skip
READERS = [rec(11, "a@example.com"), rec(12, "b@x.io")]
OK = {"successCount": 2, "failCount": 0, "disallowedEventNames": [], "failedUpdates": {}}


@pytest.fixture
def client(make_integration):
    return IterableClient(make_integration("iterable", region="us", credentials={"api_key": KEY}))


@pytest.fixture(scope="module")
def track_bulk_schema():
    spec = json.loads(SPEC.read_text())
    (body,) = spec["paths"]["/api/events/trackBulk"]["post"]["parameters"]
    return _closed(_resolve(body["schema"], spec["definitions"]))


def test_the_method_is_declared_per_reader_without_figures():
    method = IterableClient.send_method("journey_event")
    assert method.per_reader and not method.can_schedule and not method.reports_metrics
    assert IterableClient.journey_batch_max == 1000


def test_one_event_per_reader_shaped_as_the_spec_says(client, track_bulk_schema):
    with strict() as rsps:
        call = rsps.post(TRACK, match=[AUTH], json=OK)
        results = client.trigger_journey(SEND, READERS)
    body = json.loads(call.calls[0].request.body)
    jsonschema.Draft4Validator(track_bulk_schema).validate(body)
    data = {
        "sharpsend_send": "ss-7-3-abc", "title": "Issue 42", "subject": "Markets",
        "preview_text": "", "from_name": "", "sharpsend_assignment": 7,
        "html": "<p>Hi</p>", "plain_text": "",
    }  # fmt: skip
    assert body == {
        "events": [
            {"email": r.identifier, "eventName": JOURNEY_EVENT,
             "id": event_id("ss-7-3-abc", r.key), "dataFields": data}
            for r in READERS
        ]
    }  # fmt: skip
    assert [(r.key, r.outcome) for r in results] == [(11, Written.WRITTEN), (12, Written.WRITTEN)]


def test_the_readers_iterable_refuses_are_told_apart(client):
    answer = {
        "successCount": 1,
        "failCount": 1,
        "failedUpdates": {"forgottenEmails": ["B@x.io"]},
    }
    with strict() as rsps:
        rsps.post(TRACK, json=answer)
        results = client.trigger_journey(SEND, READERS)
    assert [(r.key, r.outcome, r.code) for r in results] == [
        (11, Written.WRITTEN, ""),
        (12, Outcome.REJECTED_COMPLIANCE, "Forgotten"),
    ]


def test_a_disallowed_event_name_refuses_the_whole_batch(client):
    answer = {"successCount": 0, "failCount": 2, "disallowedEventNames": [JOURNEY_EVENT]}
    with strict() as rsps:
        rsps.post(TRACK, match=[matchers.header_matcher({"Api-Key": KEY})], json=answer)
        results = client.trigger_journey(SEND, READERS)
    assert {r.code for r in results} == {"DisallowedEventName"}
    assert all(r.outcome == Outcome.REJECTED_DATA for r in results)


def test_a_5xx_leaves_the_batch_for_the_next_run(client):
    with strict() as rsps:
        rsps.post(TRACK, status=503, json={"msg": "down"})
        results = client.trigger_journey(SEND, READERS[:1])
    assert [r.outcome for r in results] == [Outcome.UNKNOWN]
