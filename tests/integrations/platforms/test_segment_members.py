"""Reading a platform segment's members, page by page: the exact requests each platform's
fact sheet gives (docs/platforms/<slug>.md) and the pages the console makes of the answers."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.errors import UnsupportedCapability
from integrations.platforms.kit import KitClient
from integrations.platforms.mailchimp import MailchimpClient
from integrations.platforms.types import MemberPage
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")


@pytest.fixture
def customerio(make_integration):
    credentials = {"site_id": "s", "track_api_key": "t", "app_api_key": "app-key-test"}
    return CustomerIoClient(make_integration("customerio", region="us", credentials=credentials))


def test_customerio_membership_pages_by_its_opaque_cursor(customerio):
    url = "https://api.customer.io/v1/segments/7/membership"
    auth = matchers.header_matcher({"Authorization": "Bearer app-key-test"})
    with strict() as rsps:
        rsps.get(
            url,
            match=[auth, matchers.query_param_matcher({"limit": "5000"})],
            json={
                "identifiers": [
                    {"email": "ann@example.com", "id": "ann@example.com", "cio_id": "a1"},
                    {"email": None, "id": "42", "cio_id": "a2"},
                ],
                "ids": ["ann@example.com", "42"],
                "next": "MTIz",
            },
        )
        rsps.get(
            url,
            match=[auth, matchers.query_param_matcher({"limit": "5000", "start": "MTIz"})],
            json={
                "identifiers": [{"email": "bob@example.com", "id": None, "cio_id": "a3"}],
                "next": "",
            },
        )
        first = customerio.segment_members("7", None)
        last = customerio.segment_members("7", first.next_cursor)
    assert first == MemberPage([("ann@example.com", "ann@example.com"), ("", "42")], "MTIz")
    assert last == MemberPage([("bob@example.com", "a3")], None)


def test_customerio_id_only_workspaces_answer_legacy_ids(customerio):
    with strict() as rsps:
        rsps.get("https://api.customer.io/v1/segments/7/membership", json={"ids": ["9", "10"]})
        page = customerio.segment_members("7", None)
    assert page == MemberPage([("", "9"), ("", "10")], None)


@pytest.fixture
def mailchimp(make_integration):
    credentials = {"api_key": "0123456789abcdef0123456789abcdef-us6", "list_id": "abc123"}
    return MailchimpClient(make_integration("mailchimp", region="auto", credentials=credentials))


def test_mailchimp_segment_members_page_by_offset_until_total_items(mailchimp):
    url = "https://us6.api.mailchimp.com/3.0/lists/abc123/segments/55/members"
    fields = "members.email_address,members.id,total_items"
    with strict() as rsps:
        rsps.get(
            url,
            match=[
                matchers.query_param_matcher({"count": "1000", "offset": "0", "fields": fields})
            ],
            json={
                "members": [
                    {"email_address": f"r{i}@example.com", "id": f"h{i}"} for i in range(1000)
                ],
                "total_items": 1001,
            },
        )
        rsps.get(
            url,
            match=[
                matchers.query_param_matcher({"count": "1000", "offset": "1000", "fields": fields})
            ],
            json={
                "members": [{"email_address": "last@example.com", "id": "hl"}],
                "total_items": 1001,
            },
        )
        first = mailchimp.segment_members("55", None)
        last = mailchimp.segment_members("55", first.next_cursor)
    assert len(first.members) == 1000 and first.next_cursor == "1000"
    assert last == MemberPage([("last@example.com", "hl")], None)


@pytest.fixture
def kit(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": "kit-test-v4-key-000"}))


def test_kit_tag_subscribers_page_by_end_cursor(kit):
    url = "https://api.kit.com/v4/tags/12/subscribers"
    auth = matchers.header_matcher({"X-Kit-Api-Key": "kit-test-v4-key-000"})
    with strict() as rsps:
        rsps.get(
            url,
            match=[auth, matchers.query_param_matcher({"per_page": "1000"})],
            json={
                "subscribers": [{"id": 3, "email_address": "ann@example.com"}],
                "pagination": {"has_next_page": True, "end_cursor": "WzNd", "per_page": 1000},
            },
        )
        rsps.get(
            url,
            match=[auth, matchers.query_param_matcher({"per_page": "1000", "after": "WzNd"})],
            json={
                "subscribers": [{"id": 4, "email_address": "bob@example.com"}],
                "pagination": {"has_next_page": False, "end_cursor": "WzRd", "per_page": 1000},
            },
        )
        first = kit.segment_members("tag:12", None)
        last = kit.segment_members("tag:12", first.next_cursor)
    assert first == MemberPage([("ann@example.com", "3")], "WzNd")
    assert last == MemberPage([("bob@example.com", "4")], None)


def test_kit_segments_have_no_member_list_and_say_so(kit):
    with strict(), pytest.raises(UnsupportedCapability, match="not of a segment"):
        kit.segment_members("segment:5", None)
