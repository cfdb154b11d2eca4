"""Who is in a Campaign Monitor list or segment: `GET /lists/{listid}/active.json` or
`GET /segments/{segmentid}/active.json`, paged by `page` (from 1) and `pagesize` (10–1000),
ordered by email (../shared/platforms/campaign_monitor.md §6, §12)."""

from __future__ import annotations

import base64

import pytest
from responses import matchers

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.campaign_monitor import members as cm_members
from integrations.platforms.errors import NotFound
from integrations.platforms.types import Capability, MemberPage
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://api.createsend.com/api/v3.3"
KEY = "cm-test-api-key-0123456789"
LIST = "b" * 32
SEGMENT = "5e6d" + "0" * 28
AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode()}
)


@pytest.fixture
def client(make_integration):
    credentials = {"api_key": KEY, "client_id": "a" * 32, "list_id": LIST}
    return CampaignMonitorClient(make_integration("campaign_monitor", credentials=credentials))


def envelope(emails, page, pages, size=1000, total=None):
    return {
        "Results": [
            {
                "EmailAddress": email,
                "Name": "",
                "Date": "2024-01-10 08:00:00",
                "ListJoinedDate": "2024-01-10 08:00:00",
                "State": "Active",
                "CustomFields": [],
                "ReadsEmailWith": "",
            }
            for email in emails
        ],
        "ResultsOrderedBy": "email",
        "OrderDirection": "asc",
        "PageNumber": page,
        "PageSize": size,
        "RecordsOnThisPage": len(emails),
        "TotalNumberOfRecords": total if total is not None else len(emails),
        "NumberOfPages": pages,
    }


def serve(rsps, path, page, answer, size=1000, status=200):
    query = {"page": str(page), "pagesize": str(size), "orderfield": "email",
             "orderdirection": "asc"}  # fmt: skip
    rsps.get(
        f"{BASE}{path}",
        match=[AUTH, matchers.query_param_matcher(query)],
        json=answer,
        status=status,
    )


def test_declared():
    assert CampaignMonitorClient.capabilities >= {Capability.LIST_SEGMENT_MEMBERS}


def test_a_segment_is_read_page_by_page_until_its_last(client):
    path = f"/segments/{SEGMENT}/active.json"
    with strict() as rsps:
        serve(rsps, path, 1, envelope(["ann@example.com", "bo@example.com"], 1, 2, total=3))
        serve(rsps, path, 2, envelope(["cy@example.com"], 2, 2, total=3))
        first = client.segment_members(f"segment:{SEGMENT}", None)
        last = client.segment_members(f"segment:{SEGMENT}", first.next_cursor)
    assert first == MemberPage([("ann@example.com", ""), ("bo@example.com", "")], "2")
    assert last == MemberPage([("cy@example.com", "")], None)


def test_a_list_imported_or_pushed_reads_its_active_subscribers(client):
    pushed = "c" * 32
    with strict() as rsps:
        serve(rsps, f"/lists/{LIST}/active.json", 1, envelope(["ann@example.com"], 1, 1))
        serve(rsps, f"/lists/{pushed}/active.json", 3, envelope(["zed@example.com"], 3, 4))
        assert client.segment_members(f"list:{LIST}", None) == MemberPage(
            [("ann@example.com", "")], None
        )
        # A pushed list's remote id is "list:<ListID>" too; a refresh resumes at its page.
        assert client.segment_members(f"list:{pushed}", "3") == MemberPage(
            [("zed@example.com", "")], "4"
        )


def test_an_empty_segment_is_one_empty_page(client):
    with strict() as rsps:
        serve(rsps, f"/segments/{SEGMENT}/active.json", 1, envelope([], 1, 0))
        assert client.segment_members(f"segment:{SEGMENT}", None) == MemberPage([], None)


def test_the_page_size_is_the_module_s(client, monkeypatch):
    monkeypatch.setattr(cm_members, "MEMBERS_PER_PAGE", 10)
    with strict() as rsps:
        serve(rsps, f"/lists/{LIST}/active.json", 1, envelope(["a@example.com"], 1, 3), size=10)
        assert client.segment_members(f"list:{LIST}", None).next_cursor == "2"


def test_a_foreign_cursor_is_refused_before_any_call(client):
    with strict():
        with pytest.raises(ValueError):
            client.segment_members(f"list:{LIST}", "active:2")


def test_a_deleted_list_is_not_found(client):
    with strict() as rsps:
        serve(
            rsps,
            f"/lists/{LIST}/active.json",
            1,
            {"Code": 101, "Message": "Invalid ListID"},
            status=400,
        )
        with pytest.raises(NotFound):
            client.segment_members(f"list:{LIST}", None)
