"""SharpSend segments pushed to Braze as the `sharpsend_segments` array attribute: strict
`responses` mocks with the fact sheet's /users/track shapes (../shared/platforms/braze.md §3,
§6, §13)."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.braze.segment_push import ATTRIBUTE, segment_filter, segment_value
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_braze import AUTH, JSON_BODY, US, track_ok

pytestmark = pytest.mark.usefixtures("steady_retries")

VALUE = segment_value("Crypto readers")


@pytest.fixture
def client(make_integration):
    from integrations.platforms.braze import BrazeClient

    def make(name="Braze", **credentials):
        creds = {"api_key": "sandbox-braze-rest-key-us01", **credentials}
        integration = make_integration("braze", name=name, region="us-01", credentials=creds)
        return BrazeClient(integration)

    return make


def members(count: int) -> list[SegmentMember]:
    return [SegmentMember(i + 1, f"reader{i:03d}@example.com") for i in range(count)]


def objects(verb: str, group: list[SegmentMember]) -> dict:
    return {
        "attributes": [
            {"email": m.identifier, ATTRIBUTE: {verb: [VALUE]}, "_update_existing_only": True}
            for m in group
        ]
    }


def track(rsps, body, answer=None, status=201):
    rsps.post(
        f"{US}/users/track",
        match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
        json=answer if answer is not None else track_ok(len(body["attributes"])),
        status=status,
    )


def test_the_value_is_a_stable_slug_distinct_per_name_and_within_braze_limits():
    assert VALUE == segment_value("Crypto readers")
    assert segment_value("Growth readers") == "growth-readers-6e7f4a53"  # docs/platforms/braze.md
    assert VALUE.startswith("crypto-readers-") and len(VALUE) == len("crypto-readers-") + 8
    assert segment_value("crypto readers") != VALUE  # same slug, different name
    long = segment_value("A very long segment name " * 20)
    assert len(long) <= 69 and long.isascii()
    assert segment_value("Инвесторы").startswith("segment-")


def test_create_segment_makes_no_call_and_names_the_filter(client):
    with strict():  # any request would fail: none is registered
        remote = client().create_segment("Crypto readers", "From SharpSend")
    assert remote == RemoteSegment(VALUE, segment_filter(VALUE), "attribute")
    assert remote.name == (
        f"Braze segment filter: custom attribute sharpsend_segments includes value {VALUE}"
    )


@pytest.mark.parametrize(("method", "verb"), [("add_to_segment", "add"), ("remove_from_segment", "remove")])  # fmt: skip
def test_membership_changes_are_array_add_or_remove_by_email_never_creating(client, method, verb):
    group = members(2)
    with strict() as rsps:
        track(rsps, objects(verb, group))
        results = getattr(client(), method)(VALUE, group)
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UPDATED)]


def test_75_objects_a_call_or_50_on_the_mau_package(client):
    group = members(120)
    with strict() as rsps:
        track(rsps, objects("add", group[:75]))
        track(rsps, objects("add", group[75:]))
        results = client().add_to_segment(VALUE, group)
    assert len(results) == 120 and {r.outcome for r in results} == {Outcome.UPDATED}
    with strict() as rsps:
        track(rsps, objects("add", group[:50]))
        track(rsps, objects("add", group[50:100]))
        track(rsps, objects("add", group[100:]))
        results = client("Braze MAU", objects_per_request="50").add_to_segment(VALUE, group)
        assert len(rsps.calls) == 3
    assert len(results) == 120


def test_an_object_braze_refuses_is_that_member_alone(client):
    group = [SegmentMember(1, "ok@example.com"), SegmentMember(2, "spam@example.com"),
             SegmentMember(3, "bad@example")]  # fmt: skip
    answer = {
        "message": "success",
        "attributes_processed": 1,
        "errors": [
            {"type": "provided email is blacklisted and disallowed", "input_array": "attributes",
             "index": 1},
            {"type": "'bad@example' is not a valid email address", "input_array": "attributes",
             "index": 2},
        ],
    }  # fmt: skip
    with strict() as rsps:
        track(rsps, objects("add", group), answer)
        results = client().add_to_segment(VALUE, group)
    outcomes = {r.key: (r.outcome, r.code) for r in results}
    assert outcomes == {
        1: (Outcome.UPDATED, ""),
        2: (Outcome.REJECTED_COMPLIANCE, "blocklisted"),
        3: (Outcome.REJECTED_DATA, "invalid"),
    }
    assert "not a valid email" in results[2].message


def test_an_error_naming_no_object_leaves_the_batch_unconfirmed(client):
    group = members(2)
    answer = {"message": "success", "errors": [{"type": "something went wrong"}]}
    with strict() as rsps:
        track(rsps, objects("remove", group), answer)
        results = client().remove_from_segment(VALUE, group)
    assert {r.outcome for r in results} == {Outcome.UNKNOWN}  # sent again next push


def test_a_fatal_answer_refuses_its_call_and_the_later_ones_only(client):
    group = members(120)
    with strict() as rsps:
        track(rsps, objects("add", group[:50]))
        track(rsps, objects("add", group[50:100]), {"message": "Max Input Length Exceeded"}, 400)
        results = client(objects_per_request="50").add_to_segment(VALUE, group)
        assert len(rsps.calls) == 2  # the third call is not sent
    outcomes = [r.outcome for r in results]
    assert outcomes == [Outcome.UPDATED] * 50 + [Outcome.REJECTED_DATA] * 70
    assert all(r.whole_request and "Max Input Length" in r.message for r in results[50:])


def test_a_404_is_not_taken_for_a_deleted_segment(client):
    group = members(1)
    with strict() as rsps:
        track(rsps, objects("remove", group), {"message": "Not Found"}, status=404)
        (result,) = client().remove_from_segment(VALUE, group)
    assert (result.outcome, result.code) == (Outcome.REJECTED_DATA, "404")  # not raised
