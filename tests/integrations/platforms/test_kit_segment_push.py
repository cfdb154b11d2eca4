"""Kit tags as pushed segments: strict `responses` mocks with the shapes of Kit's v4
reference (../shared/platforms/kit.md §6: create a tag, tag and untag by email address)."""

from __future__ import annotations

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import NotFound
from integrations.platforms.kit import KitClient
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_kit import API, AUTH, JSON_BODY, KEY

pytestmark = pytest.mark.usefixtures("steady_retries")


@pytest.fixture
def client(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": KEY}))


def by_email(email):
    return matchers.json_params_matcher({"email_address": email}, strict_match=True)


def subscriber(email):
    return {"subscriber": {"id": 1103, "first_name": "Ann", "email_address": email,
                           "state": "active", "created_at": "2023-02-17T11:43:55Z",
                           "tagged_at": "2023-02-17T11:43:55Z", "fields": {}}}  # fmt: skip


def test_create_segment_creates_a_tag(client):
    with strict() as rsps:
        rsps.post(
            f"{API}/tags",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher({"name": "Crypto readers"})],
            status=201,
            json={
                "tag": {"id": 241, "name": "Crypto readers", "created_at": "2023-02-17T11:43:55Z"}
            },
        )
        assert client.create_segment("Crypto readers") == RemoteSegment(
            "tag:241", "Crypto readers", "tag"
        )


def test_tags_one_call_a_member_and_refuses_unknown_subscribers(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{API}/tags/241/subscribers", match=[AUTH, JSON_BODY, by_email("ann@example.com")],
                  status=201, json=subscriber("ann@example.com"))  # fmt: skip
        rsps.post(f"{API}/tags/241/subscribers", match=[by_email("old@example.com")],
                  status=200, json=subscriber("old@example.com"))  # fmt: skip
        rsps.post(f"{API}/tags/241/subscribers", match=[by_email("nobody@example.com")],
                  status=422, json={"errors": ["Subscriber does not exist"]})  # fmt: skip
        results = client.add_to_segment(
            "tag:241",
            [SegmentMember(1, "ann@example.com"), SegmentMember(2, "old@example.com"),
             SegmentMember(3, "nobody@example.com")],
        )  # fmt: skip
    assert [(r.key, r.outcome) for r in results] == [
        (1, Outcome.UPDATED),
        (2, Outcome.UPDATED),
        (3, Outcome.REJECTED_DATA),
    ]
    assert "Subscriber does not exist" in results[2].message


def test_untags_by_email_and_a_missing_tagging_is_nothing_to_remove(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.delete(f"{API}/tags/241/subscribers", match=[AUTH, JSON_BODY, by_email("ann@example.com")],
                    status=204)  # fmt: skip
        rsps.delete(f"{API}/tags/241/subscribers", match=[by_email("gone@example.com")],
                    status=404, json={"errors": ["Not Found"]})  # fmt: skip
        results = client.remove_from_segment(
            "tag:241", [SegmentMember(1, "ann@example.com"), SegmentMember(2, "gone@example.com")]
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UNCHANGED)]


def test_tagging_on_a_deleted_tag_is_not_found(client):
    with strict() as rsps:
        rsps.post(f"{API}/tags/241/subscribers", status=404, json={"errors": ["Not Found"]})
        with pytest.raises(NotFound):
            client.add_to_segment("tag:241", [SegmentMember(1, "ann@example.com")])
