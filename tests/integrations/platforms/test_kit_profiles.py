"""Kit subscribers read for a profile import: `GET /v4/subscribers` with status=all (the list
defaults to active ones) and v4 cursor paging (../shared/platforms/kit.md §3, §12)."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.kit import KitClient
from integrations.platforms.types import ContactPage, RemoteProfile
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

URL = "https://api.kit.com/v4/subscribers"
KEY = "kit-test-v4-key-000"
AUTH = matchers.header_matcher({"X-Kit-Api-Key": KEY})


@pytest.fixture
def client(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": KEY}))


def subscriber(id_, email, state, first_name=None, **fields):
    return {
        "id": id_,
        "first_name": first_name,
        "email_address": email,
        "state": state,
        "created_at": "2023-02-17T11:43:55Z",
        "fields": fields,
    }


def test_every_state_is_listed_page_by_page_with_custom_fields(client):
    with strict() as rsps:
        rsps.get(
            URL,
            match=[AUTH, matchers.query_param_matcher({"status": "all", "per_page": "1000"})],
            json={
                "subscribers": [
                    subscriber(1, "ann@example.com", "active", "Ann", last_name="Lee"),
                    subscriber(2, "bob@example.com", "cancelled"),
                ],
                "pagination": {"has_previous_page": False, "has_next_page": True,
                               "start_cursor": "WzFd", "end_cursor": "WzJd", "per_page": 1000},
            },
        )  # fmt: skip
        rsps.get(
            URL,
            match=[
                AUTH,
                matchers.query_param_matcher(
                    {"status": "all", "per_page": "1000", "after": "WzJd"}
                ),
            ],
            json={
                "subscribers": [
                    subscriber(3, "cy@example.com", "bounced"),
                    subscriber(4, "di@example.com", "complained"),
                    subscriber(5, "ed@example.com", "inactive"),
                ],
                "pagination": {"has_previous_page": True, "has_next_page": False,
                               "start_cursor": "WzNd", "end_cursor": "WzVd", "per_page": 1000},
            },
        )  # fmt: skip
        first = client.contacts_page(None)
        last = client.contacts_page(first.next_cursor)
    assert first == ContactPage(
        [
            RemoteProfile(
                "ann@example.com", "1", {"last_name": "Lee", "first_name": "Ann"}, "subscribed"
            ),
            RemoteProfile("bob@example.com", "2", {}, "unsubscribed"),
        ],
        "WzJd",
    )
    assert [p.status for p in last.profiles] == ["bounced", "complained", ""]
    assert last.next_cursor is None
