"""The Campaign Monitor emulator: Basic-auth keys (account and client), the list's custom
fields and stats, segments with counts, the import with its 400 / Code 210 partial results."""

from __future__ import annotations

import base64
import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.campaign_monitor import (
    CLIENT_ID,
    DEMO_LIST_ID,
    OTHER_CLIENT_ID,
    segment_id,
)
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db

V = "/sandbox/campaign_monitor/api.createsend.com/api/v3.3"
ACCOUNT = "sandbox-cm-account"


def basic(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:x".encode()).decode()}


ACCOUNT_KEY = basic("sandbox-cm-account-key")
CLIENT_KEY = basic("sandbox-cm-client-key")
OTHER_KEY = basic("sandbox-cm-other-client-key")


@pytest.fixture(autouse=True)
def seeded():
    registry.seed("campaign_monitor")


@pytest.fixture
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


def subscriber(email, **custom):
    entry = {"EmailAddress": email, "Name": "N", "ConsentToTrack": "Unchanged"}
    if custom:
        entry["CustomFields"] = [{"Key": k, "Value": v} for k, v in custom.items()]
    return entry


def do_import(client, subscribers, headers=ACCOUNT_KEY, list_ref=DEMO_LIST_ID, **extra):
    return client.post(
        f"{V}/subscribers/{list_ref}/import.json",
        data=orjson.dumps({"Subscribers": subscribers, "Resubscribe": False, **extra}),
        content_type="application/json",
        headers=headers,
    )


def stored() -> dict[str, dict]:
    rows = SandboxContact.objects.filter(platform="campaign_monitor", account=ACCOUNT)
    return {row.identifier: row.attributes for row in rows}


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, basic("wrong"), {"Authorization": "Bearer sandbox-cm-account-key"}],
        ids=["none", "wrong", "bearer"],
    )
    def test_refused(self, client, headers):
        for response in (
            client.get(f"{V}/systemdate.json", headers=headers),
            do_import(client, [subscriber("a@example.com")], headers=headers),
        ):
            assert response.status_code == 401
            assert response.json() == {"Code": 100, "Message": "Invalid API Key"}
        assert not SandboxContact.objects.exists()

    def test_account_key_lists_clients_a_client_key_cannot(self, client):
        clients = client.get(f"{V}/clients.json", headers=ACCOUNT_KEY).json()
        assert [c["ClientID"] for c in clients] == [CLIENT_ID, OTHER_CLIENT_ID]
        assert client.get(f"{V}/clients.json", headers=CLIENT_KEY).status_code == 401
        lists = client.get(f"{V}/clients/{CLIENT_ID}/lists.json", headers=CLIENT_KEY).json()
        assert lists == [{"ListID": DEMO_LIST_ID, "Name": "SharpSend readers"}]
        assert (
            do_import(client, [subscriber("a@example.com")], headers=CLIENT_KEY).status_code == 201
        )

    def test_client_key_of_another_client_is_refused(self, client):
        assert (
            client.get(f"{V}/clients/{CLIENT_ID}/lists.json", headers=OTHER_KEY).status_code == 401
        )
        assert (
            do_import(client, [subscriber("a@example.com")], headers=OTHER_KEY).status_code == 401
        )
        assert (
            client.get(f"{V}/clients/{'f' * 32}/lists.json", headers=ACCOUNT_KEY).json()["Code"]
            == 102
        )


class TestImport:
    def test_creates_then_updates(self, client):
        response = do_import(client, [subscriber("Ann@Example.com", interest="growth")])
        assert response.status_code == 201
        assert response.json() == {
            "FailureDetails": [],
            "TotalUniqueEmailsSubmitted": 1,
            "TotalExistingSubscribers": 0,
            "TotalNewSubscribers": 1,
            "DuplicateEmailsInSubmission": [],
        }
        again = do_import(client, [subscriber("ann@example.com", plan="pro")]).json()
        assert (again["TotalExistingSubscribers"], again["TotalNewSubscribers"]) == (1, 0)
        assert stored()["ann@example.com"] == {
            "EmailAddress": "ann@example.com",
            "State": "Active",
            "Name": "N",
            "ConsentToTrack": "Unchanged",
            "interest": "growth",
            "plan": "pro",
        }

    def test_partial_failure_is_400_code_210(self, client):
        SandboxContact.objects.create(
            platform="campaign_monitor", account=ACCOUNT, identifier="gone@example.com",
            attributes={"State": "Active"}, suppressed=True,
        )  # fmt: skip
        response = do_import(
            client,
            [
                subscriber("ok@example.com"),
                subscriber("bad@example"),
                subscriber("gone@example.com"),
                subscriber("num@example.com", score="lots"),
                {"EmailAddress": "noconsent@example.com"},
            ],
        )
        assert response.status_code == 400
        body = response.json()
        assert (body["Code"], body["Message"]) == (210, "Subscriber Import had some failures")
        failures = {
            f["EmailAddress"]: (f["Code"], f["Message"])
            for f in body["ResultData"]["FailureDetails"]
        }
        assert failures == {
            "bad@example": (1, "Invalid Email Address"),
            "gone@example.com": (204, "In Suppression List"),
            "num@example.com": (1, "Value of score is not a number"),
            "noconsent@example.com": (1, "ConsentToTrack must be Yes, No or Unchanged"),
        }
        assert set(stored()) == {"ok@example.com", "gone@example.com"}

    def test_unsubscribed_stay_unsubscribed_without_resubscribe(self, client):
        SandboxContact.objects.create(
            platform="campaign_monitor", account=ACCOUNT, identifier="u@example.com",
            attributes={"State": "Unsubscribed"},
        )  # fmt: skip
        assert do_import(client, [subscriber("u@example.com", plan="x")]).status_code == 201
        assert stored()["u@example.com"]["State"] == "Unsubscribed"
        do_import(client, [subscriber("u@example.com")], Resubscribe=True)
        assert stored()["u@example.com"]["State"] == "Active"

    @pytest.mark.parametrize(
        ("subscribers", "code"),
        [([], 212), ([subscriber(f"p{i}@example.com") for i in range(1001)], 213)],
        ids=["empty", "over-1000"],
    )
    def test_sizes(self, client, subscribers, code):
        response = do_import(client, subscribers)
        assert response.status_code == 400 and response.json()["Code"] == code
        assert not SandboxContact.objects.exists()

    def test_long_value_and_unknown_list(self, client):
        body = do_import(client, [subscriber("a@example.com", interest="x" * 251)]).json()
        assert body["ResultData"]["FailureDetails"][0]["Code"] == 1
        assert do_import(client, [subscriber("a@example.com")], list_ref="e" * 32).json() == {
            "Code": 101,
            "Message": "Invalid ListID",
        }


class TestListsSegmentsSubscribers:
    def test_fields_stats_and_segments(self, client):
        fields = client.get(f"{V}/lists/{DEMO_LIST_ID}/customfields.json", headers=ACCOUNT_KEY)
        assert {f["Key"]: f["DataType"] for f in fields.json()} == {
            "[interest]": "Text",
            "[plan]": "Text",
            "[score]": "Number",
            "[renewal]": "Date",
        }
        do_import(
            client,
            [
                subscriber("g1@example.com", interest="growth"),
                subscriber("g2@example.com", interest="growth"),
                subscriber("d@example.com", interest="dividends"),
            ],
        )
        stats = client.get(f"{V}/lists/{DEMO_LIST_ID}/stats.json", headers=ACCOUNT_KEY).json()
        assert stats["TotalActiveSubscribers"] == 3
        segments = client.get(f"{V}/clients/{CLIENT_ID}/segments.json", headers=ACCOUNT_KEY).json()
        assert [s["Title"] for s in segments] == ["Growth Investors", "Dividend Income"]
        active = client.get(
            f"{V}/segments/{segment_id(2)}/active.json?page=1&pagesize=10", headers=ACCOUNT_KEY
        ).json()
        assert active["TotalNumberOfRecords"] == 2
        assert [r["EmailAddress"] for r in active["Results"]] == [
            "g1@example.com",
            "g2@example.com",
        ]
        bad = client.get(
            f"{V}/segments/{segment_id(2)}/active.json?pagesize=5", headers=ACCOUNT_KEY
        )
        assert bad.status_code == 400

    def test_details_and_soft_delete(self, client):
        do_import(client, [subscriber("a@example.com", plan="pro")])
        url = f"{V}/subscribers/{DEMO_LIST_ID}.json?email=A@example.com"
        details = client.get(url, headers=ACCOUNT_KEY).json()
        assert details["State"] == "Active"
        assert details["CustomFields"] == [{"Key": "plan", "Value": "pro"}]
        assert client.delete(url, headers=ACCOUNT_KEY).status_code == 200
        assert client.get(url, headers=ACCOUNT_KEY).json()["State"] == "Deleted"
        stats = client.get(f"{V}/lists/{DEMO_LIST_ID}/stats.json", headers=ACCOUNT_KEY).json()
        assert (stats["TotalActiveSubscribers"], stats["TotalDeleted"]) == (0, 1)
        missing = client.get(
            f"{V}/subscribers/{DEMO_LIST_ID}.json?email=x@example.com", headers=ACCOUNT_KEY
        )
        assert missing.json()["Code"] == 203


class TestRateLimits:
    def test_import_allows_2_a_second_with_rate_limit_headers(self, client, sandbox_time):
        for i in range(2):
            assert do_import(client, [subscriber(f"p{i}@example.com")]).status_code == 201
        response = do_import(client, [subscriber("late@example.com")])
        assert response.status_code == 429
        assert response.headers["Retry-After"] == response.headers["X-RateLimit-Reset"]
        assert response.headers["X-RateLimit-Remaining"] == "0"
        assert "late@example.com" not in stored()
        sandbox_time.now += 1
        assert do_import(client, [subscriber("late@example.com")]).status_code == 201

    def test_faults_come_after_auth(self, client):
        emulation.set_faults("campaign_monitor", throttle_next=1)
        assert (
            do_import(client, [subscriber("a@example.com")], headers=basic("x")).status_code == 401
        )
        assert do_import(client, [subscriber("a@example.com")]).status_code == 429


def test_the_list_is_read_state_by_state_with_pages(client):
    for index, state in enumerate(["Active", "Active", "Unsubscribed", "Bounced", "Deleted"]):
        SandboxContact.objects.create(
            platform="campaign_monitor", account=ACCOUNT, identifier=f"r{index}@example.com",
            attributes={"EmailAddress": f"r{index}@example.com", "State": state, "Name": "R"},
        )  # fmt: skip
    SandboxContact.objects.create(
        platform="campaign_monitor", account=ACCOUNT, identifier="held@example.com",
        attributes={"EmailAddress": "held@example.com"}, suppressed=True,
    )  # fmt: skip
    url = f"{V}/lists/{DEMO_LIST_ID}"
    first = client.get(f"{url}/active.json", {"pagesize": 10}, headers=ACCOUNT_KEY).json()
    assert [r["EmailAddress"] for r in first["Results"]] == ["r0@example.com", "r1@example.com"]
    assert (first["PageNumber"], first["NumberOfPages"], first["TotalNumberOfRecords"]) == (1, 1, 2)
    for state, email in (
        ("unsubscribed", "r2@example.com"),
        ("bounced", "r3@example.com"),
        ("deleted", "r4@example.com"),
    ):
        answer = client.get(f"{url}/{state}.json", headers=ACCOUNT_KEY).json()
        assert [r["EmailAddress"] for r in answer["Results"]] == [email]
        assert answer["Results"][0]["State"] == state.capitalize()
    assert client.get(f"{url}/unconfirmed.json", headers=ACCOUNT_KEY).json()["Results"] == []
    assert client.get(f"{url}/active.json", {"pagesize": 5}, headers=ACCOUNT_KEY).status_code == 400
    assert client.get(f"{url}/active.json", {"page": 0}, headers=ACCOUNT_KEY).status_code == 400
    other = client.get(f"{V}/lists/{'0' * 32}/active.json", headers=ACCOUNT_KEY)
    assert other.json()["Code"] == 101


def test_a_segment_s_active_subscribers_are_paged_like_the_list_s(client):
    """The segment's rule (interest = growth) over the list's active subscribers, by pages."""
    for index in range(12):
        SandboxContact.objects.create(
            platform="campaign_monitor", account=ACCOUNT, identifier=f"g{index:02}@example.com",
            attributes={"EmailAddress": f"g{index:02}@example.com", "State": "Active",
                        "interest": "growth"},
        )  # fmt: skip
    for email, attributes, suppressed in (
        ("gone@example.com", {"State": "Unsubscribed", "interest": "growth"}, False),
        ("held@example.com", {"State": "Active", "interest": "growth"}, True),
        ("div@example.com", {"State": "Active", "interest": "dividends"}, False),
        ("nostate@example.com", {"interest": "growth"}, False),
    ):
        SandboxContact.objects.create(
            platform="campaign_monitor", account=ACCOUNT, identifier=email,
            attributes={"EmailAddress": email, **attributes}, suppressed=suppressed,
        )  # fmt: skip
    url = f"{V}/segments/{segment_id(2)}/active.json"
    query = {"pagesize": 10, "orderfield": "email", "orderdirection": "asc"}
    first = client.get(url, {**query, "page": 1}, headers=ACCOUNT_KEY).json()
    second = client.get(url, {**query, "page": 2}, headers=ACCOUNT_KEY).json()
    wanted = [f"g{index:02}@example.com" for index in range(12)] + ["nostate@example.com"]
    assert [r["EmailAddress"] for r in first["Results"] + second["Results"]] == wanted
    assert {r["State"] for r in first["Results"] + second["Results"]} == {"Active"}
    assert (first["PageNumber"], first["PageSize"], first["RecordsOnThisPage"]) == (1, 10, 10)
    assert (second["PageNumber"], second["RecordsOnThisPage"]) == (2, 3)
    assert (first["TotalNumberOfRecords"], first["NumberOfPages"]) == (13, 2)
    assert (first["ResultsOrderedBy"], first["OrderDirection"]) == ("email", "asc")
    unknown = client.get(f"{V}/segments/{'0' * 32}/active.json", headers=ACCOUNT_KEY)
    assert (unknown.status_code, unknown.json()["Code"]) == (400, 103)
