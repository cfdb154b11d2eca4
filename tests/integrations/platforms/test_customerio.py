"""Customer.io client against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/customerio.md)."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.models import ApiCall, Outcome
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.types import ContactRecord, RemoteSegment, Written
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

TRACK_US = "https://track.customer.io"
TRACK_EU = "https://track-eu.customer.io"
APP_US = "https://api.customer.io"
APP_EU = "https://api-eu.customer.io"

US_CREDS = {
    "site_id": "sandbox-site-us",
    "track_api_key": "sandbox-track-key-us",
    "app_api_key": "sandbox-app-key-us",
}
EU_CREDS = {
    "site_id": "sandbox-site-eu",
    "track_api_key": "sandbox-track-key-eu",
    "app_api_key": "sandbox-app-key-eu",
}


def basic(creds):
    token = base64.b64encode(f"{creds['site_id']}:{creds['track_api_key']}".encode()).decode()
    return matchers.header_matcher({"Authorization": f"Basic {token}"})


def bearer(creds):
    return matchers.header_matcher({"Authorization": f"Bearer {creds['app_api_key']}"})


JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})


@pytest.fixture
def client(make_integration):
    return CustomerIoClient(make_integration("customerio", region="us", credentials=dict(US_CREDS)))


@pytest.fixture
def eu_client(make_integration):
    return CustomerIoClient(make_integration("customerio", region="eu", credentials=dict(EU_CREDS)))


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


# --- test_connection -------------------------------------------------------------------------


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{TRACK_US}/api/v1/accounts/region",
            match=[basic(US_CREDS)],
            json={"url": "https://track.customer.io", "region": "us", "environment_id": 42},
        )
        rsps.get(
            f"{APP_US}/v1/workspaces",
            match=[bearer(US_CREDS)],
            json={
                "workspaces": [
                    {"id": 7, "name": "Other workspace"},
                    {"id": 42, "name": "Newsletter"},
                ]
            },
        )
        rsps.get(f"{APP_US}/v1/segments", match=[bearer(US_CREDS)], json={"segments": []})
        report = client.test_connection()
    assert report.ok is True
    assert report.can_write is True
    assert report.account == "Newsletter"
    assert report.region == "us"
    assert "Newsletter" in report.detail and "US" in report.detail
    assert report.permissions == {
        "upsert_contacts": True,
        "delete_contact": True,  # a Track API write, like the upsert
        "list_segments": True,
    }


def test_connection_in_the_eu_uses_the_eu_hosts(eu_client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{TRACK_EU}/api/v1/accounts/region",
            match=[basic(EU_CREDS)],
            json={"url": TRACK_EU, "region": "eu", "environment_id": 9},
        )
        rsps.get(
            f"{APP_EU}/v1/workspaces",
            match=[bearer(EU_CREDS)],
            json={"workspaces": [{"id": 9, "name": "EU ws"}]},
        )
        rsps.get(f"{APP_EU}/v1/segments", match=[bearer(EU_CREDS)], json={"segments": []})
        report = eu_client.test_connection()
    assert report.ok and report.account == "EU ws" and report.region == "eu"


def test_connection_wrong_region(client):
    with strict() as rsps:
        rsps.get(
            f"{TRACK_US}/api/v1/accounts/region",
            match=[basic(US_CREDS)],
            json={"url": TRACK_EU, "region": "eu", "environment_id": 42},
        )
        report = client.test_connection()
        assert len(rsps.calls) == 1  # stops before the App API
    assert report.ok is False
    assert report.region == "eu"
    assert "EU" in report.detail
    assert "Choose EU" in report.detail


def test_connection_bad_track_key(client):
    with strict() as rsps:
        rsps.get(f"{TRACK_US}/api/v1/accounts/region", status=401, body="")
        rsps.get(f"{TRACK_EU}/api/v1/accounts/region", status=401, body="")
        report = client.test_connection()
        assert len(rsps.calls) == 2  # 401 is not retried; the other region is asked once
    assert report.ok is False
    assert report.can_write is None
    assert "Site ID" in report.detail and "Track API key" in report.detail


def test_connection_credentials_of_the_other_region_are_named(make_integration):
    eu_client = make_integration("customerio", name="eu", region="eu").client()
    with strict() as rsps:
        rsps.get(f"{TRACK_EU}/api/v1/accounts/region", status=401, body="")
        rsps.get(
            f"{TRACK_US}/api/v1/accounts/region",
            json={"url": TRACK_US, "region": "us", "environment_id": 42},
        )
        report = eu_client.test_connection()
    assert report.ok is False
    assert report.region == "us"
    assert "US region" in report.detail and "set to EU" in report.detail


def test_207_error_without_entry_index_marks_the_batch_unknown(client):
    records = [
        ContactRecord(1, "email", "a@example.com", {"email": "a@example.com"}),
        ContactRecord(2, "email", "b@example.com", {"email": "b@example.com"}),
    ]
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=207,
            json={"errors": [{"batch_index": None, "reason": "internal", "message": "oops"}]},
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [r.outcome for r in results] == [Outcome.UNKNOWN, Outcome.UNKNOWN]
    assert results[0].code == "internal"


def test_connection_bad_app_key(client):
    with strict() as rsps:
        rsps.get(
            f"{TRACK_US}/api/v1/accounts/region",
            json={"url": TRACK_US, "region": "us", "environment_id": 42},
        )
        rsps.get(
            f"{APP_US}/v1/workspaces",
            status=401,
            json={"meta": {"error": "Unauthorized request"}},
        )
        report = client.test_connection()
    assert report.ok is False
    assert report.can_write is True
    assert "App API key" in report.detail
    assert "Track key works" in report.detail


def test_connection_app_key_that_cannot_read_segments(client):
    with strict() as rsps:
        rsps.get(
            f"{TRACK_US}/api/v1/accounts/region",
            json={"url": TRACK_US, "region": "us", "environment_id": 42},
        )
        rsps.get(f"{APP_US}/v1/workspaces", json={"workspaces": [{"id": 42, "name": "W"}]})
        rsps.get(f"{APP_US}/v1/segments", status=403, json={"meta": {"error": "scope"}})
        report = client.test_connection()
    assert report.ok is True
    assert report.permissions["list_segments"] is False
    assert "may not read segments" in report.detail


# --- upsert_contacts -------------------------------------------------------------------------


def test_upsert_body_shape_auth_and_unix_seconds(client):
    records = [
        rec(
            1,
            "ann@example.com",
            first_name="Ann",
            created_at=datetime(2024, 1, 1, tzinfo=UTC),
            unsubscribed=False,
        ),
        rec(
            2,
            "bob@example.com",
            # 02:00 at UTC+2 is midnight UTC; naive datetimes are taken as UTC.
            created_at=datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            last_opened_at=datetime(2024, 1, 2),
        ),
    ]
    expected = {
        "batch": [
            {
                "type": "person",
                "identifiers": {"email": "ann@example.com"},
                "action": "identify",
                "attributes": {
                    "first_name": "Ann",
                    "created_at": 1704067200,
                    "unsubscribed": False,
                },
            },
            {
                "type": "person",
                "identifiers": {"email": "bob@example.com"},
                "action": "identify",
                "attributes": {"created_at": 1704067200, "last_opened_at": 1704153600},
            },
        ]
    }
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            match=[basic(US_CREDS), JSON_BODY, matchers.json_params_matcher(expected)],
            body="",
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(1, Written.WRITTEN), (2, Written.WRITTEN)]
    call = ApiCall.objects.get()
    assert (call.surface, call.method, call.path, call.status_code) == (
        "track",
        "POST",
        "/api/v2/batch",
        200,
    )
    assert call.bytes_sent == len(json.dumps(expected, separators=(",", ":")))


def test_upsert_by_id_identifier(client):
    record = ContactRecord(5, "id", "42", {"id": "42", "email": "x@example.com"})
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            match=[
                matchers.json_params_matcher(
                    {
                        "batch": [
                            {
                                "type": "person",
                                "identifiers": {"id": "42"},
                                "action": "identify",
                                "attributes": {"email": "x@example.com"},
                            }
                        ]
                    }
                )
            ],
        )
        assert client.upsert_contacts([record], True)[0].outcome is Written.WRITTEN


def test_upsert_eu_goes_to_the_eu_track_host(eu_client):
    with strict() as rsps:
        rsps.post(f"{TRACK_EU}/api/v2/batch", match=[basic(EU_CREDS)])
        eu_client.upsert_contacts([rec(1, "a@example.com")], True)


def test_upsert_splits_by_bytes_below_500_kb(client):
    filler = "x" * 20_000  # ~20 KB a person, under the 32 KB entry limit
    records = [rec(i, f"p{i}@example.com", bio=filler) for i in range(60)]
    bodies = []

    def answer(request):
        bodies.append(request.body)
        return 200, {}, ""

    with strict() as rsps:
        rsps.add_callback("POST", f"{TRACK_US}/api/v2/batch", callback=answer)
        results = client.upsert_contacts(records, True)
    assert len(bodies) == 3  # 60 × 20 KB = 1.2 MB
    emails = []
    for body in bodies:
        assert len(body) < 500_000
        emails += [entry["identifiers"]["email"] for entry in json.loads(body)["batch"]]
    assert emails == [f"p{i}@example.com" for i in range(60)]
    assert [r.key for r in results] == list(range(60))
    assert {r.outcome for r in results} == {Written.WRITTEN}


def test_upsert_207_maps_batch_index_to_records(client):
    records = [rec(i, f"p{i}@example.com") for i in range(4)]
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=207,
            json={
                "errors": [
                    {
                        "batch_index": 1,
                        "reason": "invalid",
                        "field": "email",
                        "message": "email is not valid",
                    },
                    {
                        "batch_index": 3,
                        "reason": "suppressed",
                        "field": "identifiers",
                        "message": "person is suppressed",
                    },
                ]
            },
        )
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome is Written.WRITTEN
    assert results[2].outcome is Written.WRITTEN
    assert results[1].outcome == Outcome.REJECTED_DATA
    assert results[1].code == "invalid"
    assert "email is not valid" in results[1].message
    assert "email" in results[1].hint
    assert results[3].outcome == Outcome.REJECTED_COMPLIANCE
    assert results[3].code == "suppressed"


def test_upsert_207_indexes_are_per_request(client, monkeypatch):
    monkeypatch.setattr(
        CustomerIoClient,
        "limits",
        dataclasses.replace(CustomerIoClient.limits, batch_max_records=2),
    )
    records = [rec(i, f"p{i}@example.com") for i in range(4)]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{TRACK_US}/api/v2/batch", status=200)
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=207,
            json={"errors": [{"batch_index": 0, "reason": "bad", "field": "plan", "message": "x"}]},
        )
        results = {r.key: r.outcome for r in client.upsert_contacts(records, True)}
    assert results == {
        0: Written.WRITTEN,
        1: Written.WRITTEN,
        2: Outcome.REJECTED_DATA,
        3: Written.WRITTEN,
    }


def test_an_entry_over_32_kb_is_rejected_without_sending(client):
    big = rec(1, "big@example.com", bio="x" * 33_000)
    small = rec(2, "small@example.com", bio="ok")
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            match=[
                matchers.json_params_matcher(
                    {
                        "batch": [
                            {
                                "type": "person",
                                "identifiers": {"email": "small@example.com"},
                                "action": "identify",
                                "attributes": {"bio": "ok"},
                            }
                        ]
                    }
                )
            ],
        )
        results = {r.key: r for r in client.upsert_contacts([big, small], True)}
    assert results[1].outcome == Outcome.REJECTED_DATA
    assert results[1].code == "entry_too_large"
    assert results[2].outcome is Written.WRITTEN


def test_only_oversized_entries_means_no_call(client):
    with strict(assert_all_requests_are_fired=False) as rsps:
        results = client.upsert_contacts([rec(1, "big@example.com", bio="x" * 40_000)], True)
        assert len(rsps.calls) == 0
    assert [r.outcome for r in results] == [Outcome.REJECTED_DATA]


def test_a_401_rejects_every_record_and_stops_sending(client, monkeypatch):
    monkeypatch.setattr(
        CustomerIoClient,
        "limits",
        dataclasses.replace(CustomerIoClient.limits, batch_max_records=2),
    )
    records = [rec(i, f"p{i}@example.com") for i in range(6)]
    with strict() as rsps:
        only = rsps.post(f"{TRACK_US}/api/v2/batch", status=401, body="")
        results = client.upsert_contacts(records, True)
    assert only.call_count == 1  # later groups not sent, 401 not retried
    assert [r.key for r in results] == list(range(6))
    assert {r.outcome for r in results} == {Outcome.REJECTED_AUTH}


def test_a_400_rejects_the_batch_as_data_and_carries_on(client, monkeypatch):
    monkeypatch.setattr(
        CustomerIoClient,
        "limits",
        dataclasses.replace(CustomerIoClient.limits, batch_max_records=2),
    )
    records = [rec(i, f"p{i}@example.com") for i in range(4)]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=400,
            json={"errors": [{"reason": "invalid", "field": "batch", "message": "malformed"}]},
        )
        rsps.post(f"{TRACK_US}/api/v2/batch", status=200)
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome == results[1].outcome == Outcome.REJECTED_DATA
    assert results[0].code == "invalid"
    assert "malformed" in results[0].message
    assert results[2].outcome is results[3].outcome is Written.WRITTEN


def test_a_track_key_echoed_in_an_error_is_redacted(client):
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            status=400,
            json={"meta": {"error": "bad credentials sandbox-track-key-us for site"}},
        )
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert "sandbox-track-key-us" not in results[0].message
    assert "[redacted]" in results[0].message


def test_a_429_storm_marks_the_batch_throttled(client):
    with strict() as rsps:
        storm = rsps.post(f"{TRACK_US}/api/v2/batch", status=429, headers={"Retry-After": "1"})
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert storm.call_count == 3
    assert results[0].outcome == Outcome.THROTTLED


# --- segments ---------------------------------------------------------------------------------


def test_list_segments(client):
    with strict() as rsps:
        rsps.get(
            f"{APP_US}/v1/segments",
            match=[bearer(US_CREDS)],
            json={
                "segments": [
                    {"id": 7, "name": "Readers", "type": "dynamic", "state": "finished"},
                    {"id": 8, "name": "VIP", "type": "manual"},
                ]
            },
        )
        segments = client.list_segments()
    assert segments == [
        RemoteSegment("7", "Readers", kind="dynamic"),
        RemoteSegment("8", "VIP", kind="manual"),
    ]
    assert all(s.member_count is None for s in segments)  # the list has no counts


def test_segment_member_count(client):
    with strict() as rsps:
        rsps.get(
            f"{APP_US}/v1/segments/7/customer_count", match=[bearer(US_CREDS)], json={"count": 1234}
        )
        assert client.segment_member_count("7") == 1234


def test_list_fields_offers_reserved_attributes(client):
    keys = [f.key for f in client.list_fields()]
    assert {"email", "id", "created_at", "unsubscribed"} <= set(keys)


# --- privacy: deleting a person -------------------------------------------------------------------


def test_delete_contact_sends_one_v2_delete_entry_with_the_track_key(client):
    entry = {"type": "person", "identifiers": {"email": "ann@example.com"}, "action": "delete"}
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            match=[basic(US_CREDS), JSON_BODY, matchers.json_params_matcher({"batch": [entry]})],
            status=200,
        )
        client.delete_contact("ann@example.com")


def test_delete_contact_by_id_and_a_refused_entry_raises(client):
    from integrations.platforms.errors import ValidationFailed

    entry = {"type": "person", "identifiers": {"id": "42"}, "action": "delete"}
    error = {"batch_index": 0, "reason": "invalid", "field": "identifiers", "message": "bad id"}
    with strict() as rsps:
        rsps.post(
            f"{TRACK_US}/api/v2/batch",
            match=[matchers.json_params_matcher({"batch": [entry]})],
            status=207,
            json={"errors": [error]},
        )
        with pytest.raises(ValidationFailed, match="bad id"):
            client.delete_contact("42")
