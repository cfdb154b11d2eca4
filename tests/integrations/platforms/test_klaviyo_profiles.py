"""Klaviyo profiles read for a profile import: `GET /api/profiles` with their email marketing
subscriptions, paged by `page[cursor]` (../shared/platforms/klaviyo.md §3, §12), the request's
parameters and the answers checked against Klaviyo's OpenAPI document (get_profiles)."""

from __future__ import annotations

import json

import jsonschema
import pytest
from responses import matchers

from integrations.platforms.klaviyo import REVISION, KlaviyoClient
from integrations.platforms.types import ContactPage, RemoteProfile
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

URL = "https://a.klaviyo.com/api/profiles"
KEY = "pk_sandbox-klaviyo-private-key"
HEADERS = matchers.header_matcher({"Authorization": f"Klaviyo-API-Key {KEY}", "revision": REVISION})
FIRST = {"page[size]": "100", "additional-fields[profile]": "subscriptions"}


@pytest.fixture(scope="module")
def operation():
    return json.loads((SPECS / "klaviyo/stable.json").read_text())["paths"]["/api/profiles"]["get"]


@pytest.fixture(scope="module")
def answer_schema():
    spec = json.loads((SPECS / "klaviyo/stable.json").read_text())
    content = spec["paths"]["/api/profiles"]["get"]["responses"]["200"]["content"]
    return _resolve(content["application/vnd.api+json"]["schema"], spec["components"]["schemas"])


@pytest.fixture
def client(make_integration):
    return KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KEY}))


def marketing(consent, *reasons):
    return {
        "email": {
            "marketing": {
                "can_receive_email_marketing": not reasons,
                "consent": consent,
                "suppression": [
                    {"reason": r, "timestamp": "2024-02-01T00:00:00+00:00"} for r in reasons
                ],
            }
        }
    }


def profile(id_, email, subscriptions, **attributes):
    return {
        "type": "profile",
        "id": id_,
        "attributes": {"email": email, "subscriptions": subscriptions, **attributes},
        "links": {"self": f"{URL}/{id_}"},
    }


PAGE_1 = {
    "data": [
        profile(
            "01A",
            "ann@example.com",
            marketing("SUBSCRIBED"),
            first_name="Ann",
            last_name="Lee",
            location={"city": "Leeds"},
            properties={"interest": "growth", "first_name": "not the standard one"},
        ),
        profile("01B", "bob@example.com", marketing("UNSUBSCRIBED", "UNSUBSCRIBE")),
        profile("01C", "cy@example.com", marketing("SUBSCRIBED", "HARD_BOUNCE")),
    ],
    "links": {"self": URL, "next": f"{URL}?page%5Bsize%5D=100&page%5Bcursor%5D=bmV4dA"},
}
PAGE_2 = {
    "data": [
        profile("01D", "di@example.com", marketing("NEVER_SUBSCRIBED", "SPAM_COMPLAINT")),
        profile("01E", "ed@example.com", marketing("NEVER_SUBSCRIBED")),
        profile("01F", "fay@example.com", marketing("UNSUBSCRIBED")),
    ],
    "links": {"self": URL},
}


def test_the_served_answers_have_klaviyos_shape(answer_schema):
    validator = jsonschema.Draft4Validator(answer_schema)
    for page in (PAGE_1, PAGE_2):
        validator.validate(page)
    assert not validator.is_valid({"links": {"self": URL}})  # data is required


def test_the_request_names_only_parameters_of_get_profiles(operation):
    declared = {p["name"] for p in operation["parameters"] if "name" in p}
    assert {*FIRST, "page[cursor]"} <= declared
    size = next(p for p in operation["parameters"] if p.get("name") == "page[size]")
    assert size["schema"]["maximum"] == 100


def test_profiles_are_paged_by_cursor_with_their_consent(client):
    with strict() as rsps:
        rsps.get(URL, match=[HEADERS, matchers.query_param_matcher(FIRST)], json=PAGE_1)
        rsps.get(
            URL,
            match=[HEADERS, matchers.query_param_matcher({**FIRST, "page[cursor]": "bmV4dA"})],
            json=PAGE_2,
        )
        first = client.contacts_page(None)
        last = client.contacts_page(first.next_cursor)
    ann = first.profiles[0]
    assert ann == RemoteProfile(
        "ann@example.com",
        "01A",
        {
            "first_name": "Ann",
            "last_name": "Lee",
            "location.city": "Leeds",
            "interest": "growth",
            "properties.interest": "growth",
            "properties.first_name": "not the standard one",
        },
        "subscribed",
    )
    assert first.next_cursor == "bmV4dA"
    assert [p.status for p in first.profiles[1:]] == ["unsubscribed", "bounced"]
    assert [p.status for p in last.profiles] == ["complained", "", "unsubscribed"]
    assert last == ContactPage(last.profiles, None)
