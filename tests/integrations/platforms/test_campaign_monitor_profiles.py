"""Campaign Monitor's list read for a profile import, state by state: `GET /lists/{listid}/
active.json`, then unsubscribed, bounced and deleted, each paged by `page` and `pagesize`
(../shared/platforms/campaign_monitor.md §3, §6, §12; it publishes no machine-readable spec)."""

from __future__ import annotations

import base64

import pytest
from responses import matchers

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.types import RemoteProfile
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://api.createsend.com/api/v3.3"
KEY = "cm-test-api-key-0123456789"
LIST = "b" * 32
AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode()}
)


@pytest.fixture
def client(make_integration):
    credentials = {"api_key": KEY, "client_id": "a" * 32, "list_id": LIST}
    return CampaignMonitorClient(make_integration("campaign_monitor", credentials=credentials))


def envelope(rows, page, pages):
    return {
        "Results": rows,
        "ResultsOrderedBy": "email",
        "OrderDirection": "asc",
        "PageNumber": page,
        "PageSize": 1000,
        "RecordsOnThisPage": len(rows),
        "TotalNumberOfRecords": len(rows),
        "NumberOfPages": pages,
    }


def row(email, state, name="", fields=()):
    return {
        "EmailAddress": email,
        "Name": name,
        "Date": "2024-01-10 08:00:00",
        "ListJoinedDate": "2024-01-10 08:00:00",
        "State": state,
        "CustomFields": [{"Key": k, "Value": v} for k, v in fields],
        "ReadsEmailWith": "",
    }


def serve(rsps, state, page, answer):
    rsps.get(
        f"{BASE}/lists/{LIST}/{state}.json",
        match=[
            AUTH,
            matchers.query_param_matcher(
                {"page": str(page), "pagesize": "1000", "orderfield": "email",
                 "orderdirection": "asc"}
            ),
        ],
        json=answer,
    )  # fmt: skip


def test_each_state_is_read_in_turn_page_by_page(client):
    with strict() as rsps:
        ann = row(
            "ann@example.com",
            "Active",
            "Ann Marie Lee",
            [("interest", "growth"), ("topics", "a"), ("topics", "b")],
        )
        serve(rsps, "active", 1, envelope([ann], 1, 2))
        serve(rsps, "active", 2, envelope([row("al@example.com", "Active")], 2, 2))
        serve(rsps, "unsubscribed", 1, envelope([row("bob@example.com", "Unsubscribed")], 1, 1))
        serve(rsps, "bounced", 1, envelope([], 1, 0))
        serve(rsps, "deleted", 1, envelope([row("del@example.com", "Deleted")], 1, 1))
        pages, cursor = [], None
        while True:
            page = client.contacts_page(cursor)
            pages.append(page)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert [p.next_cursor for p in pages] == [
        "active:2",
        "unsubscribed:1",
        "bounced:1",
        "deleted:1",
        None,
    ]
    assert pages[0].profiles == [
        RemoteProfile(
            "ann@example.com",
            "",
            {
                "name": "Ann Marie Lee",
                "first_name": "Ann",
                "last_name": "Marie Lee",
                "interest": "growth",
                "topics": ["a", "b"],
            },
            "subscribed",
        )
    ]
    statuses = [(p.email, p.status) for page in pages[1:] for p in page.profiles]
    assert statuses == [
        ("al@example.com", "subscribed"),
        ("bob@example.com", "unsubscribed"),
        ("del@example.com", "unsubscribed"),
    ]


def test_a_cursor_that_is_not_the_clients_is_refused(client):
    with strict(), pytest.raises(ValueError, match="Not a Campaign Monitor import cursor"):
        client.contacts_page("unconfirmed:1")
