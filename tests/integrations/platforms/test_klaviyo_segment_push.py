"""Klaviyo lists as pushed segments: strict `responses` mocks with the fact sheet's shapes
(../shared/platforms/klaviyo.md §6), bodies validated against Klaviyo's OpenAPI document."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import NotFound
from integrations.platforms.klaviyo import KlaviyoClient
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import BASE, HEADERS, JSON_API_BODY, KEY, body_schema

pytestmark = pytest.mark.usefixtures("steady_retries")

LIST = f"{BASE}/api/lists/Y6nRLr/relationships/profiles"


@pytest.fixture
def client(make_integration):
    return KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KEY}))


@pytest.fixture(scope="module")
def spec():
    from tests.integrations.platforms.test_klaviyo import SPEC

    return json.loads(SPEC.read_text())


def profiles_page(*pairs, next_url=None):
    return {
        "data": [
            {"type": "profile", "id": pid, "attributes": {"email": email}} for email, pid in pairs
        ],
        "links": {"self": f"{BASE}/api/profiles", "next": next_url, "prev": None},
    }


def test_create_segment_creates_a_list(client, spec):
    body = {"data": {"type": "list", "attributes": {"name": "Crypto readers"}}}
    jsonschema.Draft4Validator(body_schema(spec, "/api/lists")).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{BASE}/api/lists",
            match=[HEADERS, JSON_API_BODY, matchers.json_params_matcher(body, strict_match=True)],
            status=201,
            json={
                "data": {
                    "type": "list",
                    "id": "Y6nRLr",
                    "attributes": {"name": "Crypto readers", "opt_in_process": "single_opt_in"},
                }
            },
        )
        remote = client.create_segment("Crypto readers")
    assert remote == RemoteSegment("list:Y6nRLr", "Crypto readers", "list")


def test_add_looks_up_profile_ids_then_adds_them(client, spec):
    add = {"data": [{"type": "profile", "id": "01ANN"}]}
    schema = body_schema(spec, "/api/lists/{id}/relationships/profiles")
    jsonschema.Draft4Validator(schema).validate(add)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/api/profiles",
            match=[
                HEADERS,
                matchers.query_param_matcher(
                    {
                        "filter": 'any(email,["ann@example.com","bob@example.com"])',
                        "fields[profile]": "email",
                        "page[size]": "100",
                    }
                ),
            ],
            json=profiles_page(("ann@example.com", "01ANN")),
        )
        rsps.post(
            LIST,
            match=[HEADERS, JSON_API_BODY, matchers.json_params_matcher(add, strict_match=True)],
            status=204,
        )
        results = client.add_to_segment(
            "list:Y6nRLr",
            [SegmentMember(1, "Ann@example.com"), SegmentMember(2, "bob@example.com")],
        )
    by_key = {r.key: r for r in results}
    assert by_key[1].outcome == Outcome.UPDATED and by_key[1].remote_key == "01ANN"
    assert by_key[2].outcome == Outcome.REJECTED_DATA
    assert by_key[2].code == "profile_not_found"
    assert "Sync the reader to Klaviyo first" in by_key[2].hint


def test_lookup_follows_pages_and_escapes_quotes(client):
    odd = 'o"dd@example.com'
    with strict(registry=OrderedRegistry) as rsps:
        first = {"filter": 'any(email,["o\\"dd@example.com"])', "fields[profile]": "email",
                 "page[size]": "100"}  # fmt: skip
        rsps.get(
            f"{BASE}/api/profiles",
            match=[matchers.query_param_matcher(first)],
            json=profiles_page(next_url=f"{BASE}/api/profiles?page%5Bcursor%5D=bmV4dA"),
        )
        rsps.get(
            f"{BASE}/api/profiles",
            match=[matchers.query_param_matcher({**first, "page[cursor]": "bmV4dA"})],
            json=profiles_page((odd, "01ODD")),
        )
        rsps.post(LIST, status=204)
        (result,) = client.add_to_segment("list:Y6nRLr", [SegmentMember(7, odd)])
    assert result.remote_key == "01ODD"


def test_known_profile_ids_need_no_lookup_and_remove_sends_delete(client, spec):
    body = {"data": [{"type": "profile", "id": "01ANN"}, {"type": "profile", "id": "01BOB"}]}
    schema = body_schema(spec, "/api/lists/{id}/relationships/profiles", method="delete")
    jsonschema.Draft4Validator(schema).validate(body)
    with strict() as rsps:
        rsps.delete(
            LIST,
            match=[HEADERS, JSON_API_BODY, matchers.json_params_matcher(body, strict_match=True)],
            status=204,
        )
        results = client.remove_from_segment(
            "list:Y6nRLr",
            [SegmentMember(1, "ann@example.com", "01ANN"), SegmentMember(2, "b@x.io", "01BOB")],
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UPDATED)]


def test_removing_someone_klaviyo_does_not_know_is_a_no_op(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/api/profiles", json=profiles_page())
        (result,) = client.remove_from_segment("list:Y6nRLr", [SegmentMember(3, "gone@x.io")])
    assert result.outcome == Outcome.UNCHANGED


def test_a_deleted_list_is_not_found(client):
    with strict() as rsps:
        rsps.post(
            LIST,
            status=404,
            json={"errors": [{"id": "1", "status": 404, "code": "not_found", "title": "Not found.",
                              "detail": "A list with id Y6nRLr does not exist."}]},
        )  # fmt: skip
        with pytest.raises(NotFound):
            client.add_to_segment("list:Y6nRLr", [SegmentMember(1, "a@x.io", "01A")])


def test_declares_the_push_with_its_batch_limit():
    assert KlaviyoClient.segment_batch_max == 1000
    assert KlaviyoClient.segment_member_identifier == "email"
