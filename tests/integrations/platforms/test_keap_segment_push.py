"""Keap tags as pushed segments: strict `responses` mocks with the fact sheet's shapes
(../shared/platforms/keap.md §6), request bodies validated against Keap's OpenAPI document
(specs/keap/swagger.yml: createTag, applyTags, removeTags) and the look-up's parameters
against listContacts'."""

from __future__ import annotations

import jsonschema
import pytest
import yaml
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import NotFound
from integrations.platforms.keap import KeapClient
from integrations.platforms.types import Capability, Outcome, RemoteSegment, SegmentMember
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_keap import (
    ACCESS,
    AUTH,
    BASE,
    JSON_BODY,
    REFRESH,
    SPEC,
    _request_schema,
)

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"

APPLY = f"{BASE}/tags/42/contacts:applyTags"
REMOVE = f"{BASE}/tags/42/contacts:removeTags"


@pytest.fixture
def client(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600}
    )
    return KeapClient(integration)


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(SPEC.read_text())


def lookup(email: str, token=None):
    """The query of the look-up of `email` (listContacts)."""
    params = {"filter": f"email=={email}", "fields": "id,email_addresses", "page_size": "100"}
    if token:
        params["page_token"] = token
    return params


def page(*contacts, next_token=""):
    return {
        "contacts": [
            {"id": cid, "email_addresses": [{"email": email, "field": "EMAIL1"}]}
            for cid, email in contacts
        ],
        "next_page_token": next_token,
    }


def validator(spec, path):
    return jsonschema.Draft202012Validator(_request_schema(spec, path, "post"))


def test_declares_the_three_hooks_with_its_batch():
    for capability in (
        Capability.CREATE_SEGMENT,
        Capability.ADD_TO_SEGMENT,
        Capability.REMOVE_FROM_SEGMENT,
    ):
        assert KeapClient.supports(capability)
    assert (KeapClient.segment_batch_max, KeapClient.segment_member_identifier) == (100, "email")


def test_the_schemas_catch_a_wrong_shape(spec):
    tags = validator(spec, "/rest/v2/tags")
    assert list(tags.iter_errors({"name": "x", "colour": "red"}))
    apply = validator(spec, "/rest/v2/tags/{tag_id}/contacts:applyTags")
    assert list(apply.iter_errors({"ids": ["1"]}))
    assert list(apply.iter_errors({"contact_ids": [1]}))
    assert list(apply.iter_errors({"contact_ids": ["1", "1"]}))


def test_create_segment_creates_a_tag(client, spec):
    body = {"name": "Growth readers", "description": "Readers into growth"}
    validator(spec, "/rest/v2/tags").validate(body)
    with strict() as rsps:
        rsps.post(
            f"{BASE}/tags",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            status=201,
            json={"id": "42", "name": "Growth readers", "description": "Readers into growth",
                  "create_time": "2026-12-04T02:00:00Z"},
        )  # fmt: skip
        remote = client.create_segment("Growth readers", "Readers into growth")
    assert remote == RemoteSegment("42", "Growth readers", "tag")


def test_a_long_name_is_cut_to_what_keap_keeps(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/tags",
            match=[matchers.json_params_matcher({"name": "n" * 255, "description": ""})],
            status=201,
            json={"id": 7, "name": "n" * 255},
        )
        assert client.create_segment("n" * 300).remote_id == "7"


def test_add_looks_contacts_up_by_email_and_refuses_those_keap_does_not_hold(client, spec):
    apply = {"contact_ids": ["101", "205"]}
    validator(spec, "/rest/v2/tags/{tag_id}/contacts:applyTags").validate(apply)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/contacts",
            match=[AUTH, matchers.query_param_matcher(lookup("Ann@example.com"))],
            json=page(("101", "ann@example.com")),
        )
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.query_param_matcher(lookup("bob@example.com"))],
            json=page(),
        )
        rsps.post(
            APPLY,
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(apply, strict_match=True)],
            json={"results": {"101": "SUCCESS", "205": "SUCCESS"}},
        )
        results = client.add_to_segment(
            "42",
            [
                SegmentMember(1, "Ann@example.com"),
                SegmentMember(2, "bob@example.com"),
                SegmentMember(3, "cy@example.com", remote_key="205"),  # kept: no look-up
            ],
        )
    by_key = {r.key: r for r in results}
    assert (by_key[1].outcome, by_key[1].remote_key) == (Outcome.UPDATED, "101")
    assert (by_key[3].outcome, by_key[3].remote_key) == (Outcome.UPDATED, "205")
    refused = by_key[2]
    assert (refused.outcome, refused.code) == (Outcome.REJECTED_DATA, "contact_not_found")
    assert "not in Keap" in refused.message and "bob@example.com" in refused.message
    assert refused.hint.startswith("Not in Keap: sync the reader to Keap first")


def test_the_results_map_decides_each_member(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            APPLY,
            json={"results": {"1": "SUCCESS", "2": "ALREADY_APPLIED",
                              "3": "CONTACT_DOES_NOT_EXIST", "4": "FAILED"}},
        )  # fmt: skip
        results = client.add_to_segment(
            "42",
            [SegmentMember(k, f"r{k}@example.com", remote_key=str(k)) for k in (1, 2, 3, 4, 5)],
        )
    outcome = {r.key: (r.outcome, r.code) for r in results}
    assert outcome[1] == (Outcome.UPDATED, "")
    assert outcome[2] == (Outcome.UPDATED, "")
    assert outcome[3] == (Outcome.REJECTED_DATA, "CONTACT_DOES_NOT_EXIST")
    assert outcome[4] == (Outcome.UNKNOWN, "FAILED")  # tried again next push
    assert outcome[5] == (Outcome.UNKNOWN, "not_confirmed")  # not in the answer
    (gone,) = [r for r in results if r.key == 3]
    assert "not in Keap: sync first" in gone.message


def test_lookup_follows_pages_keeps_exact_matches_and_tags_the_oldest(client):
    """The email filter treats a trailing * as a wildcard, and email is not unique in Keap."""
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.query_param_matcher(lookup("ann@example.com"))],
            json=page(("900", "ann@example.com"), ("12", "ann@example.com.au"), next_token="t2"),
        )
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.query_param_matcher(lookup("ann@example.com", token="t2"))],
            json=page(("101", "ANN@example.com")),
        )
        rsps.post(
            APPLY,
            match=[matchers.json_params_matcher({"contact_ids": ["101"]}, strict_match=True)],
            json={"results": {"101": "SUCCESS"}},
        )
        (result,) = client.add_to_segment("42", [SegmentMember(1, "ann@example.com")])
    assert (result.outcome, result.remote_key) == (Outcome.UPDATED, "101")


def test_no_member_known_sends_no_apply(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json=page())
        (result,) = client.add_to_segment("42", [SegmentMember(1, "zed@example.com")])
        assert [c.request.method for c in rsps.calls] == ["GET"]
    assert result.outcome == Outcome.REJECTED_DATA


def test_remove_sends_the_kept_ids_and_looks_up_only_those_without(client, spec):
    remove = {"contact_ids": ["101", "300"]}
    validator(spec, "/rest/v2/tags/{tag_id}/contacts:removeTags").validate(remove)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.query_param_matcher(lookup("old@example.com"))],
            json=page(("300", "old@example.com")),
        )
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.query_param_matcher(lookup("gone@example.com"))],
            json=page(),
        )
        rsps.post(
            REMOVE,
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(remove, strict_match=True)],
            status=204,
        )
        results = client.remove_from_segment(
            "42",
            [
                SegmentMember(1, "ann@example.com", remote_key="101"),
                SegmentMember(2, "old@example.com"),
                SegmentMember(3, "gone@example.com"),
            ],
        )
    outcome = {r.key: (r.outcome, r.remote_key) for r in results}
    assert outcome == {
        1: (Outcome.UPDATED, "101"),
        2: (Outcome.UPDATED, "300"),
        3: (Outcome.UNCHANGED, ""),  # no contact, so no tag to remove
    }


def test_a_tag_deleted_in_keap_is_not_found(client):
    with strict() as rsps:
        rsps.post(
            APPLY,
            status=404,
            json={"code": 404, "message": "Tag 42 not found", "status": "Not Found"},
        )
        with pytest.raises(NotFound):
            client.add_to_segment("42", [SegmentMember(1, "a@example.com", remote_key="1")])


def test_paths_and_lookup_parameters_exist_in_the_spec(spec):
    paths = spec["paths"]
    assert "post" in paths["/rest/v2/tags"]
    assert "201" in paths["/rest/v2/tags"]["post"]["responses"]
    assert "200" in paths["/rest/v2/tags/{tag_id}/contacts:applyTags"]["post"]["responses"]
    assert "204" in paths["/rest/v2/tags/{tag_id}/contacts:removeTags"]["post"]["responses"]
    listing = {p["name"]: p for p in paths["/rest/v2/contacts"]["get"]["parameters"]}
    assert {"filter", "fields", "page_size", "page_token"} <= set(listing)
    assert "`email`" in listing["filter"]["description"]
    assert listing["page_size"]["schema"]["maximum"] >= 100
    applied = spec["components"]["schemas"]["ApplyTagsResponse"]["properties"]["results"]
    assert applied["additionalProperties"]["type"] == "string"
