"""Customer.io manual segments as pushed segments: strict `responses` mocks with the fact
sheet's shapes (../shared/platforms/customerio.md §6); the create body is checked against
the App API's OpenAPI document (createManSegment)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.errors import NotFound
from integrations.platforms.types import Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_customerio import (
    APP_US,
    JSON_BODY,
    TRACK_US,
    US_CREDS,
    basic,
    bearer,
)
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")


@pytest.fixture
def client(make_integration):
    return CustomerIoClient(make_integration("customerio", region="us", credentials=dict(US_CREDS)))


def create_schema():
    spec = json.loads((SPECS / "customerio/cio_journeys_app_api.json").read_text())
    return spec["paths"]["/v1/segments"]["post"]["requestBody"]["content"]["application/json"][
        "schema"
    ]


def test_create_segment_creates_an_empty_manual_segment(client):
    body = {"segment": {"name": "Crypto readers", "description": "From SharpSend"}}
    jsonschema.Draft4Validator(create_schema()).validate(body)
    with strict() as rsps:
        rsps.post(
            f"{APP_US}/v1/segments",
            match=[bearer(US_CREDS), JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json={"segment": {"id": 7, "deduplicate_id": "7:1492548073", "name": "Crypto readers",
                              "description": "From SharpSend", "state": "finished",
                              "progress": None, "type": "manual", "tags": []}},
        )  # fmt: skip
        remote = client.create_segment("Crypto readers", "From SharpSend")
    assert remote == RemoteSegment("7", "Crypto readers", "manual")


@pytest.mark.parametrize(
    ("method", "verb"),
    [("add_to_segment", "add_customers"), ("remove_from_segment", "remove_customers")],
)
def test_members_go_through_the_track_api_by_email(client, method, verb):
    body = {"ids": ["ann@example.com", "bob@example.com"]}
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v1/segments/7/{verb}",
            match=[
                basic(US_CREDS),
                JSON_BODY,
                matchers.query_param_matcher({"id_type": "email"}),
                matchers.json_params_matcher(body, strict_match=True),
            ],
            json={},
        )
        results = getattr(client, method)(
            "7", [SegmentMember(1, "ann@example.com"), SegmentMember(2, "bob@example.com")]
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UPDATED)]


def test_a_deleted_segment_is_not_found(client):
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v1/segments/7/add_customers",
            status=404,
            json={"meta": {"error": "segment not found"}},
        )
        with pytest.raises(NotFound):
            client.add_to_segment("7", [SegmentMember(1, "ann@example.com")])
