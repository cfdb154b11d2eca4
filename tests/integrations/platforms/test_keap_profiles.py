"""Keap contacts read for a profile import: `GET /crm/rest/v2/contacts` with page_size ≤ 1000,
page_token and fields (../shared/platforms/keap.md §3, §12), custom fields named by the contact
model; the request's parameters and the answers checked against swagger.yml (listContacts)."""

from __future__ import annotations

import jsonschema
import pytest
import yaml
from responses import matchers

from integrations.platforms.keap import STANDARD, KeapClient
from integrations.platforms.types import ContactPage, RemoteProfile
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_keap import MODEL, _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"  # steady_retries gives it a fake OAuth app

BASE = "https://api.keap.com/crm/rest/v2"
ACCESS = "test-access-not-real"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})
FIELDS = ",".join(("id", "email_addresses", "phone_numbers", "custom_fields", *STANDARD))


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load((SPECS / "keap/swagger.yml").read_text())


@pytest.fixture
def client(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration,
        {"access_token": ACCESS, "refresh_token": "test-refresh-not-real", "expires_in": 3600},
    )
    return KeapClient(integration)


def contact(contact_id, email, status, **extra):
    return {
        "id": contact_id,
        "email_addresses": [{"email": email, "field": "EMAIL1", "email_opt_status": status}],
        **extra,
    }


PAGE_1 = {
    "contacts": [
        contact(
            "101",
            "ann@example.com",
            "SINGLE_OPT_IN",
            given_name="Ann",
            family_name="Lee",
            phone_numbers=[{"number": "+1 555 0100", "field": "PHONE1"}],
            custom_fields=[{"id": "12", "content": "growth"}, {"id": "99", "content": "x"}],
        ),
        contact("102", "bob@example.com", "LIST_UNSUBSCRIBE"),
        contact("103", "cy@example.com", "HARD_BOUNCE"),
        contact("104", "di@example.com", "SPAM"),
    ],
    "next_page_token": "tok-2",
}
PAGE_2 = {
    "contacts": [
        contact("105", "ed@example.com", "NON_MARKETABLE"),
        {"id": "106", "given_name": "No email"},
        {
            "id": "107",
            "email_addresses": [
                {"email": "work@example.com", "field": "EMAIL2", "email_opt_status": "CONFIRMED"},
                {"email": "home@example.com", "field": "EMAIL1", "email_opt_status": "MANUAL"},
            ],
        },
    ],
    "next_page_token": "",
}


def test_the_request_and_the_answers_follow_list_contacts(spec):
    operation = spec["paths"]["/rest/v2/contacts"]["get"]
    declared = {p["name"] for p in operation["parameters"]}
    assert {"page_size", "page_token", "fields"} <= declared
    size = next(p for p in operation["parameters"] if p["name"] == "page_size")
    assert size["schema"]["maximum"] == 1000
    available = next(p for p in operation["parameters"] if p["name"] == "fields")["description"]
    for name in FIELDS.split(","):
        assert name in available, name
    schemas = spec["components"]["schemas"]
    validator = jsonschema.Draft202012Validator(_resolve(schemas["ListContactsResponse"], schemas))
    for page in (PAGE_1, PAGE_2):
        validator.validate(page)
    assert not validator.is_valid({"contacts": {"not": "a list"}})


def test_contacts_are_paged_by_token_with_their_opt_in_status(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts/model", match=[AUTH], json=MODEL)
        rsps.get(
            f"{BASE}/contacts",
            match=[
                AUTH,
                matchers.query_param_matcher({"page_size": "1000", "fields": FIELDS}),
            ],
            json=PAGE_1,
        )
        rsps.get(
            f"{BASE}/contacts",
            match=[
                AUTH,
                matchers.query_param_matcher(
                    {"page_size": "1000", "fields": FIELDS, "page_token": "tok-2"}
                ),
            ],
            json=PAGE_2,
        )
        first = client.contacts_page(None)
        last = client.contacts_page(first.next_cursor)
    assert first.profiles[0] == RemoteProfile(
        "ann@example.com",
        "101",
        {"given_name": "Ann", "family_name": "Lee", "phone": "+1 555 0100", "interest": "growth"},
        "subscribed",
    )
    assert first.next_cursor == "tok-2"
    assert [p.status for p in first.profiles[1:]] == ["unsubscribed", "bounced", "complained"]
    assert last == ContactPage(
        [
            RemoteProfile("ed@example.com", "105", {}, ""),  # never opted in: no consent
            RemoteProfile("", "106", {"given_name": "No email"}, ""),  # the import reports it
            RemoteProfile("home@example.com", "107", {}, "unsubscribed"),  # EMAIL1 is the one
        ],
        None,
    )
