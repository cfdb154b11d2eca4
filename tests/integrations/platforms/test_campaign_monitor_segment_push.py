"""Campaign Monitor lists as pushed segments: strict `responses` mocks with the fact sheet's
shapes (../shared/platforms/campaign_monitor.md §3 import, §6 create list and state lists, §9
delete; Campaign Monitor publishes no machine-readable spec)."""

from __future__ import annotations

import pytest
from responses import matchers

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.types import Capability, Outcome, RemoteSegment, SegmentMember
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_campaign_monitor import (
    AUTH,
    BASE,
    CLIENT,
    JSON_BODY,
    KEY,
    LIST,
)

pytestmark = pytest.mark.usefixtures("steady_retries")

PUSHED = "c" * 32
IMPORT = f"{BASE}/subscribers/{PUSHED}/import.json"


@pytest.fixture
def client(make_integration):
    integration = make_integration(
        "campaign_monitor",
        credentials={"api_key": KEY, "client_id": CLIENT, "list_id": LIST},
    )
    return CampaignMonitorClient(integration)


def members(*emails):
    return [SegmentMember(i + 1, email) for i, email in enumerate(emails)]


def import_body(*emails):
    return {
        "Subscribers": [{"EmailAddress": e, "ConsentToTrack": "Unchanged"} for e in emails],
        "Resubscribe": False,
        "QueueSubscriptionBasedAutoResponders": False,
        "RestartSubscriptionBasedAutoresponders": False,
    }


def counts(failures=(), existing=0, new=0, submitted=0):
    return {
        "FailureDetails": list(failures),
        "TotalUniqueEmailsSubmitted": submitted,
        "TotalExistingSubscribers": existing,
        "TotalNewSubscribers": new,
        "DuplicateEmailsInSubmission": [],
    }


def page(*rows, number=1, pages=1):
    return {
        "Results": list(rows),
        "ResultsOrderedBy": "email",
        "OrderDirection": "asc",
        "PageNumber": number,
        "PageSize": 1000,
        "RecordsOnThisPage": len(rows),
        "TotalNumberOfRecords": len(rows),
        "NumberOfPages": pages,
    }


def state_params(number=1):
    return matchers.query_param_matcher(
        {"page": str(number), "pagesize": "1000", "orderfield": "email", "orderdirection": "asc"}
    )


def test_the_push_is_declared_with_the_import_batch(client):
    for capability in (
        Capability.CREATE_SEGMENT,
        Capability.ADD_TO_SEGMENT,
        Capability.REMOVE_FROM_SEGMENT,
    ):
        assert client.supports(capability)
    assert client.segment_batch_max == 1000 == client.limits.batch_max_records
    assert client.segment_member_identifier == "email"


def test_create_segment_creates_a_list_of_the_client(client):
    body = {
        "Title": "Crypto readers",
        "UnsubscribePage": "",
        "ConfirmedOptIn": False,
        "ConfirmationSuccessPage": "",
        "UnsubscribeSetting": "AllClientLists",
    }
    with strict() as rsps:
        rsps.post(
            f"{BASE}/lists/{CLIENT}.json",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(body, strict_match=True)],
            json=PUSHED,
            status=201,
        )
        remote = client.create_segment("Crypto readers", "ignored: lists have no description")
    assert remote == RemoteSegment(f"list:{PUSHED}", "Crypto readers", "list")


def test_add_imports_the_batch_without_resubscribing(client):
    with strict() as rsps:
        rsps.post(
            IMPORT,
            match=[
                AUTH,
                JSON_BODY,
                matchers.json_params_matcher(
                    import_body("ann@example.com", "bob@example.com"), strict_match=True
                ),
            ],
            json=counts(new=2, submitted=2),
            status=201,
        )
        results = client.add_to_segment(
            f"list:{PUSHED}", members("ann@example.com", " bob@example.com ")
        )
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.UPDATED), (2, Outcome.UPDATED)]


def test_a_partial_import_400_code_210_refuses_only_the_failed_addresses(client):
    failures = [
        {"EmailAddress": "not-an-email", "Code": 1, "Message": "Invalid Email Address"},
        {"EmailAddress": "Gone@Example.com", "Code": 204, "Message": "In Suppression List"},
    ]
    with strict() as rsps:
        rsps.post(
            IMPORT,
            match=[
                matchers.json_params_matcher(
                    import_body("ann@example.com", "not-an-email", "gone@example.com"),
                    strict_match=True,
                )
            ],
            json={
                "Code": 210,
                "Message": "Subscriber Import had some failures",
                "ResultData": counts(failures, new=1, submitted=2),
            },
            status=400,
        )
        ann, bad, gone = client.add_to_segment(
            PUSHED, members("ann@example.com", "not-an-email", "gone@example.com")
        )
    assert ann.outcome == Outcome.UPDATED
    assert (bad.outcome, bad.code, bad.message) == (
        Outcome.REJECTED_DATA,
        "1",
        "Invalid Email Address",
    )
    assert bad.hint == "Correct the email address."
    assert (gone.outcome, gone.code) == (Outcome.REJECTED_COMPLIANCE, "204")
    assert "suppression list" in gone.hint


def test_members_already_in_the_list_are_checked_against_its_inactive_states(client):
    """An import without Resubscribe leaves a reader the console removed earlier Deleted and
    says only 'existing': the list's state lists tell who, so no one is counted in wrongly."""
    with strict() as rsps:
        rsps.post(IMPORT, json=counts(existing=2, new=1, submitted=3), status=201)
        rsps.get(
            f"{BASE}/lists/{PUSHED}/deleted.json",
            match=[AUTH, state_params(1)],
            json=page({"EmailAddress": "a@example.com", "State": "Deleted"}, pages=2),
        )
        rsps.get(
            f"{BASE}/lists/{PUSHED}/deleted.json",
            match=[AUTH, state_params(2)],
            json=page({"EmailAddress": "Back@Example.com", "State": "Deleted"}, number=2, pages=2),
        )
        rsps.get(f"{BASE}/lists/{PUSHED}/unsubscribed.json", match=[state_params()], json=page())
        rsps.get(
            f"{BASE}/lists/{PUSHED}/bounced.json",
            match=[state_params()],
            json=page({"EmailAddress": "old@example.com", "State": "Bounced"}),
        )
        back, resent, old = client.add_to_segment(
            PUSHED, members("back@example.com", "resent@example.com", "old@example.com")
        )
    assert (back.outcome, back.code) == (Outcome.REJECTED_COMPLIANCE, "state_deleted")
    assert "never sends Resubscribe" in back.hint and "Deleted" in back.message
    assert resent.outcome == Outcome.UPDATED  # sent again after a crash: still active
    assert (old.outcome, old.code) == (Outcome.REJECTED_COMPLIANCE, "state_bounced")


def test_a_deleted_list_is_not_found_so_the_push_stops(client):
    with strict() as rsps:
        rsps.post(IMPORT, json={"Code": 101, "Message": "Invalid ListID"}, status=400)
        with pytest.raises(NotFound):
            client.add_to_segment(PUSHED, members("ann@example.com"))
        rsps.delete(
            f"{BASE}/subscribers/{PUSHED}.json",
            json={"Code": 101, "Message": "Invalid ListID"},
            status=400,
        )
        with pytest.raises(NotFound):
            client.remove_from_segment(PUSHED, members("ann@example.com"))


def test_an_import_refused_whole_raises(client):
    with strict() as rsps:
        rsps.post(IMPORT, json={"Code": 213, "Message": "Too many subscribers"}, status=400)
        with pytest.raises(ValidationFailed, match="Too many subscribers"):
            client.add_to_segment(PUSHED, members("ann@example.com"))


def test_remove_deletes_each_member_from_the_pushed_list_only(client):
    with strict() as rsps:
        for email in ("ann@example.com", "bob@example.com"):
            rsps.delete(
                f"{BASE}/subscribers/{PUSHED}.json",
                match=[AUTH, matchers.query_param_matcher({"email": email})],
                status=200,
            )
        rsps.delete(
            f"{BASE}/subscribers/{PUSHED}.json",
            match=[matchers.query_param_matcher({"email": "never@example.com"})],
            json={"Code": 203, "Message": "Subscriber not in list"},
            status=400,
        )
        rsps.delete(
            f"{BASE}/subscribers/{PUSHED}.json",
            match=[matchers.query_param_matcher({"email": "odd@example.com"})],
            json={"Code": 1, "Message": "Invalid Email Address"},
            status=400,
        )
        results = client.remove_from_segment(
            f"list:{PUSHED}",
            members("ann@example.com", "bob@example.com", "never@example.com", "odd@example.com"),
        )
    assert [r.outcome for r in results] == [
        Outcome.UPDATED,
        Outcome.UPDATED,
        Outcome.UNCHANGED,
        Outcome.REJECTED_DATA,
    ]
    assert results[3].code == "1"
    sent = [c.request.url for c in rsps.calls]
    assert not any(LIST in url or "unsubscribe" in url for url in sent)  # never the main list


def test_a_throttled_remove_is_that_member_s_alone(client, settings):
    with strict() as rsps:
        rsps.delete(
            f"{BASE}/subscribers/{PUSHED}.json",
            match=[matchers.query_param_matcher({"email": "ann@example.com"})],
            json={"Code": 429, "Message": "Rate limit exceeded"},
            status=429,
            headers={"X-RateLimit-Reset": "1"},
        )
        rsps.delete(
            f"{BASE}/subscribers/{PUSHED}.json",
            match=[matchers.query_param_matcher({"email": "bob@example.com"})],
            status=200,
        )
        ann, bob = client.remove_from_segment(PUSHED, members("ann@example.com", "bob@example.com"))
    assert ann.outcome == Outcome.THROTTLED and bob.outcome == Outcome.UPDATED
