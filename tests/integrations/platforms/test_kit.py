"""Kit client against strict `responses` mocks shaped like ../shared/platforms/kit.md and the
current v4 reference pages (no spec file was available locally: shared/specs/kit/SOURCE.md).

With an API key (`X-Kit-Api-Key`) the bulk endpoints are refused, so subscribers are written
one `POST /v4/subscribers` each; 201 means created, 200 updated.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.kit import KitClient
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

API = "https://api.kit.com/v4"
KEY = "kit-test-v4-key-000"
AUTH = matchers.header_matcher({"X-Kit-Api-Key": KEY})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})


@pytest.fixture
def client(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": KEY}))


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def subscriber(id_, email, state="active", **extra):
    return {"subscriber": {"id": id_, "first_name": None, "email_address": email, "state": state,
                           "created_at": "2023-02-17T11:43:55Z", "fields": {}, **extra}}  # fmt: skip


# --- test_connection -------------------------------------------------------------------------


def test_connection_ok(client):
    with strict() as rsps:
        rsps.get(
            f"{API}/account",
            match=[AUTH],
            json={
                "user": {"email": "c@example.com"},
                "account": {"id": 5, "name": "Acme Letters", "plan_type": "creator"},
            },  # fmt: skip
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Acme Letters"
    assert "bulk endpoints need OAuth" in report.detail
    assert report.permissions["upsert_contacts"] is True
    assert report.permissions["bulk_upsert"] is False


def test_connection_bad_key(client):
    with strict() as rsps:
        call = rsps.get(f"{API}/account", status=401, json={"errors": ["The API key is not valid"]})
        report = client.test_connection()
    assert call.call_count == 1
    assert report.ok is False and report.can_write is None
    assert "refused the API key" in report.detail
    assert "v3 API key" in report.detail
    assert KEY not in report.detail


# --- list_fields -----------------------------------------------------------------------------


def test_list_fields_follows_the_cursor(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{API}/custom_fields",
            match=[AUTH, matchers.query_param_matcher({"per_page": "1000"})],
            json={
                "custom_fields": [
                    {
                        "id": 1,
                        "name": "ck_field_1_last_name",
                        "key": "last_name",
                        "label": "Last name",
                    }
                ],
                "pagination": {"has_next_page": True, "end_cursor": "WzFd"},
            },  # fmt: skip
        )
        rsps.get(
            f"{API}/custom_fields",
            match=[matchers.query_param_matcher({"per_page": "1000", "after": "WzFd"})],
            json={
                "custom_fields": [
                    {"id": 2, "name": "ck_field_2_plan", "key": "plan", "label": "Plan"}
                ],
                "pagination": {"has_next_page": False, "end_cursor": "WzJd"},
            },  # fmt: skip
        )
        fields = client.list_fields()
    assert fields == [
        TargetField("email", "Email address", "email", required=True),
        TargetField("first_name", "First name", "string"),
        TargetField("state", "Subscription state (from the SharpSend status)", "string"),
        TargetField("last_name", "Last name", "string"),
        TargetField("plan", "Plan", "string"),
    ]


# --- upsert_contacts -------------------------------------------------------------------------


def test_upsert_one_call_each_with_fields_by_key_and_timestamps(client):
    records = [
        rec(1, "ann@example.com", first_name="Ann", state="subscribed", last_name="Lee",
            joined=datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            score=3, vip=True, day=date(2024, 3, 1)),
        rec(2, "bob@example.com"),
    ]  # fmt: skip
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{API}/subscribers",
            match=[
                AUTH,
                JSON_BODY,
                matchers.json_params_matcher(
                    {
                        "email_address": "ann@example.com",
                        "first_name": "Ann",
                        "state": "active",
                        "fields": {
                            "last_name": "Lee",
                            "joined": "2024-01-01T00:00:00Z",
                            "score": "3",
                            "vip": "true",
                            "day": "2024-03-01T00:00:00Z",
                        },
                    }
                ),
            ],  # fmt: skip
            status=201,
            json=subscriber(11, "ann@example.com"),
        )
        rsps.post(
            f"{API}/subscribers",
            match=[
                matchers.json_params_matcher(
                    {"email_address": "bob@example.com", "state": "active"}
                )
            ],  # fmt: skip
            status=200,
            json=subscriber(12, "bob@example.com"),
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(1, Outcome.CREATED), (2, Outcome.UPDATED)]


def test_upsert_never_uses_the_oauth_only_bulk_endpoint(client):
    records = [rec(i, f"r{i}@example.com") for i in range(3)]
    with strict(assert_all_requests_are_fired=False) as rsps:
        single = rsps.post(f"{API}/subscribers", status=201, json=subscriber(1, "x@example.com"))
        bulk = rsps.post(f"{API}/bulk/subscribers", status=401)
        results = client.upsert_contacts(records, True)
    assert single.call_count == 3
    assert bulk.call_count == 0
    assert {r.outcome for r in results} == {Outcome.CREATED}


@pytest.mark.parametrize("state", ["cancelled", "bounced", "complained"])
def test_upsert_inactive_subscriber_is_a_compliance_rejection(client, state):
    with strict() as rsps:
        rsps.post(f"{API}/subscribers", status=200, json=subscriber(5, "gone@example.com", state))
        [result] = client.upsert_contacts([rec(1, "gone@example.com", state="subscribed")], True)
    assert (result.outcome, result.code) == (Outcome.REJECTED_COMPLIANCE, state)
    assert "Kit form" in result.hint


def test_upsert_unsubscribed_reader_is_unsubscribed_in_kit(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{API}/subscribers",
            match=[
                matchers.json_params_matcher(
                    {"email_address": "left@example.com", "state": "cancelled"}
                )
            ],  # fmt: skip
            status=200,
            json=subscriber(7, "left@example.com", "active"),
        )
        unsubscribe = rsps.post(f"{API}/subscribers/7/unsubscribe", match=[AUTH], status=204)
        rsps.post(f"{API}/subscribers", status=200,
                  json=subscriber(8, "done@example.com", "cancelled"))  # fmt: skip
        results = client.upsert_contacts(
            [rec(1, "left@example.com", state="unsubscribed"),
             rec(2, "done@example.com", state="unsubscribed")],
            True,
        )  # fmt: skip
    assert unsubscribe.call_count == 1  # the one already cancelled needs no call
    assert [r.outcome for r in results] == [Outcome.UPDATED, Outcome.UPDATED]


def test_upsert_422_is_rejected_data_for_that_record_only(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{API}/subscribers", status=422, json={"errors": ["Email address is invalid"]})
        rsps.post(f"{API}/subscribers", status=201, json=subscriber(2, "ok@example.com"))
        results = client.upsert_contacts([rec(1, "bad@x"), rec(2, "ok@example.com")], True)
    assert results[0].outcome is Outcome.REJECTED_DATA
    assert "Email address is invalid" in results[0].message
    assert results[1].outcome is Outcome.CREATED


def test_upsert_too_many_custom_fields_is_refused_locally(client):
    fields = {f"f{i}": "x" for i in range(141)}
    with strict() as rsps:
        rsps.post(f"{API}/subscribers", status=201, json=subscriber(2, "ok@example.com"))
        results = client.upsert_contacts([rec(1, "many@example.com", **fields),
                                          rec(2, "ok@example.com")], True)  # fmt: skip
    by_key = {r.key: r for r in results}
    assert (by_key[1].outcome, by_key[1].code) == (Outcome.REJECTED_DATA, "too_many_fields")
    assert by_key[2].outcome is Outcome.CREATED


def test_upsert_429_plain_text_is_retried(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{API}/subscribers", status=429, body="Retry later", content_type="text/plain")
        rsps.post(f"{API}/subscribers", status=201, json=subscriber(1, "a@example.com"))
        [result] = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome is Outcome.CREATED
    assert fake_clock.sleeps


def test_upsert_refused_key_stops_after_the_first_call(client):
    with strict() as rsps:
        call = rsps.post(f"{API}/subscribers", status=401, json={"errors": ["Invalid key"]})
        results = client.upsert_contacts([rec(i, f"r{i}@example.com") for i in range(4)], True)
    assert call.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 4


def test_upsert_keeps_to_120_a_minute(client, fake_clock):
    with strict() as rsps:
        rsps.post(f"{API}/subscribers", status=201, json=subscriber(1, "a@example.com"))
        started = fake_clock.now()
        client.upsert_contacts([rec(i, f"r{i}@example.com") for i in range(5)], True)
    assert fake_clock.now() - started >= 4 * 0.5 - 1e-6


# --- tags and segments ----------------------------------------------------------------------


def test_list_segments_tags_and_segments(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{API}/tags", match=[AUTH], json={
            "tags": [{"id": 4, "name": "paid", "created_at": "2023-02-17T11:43:55Z"}],
            "pagination": {"has_next_page": False}})  # fmt: skip
        rsps.get(f"{API}/segments", match=[AUTH], json={
            "segments": [{"id": 18, "name": "Engaged", "created_at": "2023-02-17T11:43:55Z"}],
            "pagination": {"has_next_page": False}})  # fmt: skip
        found = client.list_segments()
    assert found == [
        RemoteSegment("tag:4", "paid", kind="tag"),
        RemoteSegment("segment:18", "Engaged", kind="segment"),
    ]


def test_tag_count_and_segments_have_none(client):
    with strict() as rsps:
        rsps.get(
            f"{API}/tags/4/subscribers",
            match=[
                AUTH,
                matchers.query_param_matcher({"include_total_count": "true", "per_page": "1"}),
            ],
            json={"subscribers": [], "pagination": {"total_count": 42, "has_next_page": True}},
        )
        assert client.segment_member_count("tag:4") == 42
        assert client.segment_member_count("segment:18") is None
        assert len(rsps.calls) == 1


# --- export ----------------------------------------------------------------------------------


def test_export_contact(client):
    sub = subscriber(9, "ann@example.com", fields={"last_name": "Lee"})["subscriber"]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{API}/subscribers",
            match=[
                AUTH,
                matchers.query_param_matcher({"email_address": "ann@example.com", "status": "all"}),
            ],  # fmt: skip
            json={"subscribers": [sub], "pagination": {"has_next_page": False}},
        )
        rsps.get(f"{API}/subscribers/9", json={"subscriber": sub})
        rsps.get(f"{API}/subscribers/9/tags", json={"tags": [{"id": 4, "name": "paid"}],
                                                     "pagination": {"has_next_page": False}})  # fmt: skip
        exported = client.export_contact("ann@example.com")
    assert exported == {"subscriber": sub, "tags": [{"id": 4, "name": "paid"}]}


def test_export_unknown_contact(client):
    with strict() as rsps:
        rsps.get(f"{API}/subscribers", json={"subscribers": [], "pagination": {}})
        assert client.export_contact("no@example.com") == {}


def test_format_value_is_iso_utc_with_z(client):
    assert client.format_value(datetime(2024, 1, 1, 12, 0, tzinfo=UTC)) == "2024-01-01T12:00:00Z"
    assert client.format_value(datetime(2024, 1, 1, 12, 0)) == "2024-01-01T12:00:00Z"
    assert json.dumps(client.format_value("x")) == '"x"'


def test_entry_for_is_the_body_sent(client):
    record = rec(1, "ann@example.com", first_name="Ann", state="unsubscribed", plan="pro")
    assert client.entry_for(record) == {
        "email_address": "ann@example.com",
        "first_name": "Ann",
        "state": "cancelled",
        "fields": {"plan": "pro"},
    }
