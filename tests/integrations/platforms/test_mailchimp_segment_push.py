"""Mailchimp tags as pushed segments: strict `responses` mocks with the fact sheet's shapes
(../shared/platforms/mailchimp.md §6: create with static_segment, batch add/remove ≤ 500)."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_mailchimp import AUTH, JSON_BODY, LIST, US6, make_client

pytestmark = pytest.mark.usefixtures("steady_retries")

SEGMENTS = f"{US6}/lists/{LIST}/segments"


@pytest.fixture
def client(make_integration):
    return make_client(make_integration)


def member(email):
    return {"id": "x", "email_address": email, "status": "subscribed"}


def test_create_segment_creates_an_empty_tag(client):
    body = {"name": "Crypto readers", "static_segment": []}
    with strict() as rsps:
        rsps.post(
            SEGMENTS,
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json={"id": 49381, "name": "Crypto readers", "member_count": 0, "type": "static",
                  "list_id": LIST},
        )  # fmt: skip
        remote = client.create_segment("Crypto readers", "ignored: tags have no description")
    assert remote == RemoteSegment("49381", "Crypto readers", "static")


def test_add_reports_added_refused_and_ignored_members(client):
    body = {"members_to_add": ["ann@example.com", "bad@example.com", "new@example.com"]}
    with strict() as rsps:
        rsps.post(
            f"{SEGMENTS}/49381",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json={
                "members_added": [member("Ann@example.com")],
                "members_removed": [],
                "errors": [{"email_addresses": ["bad@example.com"], "error": "Email is cleaned"}],
                "total_added": 1,
                "total_removed": 0,
                "error_count": 1,
            },
        )
        results = client.add_to_segment(
            "49381",
            [SegmentMember(1, "ann@example.com"), SegmentMember(2, "bad@example.com"),
             SegmentMember(3, "new@example.com")],
        )  # fmt: skip
    assert [(r.key, r.outcome, r.code) for r in results] == [
        (1, Outcome.UPDATED, ""),
        (2, Outcome.REJECTED_DATA, "segment_error"),
        (3, Outcome.REJECTED_DATA, "not_in_audience"),
    ]
    assert results[1].message == "Email is cleaned"
    assert "Sync the reader to Mailchimp first" in results[2].hint


def test_remove_sends_members_to_remove(client):
    body = {"members_to_remove": ["ann@example.com", "gone@example.com"]}
    with strict() as rsps:
        rsps.post(
            f"{SEGMENTS}/49381",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json={"members_added": [], "members_removed": [member("ann@example.com")],
                  "errors": [], "total_added": 0, "total_removed": 1, "error_count": 0},
        )  # fmt: skip
        results = client.remove_from_segment(
            "49381", [SegmentMember(1, "ann@example.com"), SegmentMember(2, "gone@example.com")]
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UNCHANGED)]


def test_declares_the_500_member_limit():
    assert MailchimpClient.segment_batch_max == 500
