"""Mailchimp's audience members read for a profile import: the exact list-members requests of
../shared/platforms/mailchimp.md §3 and §12 (offset + count ≤ 1000, fields=, total_items)."""

from __future__ import annotations

import base64

import pytest
from responses import matchers

from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.types import ContactPage, RemoteProfile
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

KEY = "0123456789abcdef0123456789abcdef-us6"
URL = "https://us6.api.mailchimp.com/3.0/lists/abc123/members"
AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"sharpsend:{KEY}".encode()).decode()}
)
FIELDS = (
    "members.id,members.email_address,members.status,members.merge_fields,"
    "members.timestamp_signup,total_items"
)


@pytest.fixture
def client(make_integration):
    credentials = {"api_key": KEY, "list_id": "abc123"}
    return MailchimpClient(make_integration("mailchimp", region="auto", credentials=credentials))


def query(offset: int):
    return matchers.query_param_matcher({"count": "1000", "offset": str(offset), "fields": FIELDS})


def test_members_are_paged_by_offset_until_total_items_with_their_status(client):
    first = [
        {
            "id": "h1",
            "email_address": "ann@example.com",
            "status": "subscribed",
            "merge_fields": {"FNAME": "Ann", "LNAME": "Lee", "INTEREST": "growth"},
            "timestamp_signup": "2024-01-15T09:30:00+00:00",
        },
        {"id": "h2", "email_address": "bob@example.com", "status": "unsubscribed",
         "merge_fields": {}},
        {"id": "h3", "email_address": "cy@example.com", "status": "cleaned", "merge_fields": {}},
        {"id": "h4", "email_address": "di@example.com", "status": "pending", "merge_fields": {}},
    ]  # fmt: skip
    first += [
        {"id": f"x{i}", "email_address": f"r{i}@example.com", "status": "subscribed"}
        for i in range(996)
    ]
    with strict() as rsps:
        rsps.get(URL, match=[AUTH, query(0)], json={"members": first, "total_items": 1001})
        rsps.get(
            URL,
            match=[AUTH, query(1000)],
            json={
                "members": [
                    {"id": "h5", "email_address": "ed@example.com", "status": "transactional"}
                ],
                "total_items": 1001,
            },
        )
        page = client.contacts_page(None)
        last = client.contacts_page(page.next_cursor)
    assert page.next_cursor == "1000" and len(page.profiles) == 1000
    assert page.profiles[:4] == [
        RemoteProfile(
            "ann@example.com",
            "h1",
            {
                "FNAME": "Ann",
                "LNAME": "Lee",
                "INTEREST": "growth",
                "timestamp_signup": "2024-01-15T09:30:00+00:00",
            },
            "subscribed",
        ),
        RemoteProfile("bob@example.com", "h2", {}, "unsubscribed"),
        RemoteProfile("cy@example.com", "h3", {}, "cleaned"),
        RemoteProfile("di@example.com", "h4", {}, ""),  # pending: no consent yet
    ]
    assert last == ContactPage([RemoteProfile("ed@example.com", "h5", {}, "")], None)


def test_an_empty_audience_is_one_empty_last_page(client):
    with strict() as rsps:
        rsps.get(URL, match=[query(0)], json={"members": [], "total_items": 0})
        assert client.contacts_page(None) == ContactPage([], None)
