"""Braze client against strict `responses` mocks shaped like ../shared/platforms/braze.md
(Braze publishes no OpenAPI document, so shapes come from the fact sheet's examples)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.braze import BrazeClient
from integrations.platforms.errors import ConfigurationError, RateLimited, ValidationFailed
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField, Written
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

US = "https://rest.iad-01.braze.com"
EU = "https://rest.fra-01.braze.eu"
KEY = "sandbox-braze-rest-key-us01"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {KEY}"})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
DENIED = {"message": "Access Denied"}


@pytest.fixture
def make_client(make_integration):
    def make(region="us-01", **credentials):
        creds = {"api_key": KEY, **credentials}
        return BrazeClient(make_integration("braze", region=region, credentials=creds))

    return make


@pytest.fixture
def client(make_client):
    return make_client()


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def track_ok(count):
    return {"message": "success", "attributes_processed": count}


# --- declarations -----------------------------------------------------------------------------


def test_every_published_instance_is_a_region():
    assert len(BrazeClient.regions) == 12
    assert BrazeClient.hosts["rest"]["eu-02"] == "https://rest.fra-02.braze.eu"
    assert BrazeClient.hosts["rest"]["au-01"] == "https://rest.au-01.braze.com"
    BrazeClient.check_base_url("https://rest.iad-07.braze.com")
    with pytest.raises(ConfigurationError):
        BrazeClient.check_base_url("https://sdk.iad-01.braze.com")  # SDK endpoints are not REST


def test_base_url_override_to_another_instance(make_integration):
    integration = make_integration(
        "braze",
        region="us-01",
        base_url="https://rest.iad-05.braze.com",
        credentials={"api_key": KEY},
    )
    assert BrazeClient(integration).base_url("rest") == "https://rest.iad-05.braze.com"


# --- test_connection -------------------------------------------------------------------------


# The probes are valid requests that write nothing: one made-up external id, update-only.
PROBE_TRACK = {
    "attributes": [{"external_id": "sharpsend-permission-probe", "_update_existing_only": True}]
}
PROBE_EXPORT = {"external_ids": ["sharpsend-permission-probe"], "fields_to_export": ["external_id"]}


def _probes(rsps, track=201, attributes=200, export=201):
    rsps.post(
        f"{US}/users/track",
        match=[AUTH, JSON_BODY, matchers.json_params_matcher(PROBE_TRACK)],
        status=track,
        json=DENIED if track == 403 else {"message": "success", "attributes_processed": 0},
    )
    rsps.get(
        f"{US}/custom_attributes",
        match=[AUTH],
        status=attributes,
        json=DENIED if attributes == 403 else {"message": "success", "attributes": []},
    )
    rsps.post(
        f"{US}/users/export/ids",
        match=[
            AUTH,
            matchers.json_params_matcher(PROBE_EXPORT),
        ],
        status=export,
        json=DENIED
        if export == 403
        else {
            "message": "success",
            "users": [],
            "invalid_user_ids": ["sharpsend-permission-probe"],
        },
    )


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/segments/list",
            match=[AUTH, matchers.query_param_matcher({"page": "0", "sort_direction": "desc"})],
            json={"message": "success", "segments": [{"id": "s1", "name": "A"}]},
        )
        _probes(rsps)
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.region == "us-01"
    assert report.account == "Braze workspace on US-01 (1 segments)"
    assert report.permissions == {
        "upsert_contacts": True,
        "list_segments": True,
        "list_fields": True,
        "export_contact": True,
        "delete_contact": None,
    }
    assert "lacks" not in report.detail


def test_connection_key_without_users_track_is_refused(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/segments/list", json={"message": "success", "segments": []})
        _probes(rsps, track=403, export=403)
        report = client.test_connection()
    assert report.ok is False
    assert report.can_write is False
    assert "users.track" in report.detail and "users.export.ids" in report.detail
    assert "cannot be edited" in report.detail
    assert report.permissions["upsert_contacts"] is False
    assert report.permissions["list_segments"] is True


def test_connection_write_key_missing_optional_permissions(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/segments/list", status=403, json=DENIED)
        _probes(rsps, attributes=403)
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Braze workspace on US-01"
    assert report.permissions["list_segments"] is False
    assert report.permissions["list_fields"] is False
    assert "segments.list, custom_attributes.get" in report.detail
    assert "segment import is unavailable" in report.detail


def test_connection_a_probe_refused_on_shape_is_not_taken_for_a_permission(client):
    # A 400 says the request was wrong, not that the key may call the endpoint.
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/segments/list", json={"message": "success", "segments": []})
        rsps.post(
            f"{US}/users/track",
            match=[matchers.json_params_matcher(PROBE_TRACK)],
            status=400,
            json={"message": "Valid data must be provided"},
        )
        with pytest.raises(ValidationFailed):
            client.test_connection()


def test_connection_key_of_another_instance(client):
    with strict() as rsps:
        rsps.get(f"{US}/segments/list", status=401, json={"message": "Invalid API key"})
        # Instances are asked in order until one knows the key; later ones are not asked.
        asked = []
        for region, url in BrazeClient.hosts["rest"].items():
            if region == "eu-01":
                break
            if region != "us-01":
                asked.append(
                    rsps.get(f"{url}/segments/list", status=401, json={"message": "Invalid"})
                )
        eu = rsps.get(f"{EU}/segments/list", match=[AUTH], status=403, json=DENIED)
        report = client.test_connection()
    assert len(asked) == 8 and all(c.call_count == 1 for c in asked)
    assert eu.call_count == 1
    assert report.ok is False
    assert report.region == "eu-01"
    assert "Choose EU-01" in report.detail
    assert "dashboard-01.braze.eu" in report.detail


def test_connection_bad_key_everywhere(client):
    with strict() as rsps:
        calls = [
            rsps.get(f"{url}/segments/list", status=401, json={"message": "Invalid API key"})
            for url in BrazeClient.hosts["rest"].values()
        ]
        report = client.test_connection()
    assert [c.call_count for c in calls] == [1] * 12
    assert report.ok is False and report.can_write is None
    assert "on every instance" in report.detail
    assert KEY not in report.detail


# --- upsert_contacts -------------------------------------------------------------------------


def test_upsert_body_shape_and_dates(client):
    records = [
        rec(
            1,
            "ann@example.com",
            first_name="Ann",
            email_subscribe=True,
            sharpsend_signup_date=datetime(2024, 1, 1, 12, 30, 5, tzinfo=UTC),
            score=3,
        ),
        rec(
            2,
            "bob@example.com",
            email_subscribe=False,
            sharpsend_signup_date=datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            renewal=date(2025, 2, 1),
        ),
        ContactRecord(3, "external_id", "42", {"external_id": "42", "plan": "pro"}),
    ]
    expected = {
        "attributes": [
            {
                "email": "ann@example.com",
                "first_name": "Ann",
                "email_subscribe": "subscribed",
                "sharpsend_signup_date": "2024-01-01T12:30:05+00:00",
                "score": 3,
                "_update_existing_only": False,
            },
            {
                "email": "bob@example.com",
                "email_subscribe": "unsubscribed",
                "sharpsend_signup_date": "2024-01-01T02:00:00+02:00",
                "renewal": "2025-02-01T00:00:00+00:00",
                "_update_existing_only": False,
            },
            {"external_id": "42", "plan": "pro", "_update_existing_only": False},
        ]
    }
    with strict() as rsps:
        rsps.post(
            f"{US}/users/track",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(expected)],
            status=201,
            json=track_ok(3),
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(i, Written.WRITTEN) for i in (1, 2, 3)]


def test_upsert_sends_at_most_75_objects_a_call(client):
    records = [rec(i, f"p{i}@example.com") for i in range(160)]
    sizes = []

    def answer(request):
        sizes.append(len(json.loads(request.body)["attributes"]))
        return 201, {}, json.dumps(track_ok(sizes[-1]))

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/users/track", callback=answer)
        results = client.upsert_contacts(records, True)
    assert sizes == [75, 75, 10]
    assert [r.key for r in results] == list(range(160))


def test_upsert_mau_contract_sends_50(make_client):
    client = make_client(objects_per_request="50")
    sizes = []

    def answer(request):
        sizes.append(len(json.loads(request.body)["attributes"]))
        return 201, {}, json.dumps(track_ok(sizes[-1]))

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/users/track", callback=answer)
        client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(75)], True)
    assert sizes == [50, 25]


def test_objects_per_request_must_be_75_or_50(make_client):
    client = make_client(objects_per_request="100")
    with pytest.raises(ConfigurationError, match="75 or 50"):
        client.upsert_contacts([rec(1, "a@example.com")], True)


def test_upsert_splits_by_bytes(client, monkeypatch):
    monkeypatch.setattr(
        BrazeClient, "limits", dataclasses.replace(BrazeClient.limits, batch_max_bytes=1_000)
    )
    records = [rec(i, f"p{i}@example.com", bio="x" * 200) for i in range(10)]
    bodies = []

    def answer(request):
        bodies.append(request.body)
        return 201, {}, json.dumps(track_ok(1))

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/users/track", callback=answer)
        client.upsert_contacts(records, True)
    assert len(bodies) > 1
    assert all(len(b) <= 1_000 for b in bodies)
    sent = [a["email"] for b in bodies for a in json.loads(b)["attributes"]]
    assert sent == [f"p{i}@example.com" for i in range(10)]


def test_minor_errors_map_to_their_objects(client):
    records = [rec(i, e) for i, e in enumerate(["ok@example.com", "bad", "blocked@example.com"])]
    records.append(ContactRecord(3, "external_id", "x", {"external_id": "x"}))
    with strict() as rsps:
        rsps.post(
            f"{US}/users/track",
            status=201,
            json={
                "message": "success",
                "attributes_processed": 1,
                "errors": [
                    {"type": "'bad' is not a valid email address", "input_array": "attributes",
                     "index": 1},
                    {"type": "provided email is blacklisted and disallowed",
                     "input_array": "attributes", "index": 2},
                    {"type": "provided external_id is blacklisted and disallowed",
                     "input_array": "attributes", "index": 3},
                ],
            },
        )  # fmt: skip
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome is Written.WRITTEN
    assert (results[1].outcome, results[1].code) == (Outcome.REJECTED_DATA, "invalid")
    assert "email address" in results[1].hint
    assert (results[2].outcome, results[2].code) == (Outcome.REJECTED_COMPLIANCE, "blocklisted")
    assert results[3].outcome == Outcome.REJECTED_COMPLIANCE
    assert "blacklisted" in results[2].message


def test_an_error_without_index_leaves_the_batch_unknown(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/users/track",
            status=201,
            json={"message": "success", "errors": [{"type": "nested attribute dropped"}]},
        )
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert [r.outcome for r in results] == [Outcome.UNKNOWN] * 2
    assert results[0].code == "unplaced_error"
    assert results[0].message == "nested attribute dropped"


def test_fatal_400_rejects_the_batch(client):
    with strict() as rsps:
        rsps.post(f"{US}/users/track", status=400, json={"message": "Max Input Length Exceeded"})
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert results[0].outcome == Outcome.REJECTED_DATA
    assert "Max Input Length Exceeded" in results[0].message


def test_upsert_401_rejects_all_and_stops(client, monkeypatch):
    monkeypatch.setattr(
        BrazeClient, "limits", dataclasses.replace(BrazeClient.limits, batch_max_records=1)
    )
    with strict() as rsps:
        only = rsps.post(f"{US}/users/track", status=401, json={"message": "Invalid API key"})
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert only.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 2


def test_429_waits_until_x_ratelimit_reset(client, fake_clock):
    reset = str(int(fake_clock.now()) + 7)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/users/track",
            status=429,
            json={"message": "Rate Limited"},
            headers={"X-RateLimit-Reset": reset, "X-RateLimit-Remaining": "0"},
        )
        rsps.post(f"{US}/users/track", status=201, json=track_ok(1))
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert results[0].outcome is Written.WRITTEN
    assert any(s == pytest.approx(7.0, abs=0.5) for s in fake_clock.sleeps)


def test_429_beyond_patience_is_throttled(client, fake_clock, settings):
    settings.PLATFORM_MAX_RETRY_AFTER = 5
    reset = str(int(fake_clock.now()) + 600)
    with strict() as rsps:
        rsps.post(
            f"{US}/users/track", status=429, json={"message": "Rate Limited"},
            headers={"X-RateLimit-Reset": reset},
        )  # fmt: skip
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome == Outcome.THROTTLED


# --- fields and segments ---------------------------------------------------------------------


def test_list_fields_standard_then_custom_pages(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/custom_attributes",
            match=[AUTH, matchers.query_string_matcher("")],
            json={
                "message": "success",
                "attributes": [
                    {"name": "interest", "data_type": "String", "status": "Active"},
                    {"name": "first_name", "data_type": "String"},  # standard: listed once
                ],
            },
            headers={"Link": f'<{US}/custom_attributes/?cursor=c2tpcDo1MA>; rel="next"'},
        )
        rsps.get(
            f"{US}/custom_attributes",
            match=[matchers.query_param_matcher({"cursor": "c2tpcDo1MA"})],
            json={
                "message": "success",
                "attributes": [
                    {"name": "renewal", "data_type": "Date"},
                    {"name": "score", "data_type": "Number"},
                    {"name": "tags", "data_type": "Array"},
                ],
            },
        )
        fields = client.list_fields()
    keys = [f.key for f in fields]
    assert keys[:4] == ["email", "external_id", "first_name", "last_name"]
    assert keys.count("first_name") == 1
    assert fields[-4:] == [
        TargetField("interest", "interest", "string"),
        TargetField("renewal", "renewal", "date"),
        TargetField("score", "score", "number"),
        TargetField("tags", "tags", "array"),
    ]


def test_list_segments_pages_of_100(client):
    first = [
        {"id": f"s{i}", "name": f"S{i}", "analytics_tracking_enabled": True} for i in range(100)
    ]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/segments/list",
            match=[matchers.query_param_matcher({"page": "0", "sort_direction": "desc"})],
            json={"message": "success", "segments": first},
        )
        rsps.get(
            f"{US}/segments/list",
            match=[matchers.query_param_matcher({"page": "1", "sort_direction": "desc"})],
            json={
                "message": "success",
                "segments": [{"id": "x", "name": "Quiet", "analytics_tracking_enabled": False}],
            },
        )
        segments = client.list_segments()
    assert len(segments) == 101
    assert segments[0] == RemoteSegment("s0", "S0", kind="segment")
    assert segments[-1] == RemoteSegment("x", "Quiet", kind="segment (untracked)")


def test_segment_member_count_is_the_latest_size(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/segments/data_series",
            match=[AUTH, matchers.query_param_matcher({"segment_id": "s1", "length": "1"})],
            json={"message": "success", "data": [{"time": "2026-01-30", "size": 1234}]},
        )
        assert client.segment_member_count("s1") == 1234


def test_segment_without_analytics_has_no_count(client):
    with strict() as rsps:
        rsps.get(f"{US}/segments/data_series", json={"message": "success", "data": []})
        assert client.segment_member_count("s1") is None


def test_segment_count_rate_limit_is_reported(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/segments/data_series", status=429, json={"message": "Rate Limited"},
            headers={"Retry-After": "120"},
        )  # fmt: skip
        with pytest.raises(RateLimited):
            client.segment_member_count("s1", max_wait=1)


# --- delete and export -----------------------------------------------------------------------


def test_delete_by_email_and_by_external_id(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/users/delete",
            match=[
                AUTH,
                matchers.json_params_matcher(
                    {
                        "email_addresses": [
                            {"email": "a@example.com", "prioritization": ["most_recently_updated"]}
                        ]
                    }
                ),
            ],
            status=201,
            json={"message": "success", "deleted": 1},
        )
        rsps.post(
            f"{US}/users/delete",
            match=[matchers.json_params_matcher({"external_ids": ["42"]})],
            status=201,
            json={"message": "success", "deleted": 1},
        )
        client.delete_contact("a@example.com")
        client.delete_contact("42")


def test_export_by_email(client):
    def body_ok(request):
        data = json.loads(request.body)
        assert data["email_address"] == "a@example.com"
        assert "custom_attributes" in data["fields_to_export"]
        assert "external_ids" not in data
        return (
            201,
            {},
            json.dumps(
                {
                    "message": "success",
                    "users": [{"email": "a@example.com", "custom_attributes": {"plan": "pro"}}],
                    "invalid_user_ids": [],
                }
            ),
        )

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/users/export/ids", callback=body_ok)
        exported = client.export_contact("a@example.com")
    assert exported == {
        "users": [{"email": "a@example.com", "custom_attributes": {"plan": "pro"}}],
        "invalid_user_ids": [],
    }


def test_export_by_external_id(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/users/export/ids",
            match=[matchers.json_params_matcher({"external_ids": ["42"]}, strict_match=False)],
            status=201,
            json={"message": "success", "users": [], "invalid_user_ids": ["42"]},
        )
        assert client.export_contact("42")["invalid_user_ids"] == ["42"]


def test_errors_never_carry_the_key(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/users/track", status=400, json={"message": f"bad key {KEY}", "errors": [KEY]}
        )
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert KEY not in result.message
