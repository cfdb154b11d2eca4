"""Campaign Monitor client against strict `responses` mocks shaped like
../shared/platforms/campaign_monitor.md (Campaign Monitor publishes no machine-readable spec)."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField, Written
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://api.createsend.com/api/v3.3"
KEY = "cm-test-api-key-0123456789"
CLIENT = "a" * 32
LIST = "b" * 32
AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"{KEY}:x".encode()).decode()}
)
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
IMPORT = f"{BASE}/subscribers/{LIST}/import.json"
FIELDS = [
    {"FieldName": "interest", "Key": "[interest]", "DataType": "Text", "FieldOptions": []},
    {"FieldName": "score", "Key": "[score]", "DataType": "Number", "FieldOptions": []},
    {"FieldName": "renewal", "Key": "[renewal]", "DataType": "Date", "FieldOptions": []},
    {"FieldName": "topics", "Key": "[topics]", "DataType": "MultiSelectMany"},
]
OK_RESULT = {
    "FailureDetails": [],
    "TotalUniqueEmailsSubmitted": 1,
    "TotalExistingSubscribers": 0,
    "TotalNewSubscribers": 1,
    "DuplicateEmailsInSubmission": [],
}


@pytest.fixture
def client(make_integration):
    integration = make_integration(
        "campaign_monitor",
        credentials={"api_key": KEY, "client_id": CLIENT, "list_id": LIST},
    )
    return CampaignMonitorClient(integration)


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def envelope(*subscribers):
    return {
        "Subscribers": list(subscribers),
        "Resubscribe": False,
        "QueueSubscriptionBasedAutoResponders": False,
        "RestartSubscriptionBasedAutoresponders": False,
    }


def add_fields(rsps):
    return rsps.get(f"{BASE}/lists/{LIST}/customfields.json", match=[AUTH], json=FIELDS)


# --- test_connection -----------------------------------------------------------------------------


def test_connection_ok_with_an_account_key(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/systemdate.json", match=[AUTH], json={"SystemDate": "2024-01-01 10:00:00"}
        )
        rsps.get(f"{BASE}/clients.json", match=[AUTH], json=[{"ClientID": CLIENT, "Name": "Demo"}])
        rsps.get(
            f"{BASE}/clients/{CLIENT}/lists.json",
            match=[AUTH],
            json=[{"ListID": LIST, "Name": "Readers"}],
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == f"Readers (client {CLIENT})"
    assert "account API key" in report.detail


def test_connection_ok_with_a_client_key(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/systemdate.json", json={"SystemDate": "2024-01-01 10:00:00"})
        rsps.get(
            f"{BASE}/clients.json", status=401, json={"Code": 100, "Message": "Invalid API Key"}
        )
        rsps.get(f"{BASE}/clients/{CLIENT}/lists.json", json=[{"ListID": LIST, "Name": "R"}])
        report = client.test_connection()
    assert report.ok is True
    assert "client API key" in report.detail


def test_connection_bad_key(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/systemdate.json", status=401, json={"Code": 100, "Message": "Invalid API Key"}
        )
        report = client.test_connection()
    assert report.ok is False and report.can_write is None
    assert "refused the API key" in report.detail
    assert KEY not in report.detail


def test_connection_unknown_client(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/systemdate.json", json={"SystemDate": "x"})
        rsps.get(f"{BASE}/clients.json", json=[{"ClientID": "c" * 32, "Name": "Other"}])
        report = client.test_connection()
    assert report.ok is False
    assert f"no client with the ID {CLIENT}" in report.detail
    assert "Other" in report.detail


def test_connection_client_key_of_another_client(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/systemdate.json", json={"SystemDate": "x"})
        rsps.get(f"{BASE}/clients.json", status=401, json={"Code": 100, "Message": "Invalid"})
        rsps.get(
            f"{BASE}/clients/{CLIENT}/lists.json",
            status=401,
            json={"Code": 100, "Message": "Invalid API Key"},
        )
        report = client.test_connection()
    assert report.ok is False
    assert "client API key of another client" in report.detail


def test_connection_unknown_list(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/systemdate.json", json={"SystemDate": "x"})
        rsps.get(f"{BASE}/clients.json", json=[{"ClientID": CLIENT, "Name": "Demo"}])
        rsps.get(f"{BASE}/clients/{CLIENT}/lists.json", json=[{"ListID": "d" * 32, "Name": "X"}])
        report = client.test_connection()
    assert report.ok is False
    assert f"no list with the ID {LIST}" in report.detail


# --- fields --------------------------------------------------------------------------------------


def test_list_fields_strips_the_brackets(client):
    with strict() as rsps:
        add_fields(rsps)
        fields = client.list_fields()
    assert fields[:2] == [
        TargetField("email", "Email address", "email", required=True),
        TargetField("name", "Name", "string"),
    ]
    assert {f.key: f.type for f in fields[5:]} == {
        "interest": "string",
        "score": "number",
        "renewal": "date",
        "topics": "array",
    }


# --- upsert --------------------------------------------------------------------------------------


def test_import_body_shape(client):
    records = [
        rec(
            1,
            "ann@example.com",
            first_name="Ann",
            last_name="Lee",
            interest="growth",
            score=3,
            renewal=datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
            topics=["a", "b"],
            consent_to_track=True,
        ),
        rec(2, "bob@example.com", name="Bob B", renewal=date(2024, 2, 29), unknown="x"),
    ]
    expected = envelope(
        {
            "EmailAddress": "ann@example.com",
            "Name": "Ann Lee",
            "CustomFields": [
                {"Key": "interest", "Value": "growth"},
                {"Key": "score", "Value": "3"},
                {"Key": "renewal", "Value": "2024/01/02"},  # the UTC date of that moment
                {"Key": "topics", "Value": "a"},
                {"Key": "topics", "Value": "b"},
            ],
            "ConsentToTrack": "Yes",
        },
        {
            "EmailAddress": "bob@example.com",
            "Name": "Bob B",
            "CustomFields": [{"Key": "renewal", "Value": "2024/02/29"}],
            "ConsentToTrack": "Unchanged",
        },
    )
    with strict() as rsps:
        add_fields(rsps)
        rsps.post(
            IMPORT, match=[AUTH, JSON_BODY, matchers.json_params_matcher(expected)], status=201,
            json=OK_RESULT,
        )  # fmt: skip
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(1, Written.WRITTEN), (2, Written.WRITTEN)]
    assert client.warnings == ["Campaign Monitor's list has no field 'unknown'; not sent."]


def test_partial_failure_400_code_210_is_mapped_per_address(client):
    records = [rec(i, e) for i, e in enumerate(
        ["ok@example.com", "bad@example", "Gone@Example.com", "unsub@example.com", "x@example.com"]
    )]  # fmt: skip
    body = {
        "Code": 210,
        "Message": "Subscriber Import had some failures",
        "ResultData": {
            **OK_RESULT,
            "FailureDetails": [
                {"EmailAddress": "bad@example", "Code": 1, "Message": "Invalid Email Address"},
                {"EmailAddress": "gone@example.com", "Code": 204, "Message": "In Suppression List"},
                {"EmailAddress": "unsub@example.com", "Code": 299, "Message": "Is Unsubscribed"},
                {"EmailAddress": "x@example.com", "Code": 2, "Message": "Field value invalid"},
            ],
        },
    }
    with strict() as rsps:
        add_fields(rsps)
        rsps.post(IMPORT, status=400, json=body)
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome is Written.WRITTEN
    assert (results[1].outcome, results[1].code) == (Outcome.REJECTED_DATA, "1")
    assert results[1].hint == "Correct the email address."
    assert (results[2].outcome, results[2].code) == (Outcome.REJECTED_COMPLIANCE, "204")
    assert "suppression list" in results[2].hint
    assert results[3].outcome == Outcome.REJECTED_COMPLIANCE  # by its message
    assert results[4].outcome == Outcome.REJECTED_DATA


def test_a_400_other_than_210_rejects_the_batch(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.post(IMPORT, status=400, json={"Code": 213, "Message": "Too many subscribers"})
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert {(r.outcome, r.code) for r in results} == {(Outcome.REJECTED_DATA, "213")}
    assert "Too many subscribers" in results[0].message


def test_long_values_are_rejected_locally(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.post(
            IMPORT,
            match=[
                matchers.json_params_matcher(
                    envelope({"EmailAddress": "ok@example.com", "ConsentToTrack": "Unchanged"})
                )
            ],
            status=201,
            json=OK_RESULT,
        )
        results = client.upsert_contacts(
            [rec(1, "long@example.com", interest="x" * 251), rec(2, "ok@example.com")], True
        )
    assert (results[0].key, results[0].outcome) == (1, Outcome.REJECTED_DATA)
    assert results[1].outcome is Written.WRITTEN


def test_batches_of_at_most_1000(client):
    records = [rec(i, f"p{i}@example.com") for i in range(2500)]
    sizes = []

    def answer(request):
        sizes.append(len(json.loads(request.body)["Subscribers"]))
        return 201, {}, json.dumps(OK_RESULT)

    with strict() as rsps:
        add_fields(rsps)
        rsps.add_callback("POST", IMPORT, callback=answer)
        results = client.upsert_contacts(records, True)
    assert sizes == [1000, 1000, 500]
    assert len(results) == 2500


def test_import_rate_and_429_with_rate_limit_reset(client, fake_clock, monkeypatch):
    monkeypatch.setattr(
        CampaignMonitorClient,
        "limits",
        dataclasses.replace(CampaignMonitorClient.limits, batch_max_records=1),
    )
    with strict(registry=OrderedRegistry) as rsps:
        add_fields(rsps)
        rsps.post(
            IMPORT,
            status=429,
            headers={"X-RateLimit-Reset": "4", "X-RateLimit-Remaining": "0"},
            json={"Code": 429, "Message": "Rate limit exceeded"},
        )
        rsps.post(IMPORT, status=201, json=OK_RESULT)
        rsps.post(IMPORT, status=201, json=OK_RESULT)
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert [r.outcome for r in results] == [Written.WRITTEN] * 2
    # X-RateLimit-Reset said 4 s; then the import rate (2 a second) spaced the last call.
    assert fake_clock.sleeps == [pytest.approx(4.0), pytest.approx(0.5)]


def test_401_rejects_all_and_stops(client, monkeypatch):
    monkeypatch.setattr(
        CampaignMonitorClient,
        "limits",
        dataclasses.replace(CampaignMonitorClient.limits, batch_max_records=1),
    )
    with strict() as rsps:
        add_fields(rsps)
        only = rsps.post(IMPORT, status=401, json={"Code": 100, "Message": "Invalid API Key"})
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert only.call_count == 1
    assert [(r.outcome, r.code) for r in results] == [(Outcome.REJECTED_AUTH, "100")] * 2


# --- lists and segments --------------------------------------------------------------------------


def test_list_segments_and_counts(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/clients/{CLIENT}/lists.json",
            match=[AUTH],
            json=[{"ListID": LIST, "Name": "R"}],
        )
        rsps.get(
            f"{BASE}/clients/{CLIENT}/segments.json",
            match=[AUTH],
            json=[{"ListID": LIST, "SegmentID": "s" * 32, "Title": "Growth"}],
        )
        rsps.get(
            f"{BASE}/lists/{LIST}/stats.json",
            match=[AUTH],
            json={"TotalActiveSubscribers": 12, "TotalUnsubscribes": 3},
        )
        rsps.get(
            f"{BASE}/segments/{'s' * 32}/active.json",
            match=[AUTH, matchers.query_param_matcher({"page": "1", "pagesize": "10"})],
            json={"Results": [], "TotalNumberOfRecords": 5, "PageNumber": 1},
        )
        assert client.list_segments() == [
            RemoteSegment(f"list:{LIST}", "R", kind="list"),
            RemoteSegment(f"segment:{'s' * 32}", "Growth", kind="segment"),
        ]
        assert client.segment_member_count(f"list:{LIST}") == 12
        assert client.segment_member_count(f"segment:{'s' * 32}") == 5


# --- delete and export ---------------------------------------------------------------------------


def test_delete_is_the_soft_delete(client):
    with strict() as rsps:
        rsps.delete(
            f"{BASE}/subscribers/{LIST}.json",
            match=[AUTH, matchers.query_param_matcher({"email": "a@example.com"})],
        )
        client.delete_contact("a@example.com")


def test_delete_of_an_unknown_subscriber_is_a_no_op(client):
    with strict() as rsps:
        rsps.delete(
            f"{BASE}/subscribers/{LIST}.json",
            status=400,
            json={"Code": 203, "Message": "Subscriber not in list"},
        )
        client.delete_contact("a@example.com")


def test_delete_other_errors_raise(client):
    with strict() as rsps:
        rsps.delete(
            f"{BASE}/subscribers/{LIST}.json",
            status=400,
            json={"Code": 101, "Message": "Invalid ListID"},
        )
        with pytest.raises(ValidationFailed):
            client.delete_contact("a@example.com")


def test_export_contact(client):
    subscriber = {"EmailAddress": "a@example.com", "Name": "A", "State": "Active"}
    lists = [{"ListID": LIST, "ListName": "R", "SubscriberState": "Active"}]
    history = [{"ID": "c1", "Type": "Campaign", "Name": "Issue 1", "Actions": []}]
    with strict() as rsps:
        rsps.get(
            f"{BASE}/subscribers/{LIST}.json",
            match=[
                matchers.query_param_matcher(
                    {"email": "a@example.com", "includetrackingpreference": "true"}
                )
            ],
            json=subscriber,
        )
        rsps.get(
            f"{BASE}/clients/{CLIENT}/listsforemail.json",
            match=[matchers.query_param_matcher({"email": "a@example.com"})],
            json=lists,
        )
        rsps.get(f"{BASE}/subscribers/{LIST}/history.json", json=history)
        assert client.export_contact("a@example.com") == {
            "found": True,
            "subscriber": subscriber,
            "lists": lists,
            "history": history,
        }


def test_export_unknown(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/subscribers/{LIST}.json",
            status=400,
            json={"Code": 203, "Message": "Subscriber not in list"},
        )
        assert client.export_contact("a@example.com")["found"] is False


def test_format_value_dates():
    client = CampaignMonitorClient.__new__(CampaignMonitorClient)
    assert client.format_value(datetime(2024, 3, 1, 1, 0)) == "2024/03/01"
    assert client.format_value(datetime(2024, 3, 1, 1, 0, tzinfo=UTC)) == "2024/03/01"
    assert client.format_value(date(1999, 12, 31)) == "1999/12/31"
    assert client.format_value(5) == 5
