"""Klaviyo flows triggered by event against strict `responses` mocks and the OpenAPI spec
(tests/specs/klaviyo/stable.json `bulk_create_events`; ../shared/platforms/klaviyo.md §5): one
event-bulk-create entry per reader, its event's unique_id made from the send and the reader."""

from __future__ import annotations

import json

import jsonschema
import pytest

from integrations.platforms.journeys import JOURNEY_EVENT, event_id
from integrations.platforms.klaviyo import KlaviyoClient
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import Outcome, Written
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import (
    BASE,
    HEADERS,
    JSON_API_BODY,
    KEY,
    body_schema,
    rec,
    spec,  # noqa: F401 (a fixture)
)

pytestmark = pytest.mark.usefixtures("steady_retries")

EVENTS = f"{BASE}/api/event-bulk-create-jobs"
SEND = SendSpec(
    "ss-7-3-abc", "journey_event", "Issue 42", subject="Markets", html="<p>Hi</p>",
    segment_id="list:Xy12", data={"sharpsend_assignment": 7},
)  # fmt: skip
READERS = [rec(11, "a@example.com"), rec(12, "b@x.io")]


@pytest.fixture
def client(make_integration):
    return KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KEY}))


def test_the_method_is_declared_per_reader_without_figures():
    method = KlaviyoClient.send_method("journey_event")
    assert method.per_reader and not method.can_schedule and not method.reports_metrics
    assert KlaviyoClient.journey_batch_max == 1000


def test_one_entry_per_reader_shaped_as_the_spec_says(client, spec):  # noqa: F811
    with strict() as rsps:
        call = rsps.post(EVENTS, match=[HEADERS, JSON_API_BODY], status=202, body="")
        results = client.trigger_journey(SEND, READERS)
    body = json.loads(call.calls[0].request.body)
    jsonschema.Draft4Validator(body_schema(spec, "/api/event-bulk-create-jobs")).validate(body)
    entries = body["data"]["attributes"]["events-bulk-create"]["data"]
    assert body["data"]["type"] == "event-bulk-create-job"
    assert [e["attributes"]["profile"]["data"]["attributes"] for e in entries] == [
        {"email": "a@example.com"},
        {"email": "b@x.io"},
    ]
    events = [e["attributes"]["events"]["data"] for e in entries]
    assert all(len(one) == 1 for one in events)
    first = events[0][0]["attributes"]
    assert first["metric"]["data"]["attributes"]["name"] == JOURNEY_EVENT
    assert first["unique_id"] == event_id("ss-7-3-abc", 11)
    assert first["properties"]["subject"] == "Markets"
    assert first["properties"]["sharpsend_send"] == "ss-7-3-abc"
    assert [(r.key, r.outcome) for r in results] == [(11, Written.WRITTEN), (12, Written.WRITTEN)]


def test_a_429_leaves_the_batch_for_the_next_run(client):
    with strict() as rsps:
        rsps.post(
            EVENTS,
            status=429,
            headers={"Retry-After": "0"},
            json={"errors": [{"status": 429, "code": "throttled", "detail": "Slow down"}]},
        )
        results = client.trigger_journey(SEND, READERS[:1])
    assert [r.outcome for r in results] == [Outcome.THROTTLED]


def test_content_too_large_for_an_event_is_refused_before_approval(client):
    big = SendSpec("k", "journey_event", "x", subject="s", html="x" * 120_000, segment_id="list:1")
    with strict():
        problems = client.journey_problems(big)
    assert problems and "cannot carry this assignment" in problems[0]
