"""Customer.io's access export against strict `responses` mocks: the App API's person reads
(spec getPersonAttributes, getPersonSegments, getPersonMessages; fact sheet §9), by email."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.types import Capability
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

APP = "https://api.customer.io/v1/customers"
APP_KEY = "cio-test-app-key-000"
BEARER = matchers.header_matcher({"Authorization": f"Bearer {APP_KEY}"})
BY_EMAIL = {"id_type": "email"}
CUSTOMER = {
    "id": "42",
    "identifiers": {"email": "ann+news@example.com", "id": "42", "cio_id": "a3000001"},
    "attributes": {"email": "ann+news@example.com", "first_name": "Ann", "id": "42"},
    "unsubscribed": False,
    "devices": [],
}


@pytest.fixture
def client(make_integration):
    credentials = {
        "site_id": "cio-test-site",
        "track_api_key": "cio-test-track-key",
        "app_api_key": APP_KEY,
    }
    return CustomerIoClient(make_integration("customerio", region="us", credentials=credentials))


def test_the_export_is_declared():
    assert CustomerIoClient.supports(Capability.EXPORT_CONTACT)
    assert Capability.EXPORT_CONTACT not in CustomerIoClient.unsupported_reasons


def test_the_export_reads_attributes_segments_and_every_page_of_messages(client):
    person = f"{APP}/ann%2Bnews@example.com"  # `+` encoded, `@` kept
    first = {"messages": [{"id": "m1", "subject": "Issue 1", "type": "email"}], "next": "tok2"}
    second = {"messages": [{"id": "m2", "subject": "Issue 2", "type": "email"}], "next": ""}
    with strict() as rsps:
        rsps.get(
            f"{person}/attributes",
            match=[BEARER, matchers.query_param_matcher(BY_EMAIL)],
            json={"customer": CUSTOMER},
        )
        rsps.get(
            f"{person}/segments",
            match=[BEARER, matchers.query_param_matcher(BY_EMAIL)],
            json={"segments": [{"id": 7, "name": "Growth Investors", "description": ""}]},
        )
        rsps.get(
            f"{person}/messages",
            match=[BEARER, matchers.query_param_matcher(BY_EMAIL)],
            json=first,
        )
        rsps.get(
            f"{person}/messages",
            match=[BEARER, matchers.query_param_matcher({**BY_EMAIL, "start": "tok2"})],
            json=second,
        )
        exported = client.export_contact("ann+news@example.com")
    assert exported == {
        "found": True,
        "customer": CUSTOMER,
        "segments": [{"id": 7, "name": "Growth Investors", "description": ""}],
        "messages": first["messages"] + second["messages"],
    }


def test_a_person_customer_io_does_not_hold_is_nothing_held(client):
    with strict() as rsps:
        rsps.get(f"{APP}/nobody@example.com/attributes", status=404, json={})
        exported = client.export_contact("nobody@example.com")
    assert exported == {"found": False, "customer": {}, "segments": [], "messages": []}


def test_an_id_is_read_as_an_id(client):
    with strict() as rsps:
        rsps.get(
            f"{APP}/42/attributes",
            match=[matchers.query_param_matcher({"id_type": "id"})],
            json={"customer": CUSTOMER},
        )
        rsps.get(f"{APP}/42/segments", json={"segments": []})
        rsps.get(f"{APP}/42/messages", json={"messages": []})
        assert client.export_contact("42")["customer"]["id"] == "42"
