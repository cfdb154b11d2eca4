"""Who is in a Klaviyo list or segment: `GET /api/lists/{id}/profiles` and
`GET /api/segments/{id}/profiles`, the email only, 100 a page, paged by the `page[cursor]` of
`links.next` (../shared/platforms/klaviyo.md §6, §12); the request's parameters and the
answers checked against Klaviyo's OpenAPI document (get_profiles_for_list / _for_segment)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.klaviyo import REVISION, KlaviyoClient
from integrations.platforms.klaviyo.members import MEMBERS_PER_PAGE
from integrations.platforms.types import Capability, MemberPage
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

HOST = "https://a.klaviyo.com"
KEY = "pk_test-klaviyo-members-key"
HEADERS = matchers.header_matcher({"Authorization": f"Klaviyo-API-Key {KEY}", "revision": REVISION})
FIRST = {"fields[profile]": "email", "page[size]": "100"}
OPERATIONS = {
    "/api/lists/{id}/profiles": "get_profiles_for_list",
    "/api/segments/{id}/profiles": "get_profiles_for_segment",
}


@pytest.fixture(scope="module")
def spec():
    return json.loads((SPECS / "klaviyo/stable.json").read_text())


@pytest.fixture
def client(make_integration):
    return KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KEY}))


def member(id_, email):
    return {
        "type": "profile",
        "id": id_,
        # joined_group_at: the spec's schema requires it in every member, sparse or not.
        "attributes": {"email": email, "joined_group_at": "2025-03-01T00:00:00+00:00"},
        "links": {"self": f"{HOST}/api/profiles/{id_}"},
    }


def answer(url, *members, cursor=None):
    links = {"self": url}
    if cursor:
        links["next"] = (
            f"{url}?fields%5Bprofile%5D=email&page%5Bsize%5D=100&page%5Bcursor%5D={cursor}"
        )
    return {"data": list(members), "links": links}


@pytest.mark.parametrize("path", OPERATIONS)
def test_the_request_names_only_parameters_of_the_operation(spec, path):
    operation = spec["paths"][path]["get"]
    assert operation["operationId"] == OPERATIONS[path]
    declared = {p["name"]: p for p in operation["parameters"] if "name" in p}
    assert {*FIRST, "page[cursor]"} <= set(declared)
    assert "email" in declared["fields[profile]"]["schema"]["items"]["enum"]
    assert declared["page[size]"]["schema"]["maximum"] == MEMBERS_PER_PAGE == 100


@pytest.mark.parametrize("path", OPERATIONS)
def test_the_answers_used_here_have_klaviyos_shape(spec, path):
    content = spec["paths"][path]["get"]["responses"]["200"]["content"]
    schema = _resolve(content["application/vnd.api+json"]["schema"], spec["components"]["schemas"])
    validator = jsonschema.Draft4Validator(schema)
    url = HOST + path.replace("{id}", "Y6nRLr")
    validator.validate(answer(url, member("01A", "ann@example.com"), cursor="bmV4dA"))
    assert not validator.is_valid({"links": {"self": url}})  # data is required


@pytest.mark.parametrize("kind", ["list", "segment"])
def test_members_are_paged_by_the_cursor_of_links_next(client, kind):
    url = f"{HOST}/api/{kind}s/Y6nRLr/profiles"
    with strict() as rsps:
        rsps.get(
            url,
            match=[HEADERS, matchers.query_param_matcher(FIRST)],
            json=answer(
                url, member("01A", "Ann@Example.com"), member("01B", None), cursor="bmV4dA"
            ),
        )
        rsps.get(
            url,
            match=[HEADERS, matchers.query_param_matcher({**FIRST, "page[cursor]": "bmV4dA"})],
            # The last page: "next": null, as the emulator answers (the client reads both).
            json={**answer(url, member("01C", "cy@example.com")), "links": {"next": None}},
        )
        first = client.segment_members(f"{kind}:Y6nRLr", None)
        last = client.segment_members(f"{kind}:Y6nRLr", first.next_cursor)
    # Emails as Klaviyo holds them (the console normalises when matching); a phone-only
    # profile has no email and is kept by its id.
    assert first == MemberPage([("Ann@Example.com", "01A"), ("", "01B")], "bmV4dA")
    assert last == MemberPage([("cy@example.com", "01C")], None)


def test_the_next_url_is_never_requested_as_given(client):
    """links.next names another host: only its cursor is used, on Klaviyo's own path."""
    url = f"{HOST}/api/lists/Y6nRLr/profiles"
    elsewhere = "https://attacker.example/api/lists/Y6nRLr/profiles?page%5Bcursor%5D=Zm9v"
    with strict() as rsps:
        rsps.get(
            url,
            match=[HEADERS, matchers.query_param_matcher(FIRST)],
            json={"data": [], "links": {"self": url, "next": elsewhere}},
        )
        rsps.get(
            url,
            match=[HEADERS, matchers.query_param_matcher({**FIRST, "page[cursor]": "Zm9v"})],
            json=answer(url),
        )
        first = client.segment_members("list:Y6nRLr", None)
        last = client.segment_members("list:Y6nRLr", first.next_cursor)
    assert first == MemberPage([], "Zm9v") and last == MemberPage([], None)


@pytest.mark.parametrize("remote_id", ["Y6nRLr", "tag:Y6nRLr", "list:", "flow:1"])
def test_an_id_that_is_not_a_list_or_segment_is_refused_unsent(client, remote_id):
    with strict(), pytest.raises(ValidationFailed, match="not a list or segment id"):
        client.segment_members(remote_id, None)


def test_an_id_cannot_leave_its_path(client):
    url = f"{HOST}/api/segments/a%2F..%2Fx/profiles"
    with strict() as rsps:
        rsps.get(url, match=[HEADERS], json=answer(url))
        assert client.segment_members("segment:a/../x", None) == MemberPage([], None)


def test_klaviyo_declares_it(client):
    assert client.supports(Capability.LIST_SEGMENT_MEMBERS)
