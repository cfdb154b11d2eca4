"""Iterable static lists as pushed segments: strict `responses` mocks with the fact sheet's
shapes (../shared/platforms/iterable.md §6), bodies validated against Iterable's Swagger."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.iterable import IterableClient
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_iterable import (
    AUTH,
    JSON_BODY,
    KEY,
    SPEC,
    US,
    _closed,
    _resolve,
)

pytestmark = pytest.mark.usefixtures("steady_retries")


@pytest.fixture
def client(make_integration):
    return IterableClient(make_integration("iterable", region="us", credentials={"api_key": KEY}))


def schema_of(path):
    spec = json.loads(SPEC.read_text())
    (body,) = [p for p in spec["paths"][path]["post"]["parameters"] if p["in"] == "body"]
    return _closed(_resolve(body["schema"], spec["definitions"]))


def answer(success=0, fail=0, **failed):
    return {"successCount": success, "failCount": fail, "failedUpdates": failed}


def test_create_segment_creates_a_static_list(client):
    body = {"name": "Crypto readers", "description": "From SharpSend"}
    jsonschema.Draft4Validator(schema_of("/api/lists")).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{US}/api/lists",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json={"listId": 123},
        )
        remote = client.create_segment("Crypto readers", "From SharpSend")
    assert remote == RemoteSegment("123", "Crypto readers", "Standard")


def test_subscribe_adds_members_with_per_member_failures(client):
    body = {
        "listId": 123,
        "subscribers": [{"email": "ann@example.com"}, {"email": "Gone@example.com"}],
        "updateExistingUsersOnly": False,
    }
    jsonschema.Draft4Validator(schema_of("/api/lists/subscribe")).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{US}/api/lists/subscribe",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json=answer(1, 1, forgottenEmails=["gone@example.com"]),
        )
        results = client.add_to_segment(
            "123", [SegmentMember(1, "ann@example.com"), SegmentMember(2, "Gone@example.com")]
        )
    assert [(r.key, r.outcome) for r in results] == [
        (1, Outcome.UPDATED),
        (2, Outcome.REJECTED_COMPLIANCE),
    ]
    assert results[1].code == "Forgotten"


def test_unsubscribe_removes_without_a_channel_unsubscribe(client):
    body = {
        "listId": 123,
        "subscribers": [{"email": "ann@example.com"}],
        "channelUnsubscribe": False,
    }
    jsonschema.Draft4Validator(schema_of("/api/lists/unsubscribe")).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{US}/api/lists/unsubscribe",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json=answer(1),
        )
        (result,) = client.remove_from_segment("123", [SegmentMember(1, "ann@example.com")])
    assert result.outcome == Outcome.UPDATED
