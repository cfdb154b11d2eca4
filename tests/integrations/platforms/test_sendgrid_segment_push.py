"""SendGrid lists as pushed segments: strict `responses` mocks with the shapes of the fact sheet
(../shared/platforms/sendgrid.md §3, §6) and of tsg_mc_lists_v3.json (CreateMarketingList,
DeleteContact from a list)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.sendgrid import SendGridClient
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember, Written
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_sendgrid import API, AUTH, JSON_BODY, KEY, SPECS, job_status

pytestmark = pytest.mark.usefixtures("steady_retries")

NEW_LIST = "11111111-2222-4333-8444-555555555555"


@pytest.fixture
def client(make_integration):
    return SendGridClient(
        make_integration("sendgrid", region="global", credentials={"api_key": KEY})
    )


def test_create_segment_creates_a_list(client):
    spec = json.loads((SPECS / "tsg_mc_lists_v3.json").read_text())
    schema = spec["paths"]["/v3/marketing/lists"]["post"]["requestBody"]["content"][
        "application/json"
    ]["schema"]
    body = {"name": "Crypto readers"}
    jsonschema.Draft4Validator(schema).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{API}/v3/marketing/lists",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            status=201,
            json={"id": NEW_LIST, "name": "Crypto readers", "contact_count": 0,
                  "_metadata": {"self": "x"}},
        )  # fmt: skip
        remote = client.create_segment("Crypto readers")
    assert remote == RemoteSegment(f"list:{NEW_LIST}", "Crypto readers", "list")


def test_add_upserts_with_the_list_and_waits_for_the_job(client):
    body = {"list_ids": [NEW_LIST], "contacts": [{"email": "ann@example.com"}]}
    with strict(registry=OrderedRegistry) as rsps:
        rsps.put(
            f"{API}/v3/marketing/contacts",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            status=202,
            json={"job_id": "job-7"},
        )
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/job-7",
            json=job_status("job-7", "completed", requested_count=1, updated_count=1),
        )
        (result,) = client.add_to_segment(f"list:{NEW_LIST}", [SegmentMember(1, "ann@example.com")])
    assert result.key == 1 and result.outcome is Written.WRITTEN


def test_remove_looks_up_contact_ids_then_removes_them_from_the_list(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            match=[AUTH, matchers.json_params_matcher(
                {"emails": ["ann@example.com", "gone@example.com"]}, strict_match=True)],
            json={"result": {"ann@example.com": {"contact": {"id": "c-ann", "email": "ann@example.com"}},
                             "gone@example.com": {"error": "contact not found"}}},
        )  # fmt: skip
        rsps.delete(
            f"{API}/v3/marketing/lists/{NEW_LIST}/contacts",
            match=[AUTH, matchers.query_param_matcher({"contact_ids": "c-ann"})],
            status=202,
            json={"job_id": "job-8"},
        )
        results = client.remove_from_segment(
            f"list:{NEW_LIST}",
            [SegmentMember(1, "ann@example.com"), SegmentMember(2, "gone@example.com")],
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UNCHANGED)]


def test_removing_contacts_sendgrid_does_not_have_sends_no_delete(client):
    with strict() as rsps:
        rsps.post(f"{API}/v3/marketing/contacts/search/emails", status=404,
                  json={"errors": [{"message": "No contacts found"}]})  # fmt: skip
        (result,) = client.remove_from_segment(f"list:{NEW_LIST}", [SegmentMember(1, "x@y.io")])
    assert result.outcome == Outcome.UNCHANGED
