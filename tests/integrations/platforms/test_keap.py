"""Keap client against strict `responses` mocks shaped like ../shared/platforms/keap.md, with
request bodies validated against Keap's OpenAPI document (specs/keap/swagger.yml)."""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs

import jsonschema
import pytest
import yaml
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.models import IntegrationStatus, OAuthConnection, Outcome
from integrations.platforms.keap import NO_BULK_WARNING, OPT_IN_REASON, OPT_OUT_REASON, KeapClient
from integrations.platforms.types import AuthMethod, ContactRecord, RemoteSegment, TargetField
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"  # steady_retries gives it a fake OAuth app

BASE = "https://api.keap.com/crm/rest/v2"
TOKEN_URL = "https://api.infusionsoft.com/token"
ACCESS = "test-access-not-real"
REFRESH = "test-refresh-not-real"
SPEC = SPECS / "keap/swagger.yml"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
UPSERT = matchers.query_param_matcher({"duplicate_option": "Email"})
MODEL = {
    "custom_fields": [
        {"id": "12", "label": "Interest", "field_name": "interest", "field_type": "TEXT",
         "record_type": "CONTACT"},
        {"id": "16", "label": "Signup date", "field_name": "signup_date", "field_type": "DATE",
         "record_type": "CONTACT"},
        {"id": "18", "label": "Score", "field_name": "score", "field_type": "WHOLE_NUMBER",
         "record_type": "CONTACT"},
        {"id": "30", "label": "Deal size", "field_name": "deal_size", "field_type": "CURRENCY",
         "record_type": "OPPORTUNITY"},
    ],
    "optional_properties": ["custom_fields"],
}  # fmt: skip


@pytest.fixture
def integration(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600}
    )
    return integration


@pytest.fixture
def client(integration):
    return KeapClient(integration)


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def contact(contact_id="101", email="ann@example.com", status="SINGLE_OPT_IN", **extra):
    return {
        "id": contact_id,
        "email_addresses": [
            {"email": email, "field": "EMAIL1", "email_opt_status": status,
             "is_opt_in": status in ("SINGLE_OPT_IN", "DOUBLE_OPT_IN", "CONFIRMED")}
        ],
        **extra,
    }  # fmt: skip


# --- declarations and OAuth ----------------------------------------------------------------------


def test_oauth_only_with_keaps_documented_endpoints():
    assert KeapClient.auth_methods == (AuthMethod.OAUTH,)
    assert KeapClient.credential_fields == ()
    spec = KeapClient.oauth
    assert spec.authorize_url == "https://accounts.infusionsoft.com/app/oauth/authorize"
    assert spec.token_url == TOKEN_URL
    assert (spec.client_auth, spec.refresh_client_auth) == ("body", "basic")
    assert spec.scope == "full" and spec.rotates_refresh_token and not spec.pkce


def test_authorization_url_asks_for_scope_full(integration):
    auth = oauth.authorization(integration, "https://console.example.com/oauth/callback/")
    query = parse_qs(auth.url.split("?", 1)[1])
    assert auth.url.startswith("https://accounts.infusionsoft.com/app/oauth/authorize?")
    assert query["scope"] == ["full"]
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["test-keap-client"]
    assert "code_challenge" not in query


def test_code_exchange_sends_the_client_in_the_form_body(integration):
    with strict() as rsps:
        exchange = rsps.post(
            TOKEN_URL,
            json={"access_token": "new-at", "refresh_token": "new-rt", "expires_in": 86400,
                  "token_type": "bearer", "scope": "full|ab123.infusionsoft.com"},
        )  # fmt: skip
        token = oauth.exchange_code(integration, "the-code", "https://console.example.com/cb/")
    sent = exchange.calls[0].request
    form = parse_qs(sent.body)
    assert form["grant_type"] == ["authorization_code"]
    assert form["client_id"] == ["test-keap-client"]
    assert form["client_secret"] == ["test-keap-secret-not-real"]
    assert form["code"] == ["the-code"]
    assert "Authorization" not in sent.headers
    assert token["refresh_token"] == "new-rt"


def test_a_refused_token_is_refreshed_with_basic_auth_and_the_call_resent(client, integration):
    basic = base64.b64encode(b"test-keap-client:test-keap-secret-not-real").decode()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/tags", match=[AUTH], status=401, json={"code": 401, "message": "x"})
        refresh = rsps.post(
            TOKEN_URL,
            match=[
                matchers.header_matcher({"Authorization": f"Basic {basic}"}),
                matchers.urlencoded_params_matcher(
                    {"grant_type": "refresh_token", "refresh_token": REFRESH},
                    allow_blank=True,
                ),
            ],
            json={"access_token": "rotated-at", "refresh_token": "rotated-rt", "expires_in": 86400},
        )
        rsps.get(
            f"{BASE}/tags",
            match=[matchers.header_matcher({"Authorization": "Bearer rotated-at"})],
            json={"tags": [], "next_page_token": ""},
        )
        assert client.list_segments() == []
    assert refresh.call_count == 1
    stored = OAuthConnection.objects.get(integration=integration)
    assert (stored.access_token, stored.refresh_token) == ("rotated-at", "rotated-rt")


# --- test_connection -----------------------------------------------------------------------------


def userinfo(is_admin=True):
    return {"email": "owner@example.com", "sub": "1", "id": "2", "keap_id": "owner@example.com",
            "given_name": "O", "family_name": "W", "is_admin": is_admin, "tenant_id": "ab123"}  # fmt: skip


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/oauth/connect/userinfo", match=[AUTH], json=userinfo())
        rsps.get(f"{BASE}/contacts/model", match=[AUTH], json=MODEL)
        rsps.get(
            f"{BASE}/tags",
            match=[AUTH, matchers.query_param_matcher({"page_size": "1"})],
            json={"tags": [], "next_page_token": ""},
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Keap account ab123 (owner@example.com)"
    assert report.permissions == {
        "upsert_contacts": True,
        "list_fields": True,
        "list_segments": True,
    }
    assert "not a Keap admin" not in report.detail


def test_connection_warns_about_a_non_admin_user(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/oauth/connect/userinfo", json=userinfo(is_admin=False))
        rsps.get(f"{BASE}/contacts/model", json=MODEL)
        rsps.get(f"{BASE}/tags", status=403, json={"code": 403, "message": "Forbidden"})
        report = client.test_connection()
    assert report.ok is True
    assert "not a Keap admin" in report.detail
    assert "Reconnect as an admin" in report.detail
    assert report.permissions["list_segments"] is False
    assert "list_segments" in report.detail


def test_connection_revoked_token_puts_the_integration_in_needs_attention(client, integration):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/oauth/connect/userinfo",
            status=401,
            json={"code": 401, "message": "Invalid Access Token", "status": "Unauthorized"},
        )
        rsps.post(
            TOKEN_URL,
            status=400,
            json={"error": "invalid_grant", "error_description": "Invalid Refresh Token"},
        )
        report = client.test_connection()
    assert report.ok is False
    assert "reconnect" in report.detail.lower()
    assert ACCESS not in report.detail and REFRESH not in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.NEEDS_ATTENTION


def test_connection_without_an_oauth_connection_calls_nothing(make_integration):
    client = KeapClient(make_integration("keap", credentials={}))
    with strict(assert_all_requests_are_fired=False) as rsps:
        report = client.test_connection()
        assert len(rsps.calls) == 0
    assert report.ok is False
    assert "Connect with Keap" in report.detail


# --- fields --------------------------------------------------------------------------------------


def test_list_fields(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts/model", match=[AUTH], json=MODEL)
        fields = {f.key: f for f in client.list_fields()}
    assert fields["email"] == TargetField("email", "Email (EMAIL1)", "email", required=True)
    assert fields["opt_in"].type == "boolean"
    assert fields["given_name"].type == "string"
    assert fields["birth_date"].type == "date"
    assert fields["interest"] == TargetField("interest", "Interest (custom field)", "string")
    assert fields["signup_date"].type == "date"
    assert fields["score"].type == "number"
    assert "deal_size" not in fields  # an opportunity's field, not a contact's


# --- upsert --------------------------------------------------------------------------------------


def test_upsert_body_shape_custom_fields_dates_and_outcomes(client):
    records = [
        rec(1, "ann@example.com", given_name="Ann", family_name="Lee", opt_in=True,
            interest="growth", signup_date=datetime(2024, 1, 2, 23, 30, tzinfo=UTC),
            birth_date=date(1990, 5, 17), phone="+1 555 0100"),
        rec(2, "bob@example.com", given_name="Bob", score=7),
    ]  # fmt: skip
    first = {
        "email_addresses": [
            {"email": "ann@example.com", "field": "EMAIL1", "opt_in_reason": OPT_IN_REASON}
        ],
        "given_name": "Ann",
        "family_name": "Lee",
        "birth_date": "1990-05-17",
        "phone_numbers": [{"number": "+1 555 0100", "field": "PHONE1"}],
        "custom_fields": [{"id": "12", "content": "growth"}, {"id": "16", "content": "2024-01-02"}],
    }
    second = {
        "email_addresses": [{"email": "bob@example.com", "field": "EMAIL1"}],
        "given_name": "Bob",
        "custom_fields": [{"id": "18", "content": 7}],
    }
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/contacts/model", match=[AUTH], json=MODEL)
        rsps.post(
            f"{BASE}/contacts",
            match=[AUTH, JSON_BODY, UPSERT, matchers.json_params_matcher(first)],
            status=201,
            json=contact("101", "ann@example.com", "SINGLE_OPT_IN"),
        )
        rsps.post(
            f"{BASE}/contacts",
            match=[AUTH, UPSERT, matchers.json_params_matcher(second)],
            status=200,
            json=contact("102", "bob@example.com", "NON_MARKETABLE"),
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome, r.code) for r in results] == [
        (1, Outcome.CREATED, "101"),
        (2, Outcome.UPDATED, "102"),  # no opt_in mapped: marketability left alone
    ]
    assert client.warnings == [NO_BULK_WARNING]


def test_an_address_keap_keeps_unsubscribed_is_a_compliance_rejection(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=200,
            json=contact("7", "gone@example.com", "LIST_UNSUBSCRIBE"),
        )
        (result,) = client.upsert_contacts([rec(1, "gone@example.com", opt_in=True)], True)
    assert result.outcome == Outcome.REJECTED_COMPLIANCE
    assert result.code == "LIST_UNSUBSCRIBE"
    assert "non-marketable" in result.message
    assert "opt in again through a Keap form" in result.hint


@pytest.mark.parametrize("status", ["NON_MARKETABLE", "UNENGAGED_NON_MARKETABLE", "MANUAL"])
def test_a_reoptable_address_is_opted_in_through_its_status(client, status):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{BASE}/contacts", status=200, json=contact("7", "Back@Example.com", status))
        patch = rsps.patch(
            f"{BASE}/emailAddresses/Back@Example.com/status",
            match=[
                AUTH,
                matchers.json_params_matcher({"opted_in": True, "reason": OPT_IN_REASON}),
            ],
            json={"email": "back@example.com", "opted_in": True, "status": "SINGLE_OPT_IN",
                  "create_time": "2024-01-01T00:00:00Z"},
        )  # fmt: skip
        (result,) = client.upsert_contacts([rec(1, "Back@Example.com", opt_in=True)], True)
    assert patch.call_count == 1
    assert result.outcome == Outcome.UPDATED


def test_a_refused_reopt_in_is_a_compliance_rejection(client):
    with strict() as rsps:
        rsps.post(f"{BASE}/contacts", json=contact("7", "x@example.com", "NON_MARKETABLE"))
        rsps.patch(
            f"{BASE}/emailAddresses/x@example.com/status",
            json={"email": "x@example.com", "opted_in": False, "status": "NON_MARKETABLE",
                  "create_time": "2024-01-01T00:00:00Z"},
        )  # fmt: skip
        (result,) = client.upsert_contacts([rec(1, "x@example.com", opt_in=True)], True)
    assert (result.outcome, result.code) == (Outcome.REJECTED_COMPLIANCE, "NON_MARKETABLE")


def test_an_unsubscribed_reader_is_opted_out_in_keap(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/contacts",
            match=[
                matchers.json_params_matcher(
                    {"email_addresses": [{"email": "u@example.com", "field": "EMAIL1"}]}
                )
            ],
            json=contact("8", "u@example.com", "SINGLE_OPT_IN"),
        )
        rsps.patch(
            f"{BASE}/emailAddresses/u@example.com/status",
            match=[matchers.json_params_matcher({"opted_in": False, "reason": OPT_OUT_REASON})],
            json={"email": "u@example.com", "opted_in": False, "status": "MANUAL",
                  "create_time": "2024-01-01T00:00:00Z"},
        )  # fmt: skip
        (result,) = client.upsert_contacts([rec(1, "u@example.com", opt_in=False)], True)
    assert result.outcome == Outcome.UPDATED


def test_status_is_read_when_the_contact_answer_lacks_it(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=201,
            json={"id": "9", "email_addresses": [{"email": "n@example.com", "field": "EMAIL1"}]},
        )
        rsps.get(
            f"{BASE}/emailAddresses/n@example.com/status",
            json={"email": "n@example.com", "opted_in": True, "status": "SINGLE_OPT_IN",
                  "create_time": "2024-01-01T00:00:00Z"},
        )  # fmt: skip
        (result,) = client.upsert_contacts([rec(1, "n@example.com", opt_in=True)], True)
    assert result.outcome == Outcome.CREATED


def test_one_refused_contact_does_not_stop_the_others(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=400,
            json={"code": 400, "message": "Invalid email address", "status": "Bad Request",
                  "details": [{"domain": "contact", "resource": "email_addresses"}]},
        )  # fmt: skip
        rsps.post(f"{BASE}/contacts", status=201, json=contact("2", "b@example.com"))
        results = client.upsert_contacts([rec(1, "a@example"), rec(2, "b@example.com")], True)
    assert [(r.key, r.outcome) for r in results] == [
        (1, Outcome.REJECTED_DATA),
        (2, Outcome.CREATED),
    ]
    assert results[0].code == "400"
    assert "Invalid email address" in results[0].message


def test_permission_refused_stops_and_rejects_the_rest_unsent(client):
    with strict() as rsps:
        post = rsps.post(f"{BASE}/contacts", status=403, json={"code": 403, "message": "Forbidden"})
        results = client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(3)], True)
    assert post.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 3


def test_local_limits_cost_no_call(client):
    records = [
        rec(1, "x" * 70 + "@example.com"),
        rec(2, "a@example.com", given_name="N" * 41),
        rec(3, "b@example.com", favourite_colour="blue"),
    ]
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts/model", json=MODEL)  # to know favourite_colour is unknown
        results = client.upsert_contacts(records, True)
    assert [(r.key, r.outcome, r.code) for r in results] == [
        (1, Outcome.REJECTED_DATA, "email_too_long"),
        (2, Outcome.REJECTED_DATA, "too_long"),
        (3, Outcome.REJECTED_DATA, "unknown_field"),
    ]
    assert all(r.hint for r in results)


def test_keep_existing_looks_the_email_up_first(client):
    lookup = matchers.query_param_matcher(
        {"filter": "email==old@example.com", "fields": "id", "page_size": "100"}
    )
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/contacts",
            match=[AUTH, lookup],
            json={"contacts": [{"id": "5"}], "next_page_token": ""},
        )
        rsps.get(f"{BASE}/contacts", json={"contacts": [], "next_page_token": ""})
        rsps.post(f"{BASE}/contacts", match=[UPSERT], status=201, json=contact("6", "new@x.io"))
        results = client.upsert_contacts(
            [rec(1, "old@example.com", given_name="A"), rec(2, "new@x.io", given_name="B")],
            update_existing=False,
        )
    assert [(r.outcome, r.code) for r in results] == [
        (Outcome.UNCHANGED, "kept_existing"),
        (Outcome.CREATED, "6"),
    ]


# --- quotas --------------------------------------------------------------------------------------


def quota_headers(throttle_available=1000, daily_available=140_000, expiry=None):
    headers = {
        "x-keap-product-throttle-limit": "1500",
        "x-keap-product-throttle-time-unit": "minute",
        "x-keap-product-throttle-interval": "1",
        "x-keap-product-throttle-available": str(throttle_available),
        "x-keap-product-quota-limit": "150000",
        "x-keap-product-quota-time-unit": "day",
        "x-keap-product-quota-interval": "1",
        "x-keap-product-quota-available": str(daily_available),
    }
    if expiry is not None:
        headers["x-keap-product-quota-expiry-time"] = str(expiry)
    return headers


def test_a_429_waits_for_the_minute_the_throttle_headers_name(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=429,
            headers=quota_headers(throttle_available=0),
            json={"code": "429", "message": "Quota Exceeded", "status": "Request Throttled"},
        )
        rsps.post(f"{BASE}/contacts", status=201, json=contact("1", "a@example.com"))
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome == Outcome.CREATED
    assert fake_clock.sleeps == [pytest.approx(60.0)]


def test_an_exhausted_daily_quota_throttles_the_rest_without_calling(client, fake_clock):
    tomorrow_ms = int((fake_clock.now() + 5 * 3600) * 1000)
    with strict() as rsps:
        post = rsps.post(
            f"{BASE}/contacts",
            status=429,
            headers=quota_headers(daily_available=0, expiry=tomorrow_ms),
            json={"code": "429", "message": "Quota Exceeded", "status": "Request Throttled"},
        )
        results = client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(4)], True)
    assert post.call_count == 1  # 5 hours is past PLATFORM_MAX_RETRY_AFTER: not waited
    assert [r.outcome for r in results] == [Outcome.THROTTLED] * 4
    assert fake_clock.sleeps == []


def test_retry_after_for_reads_each_family(client, fake_clock):
    class Answer:
        def __init__(self, status, headers):
            self.status_code, self.headers = status, headers

    assert client.retry_after_for(Answer(429, {"Retry-After": "7"})) == 7
    assert client.retry_after_for(Answer(429, quota_headers(throttle_available=0))) == 60
    midnight = client.retry_after_for(Answer(429, quota_headers(daily_available=0)))
    assert midnight == pytest.approx(86400 - fake_clock.now() % 86400)
    tenant = {
        "x-keap-tenant-throttle-limit": "10000",
        "x-keap-tenant-throttle-time-unit": "minute",
        "x-keap-tenant-throttle-interval": "1",
        "x-keap-tenant-throttle-available": "0",
    }
    assert client.retry_after_for(Answer(429, tenant)) == 60
    assert client.retry_after_for(Answer(429, quota_headers())) is None
    assert client.retry_after_for(Answer(400, quota_headers(throttle_available=0))) is None


def test_a_spent_minute_holds_the_next_call_off(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=201,
            headers=quota_headers(throttle_available=0),
            json=contact("1", "a@example.com"),
        )
        rsps.post(f"{BASE}/contacts", status=201, json=contact("2", "b@example.com"))
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert [r.outcome for r in results] == [Outcome.CREATED] * 2
    assert sum(fake_clock.sleeps) == pytest.approx(60.0)


def test_a_low_daily_quota_is_a_warning_once(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/contacts",
            status=201,
            headers=quota_headers(daily_available=900),
            json=contact("1", "a@example.com"),
        )
        client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert len(client.warnings) == 2
    assert client.warnings[0] == NO_BULK_WARNING
    assert "900 of 150,000 calls left" in client.warnings[1]


def test_uses_the_oauth_app_rate(client, fake_clock):
    with strict() as rsps:
        rsps.post(f"{BASE}/contacts", status=201, json=contact("1", "a@example.com"))
        client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(3)], True)
    assert fake_clock.sleeps == [pytest.approx(0.04)] * 2  # 1,500 a minute


# --- tags ----------------------------------------------------------------------------------------


def test_list_segments_pages_through_tags(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/tags",
            match=[AUTH, matchers.query_param_matcher({"page_size": "1000"})],
            json={"tags": [{"id": "91", "name": "VIP", "category": {"id": "1"}}],
                  "next_page_token": "abc"},
        )  # fmt: skip
        rsps.get(
            f"{BASE}/tags",
            match=[matchers.query_param_matcher({"page_size": "1000", "page_token": "abc"})],
            json={"tags": [{"id": "92", "name": "Leads"}]},
        )
        assert client.list_segments() == [
            RemoteSegment("91", "VIP", kind="tag"),
            RemoteSegment("92", "Leads", kind="tag"),
        ]


def test_tag_member_count_pages_through_its_contacts(client):
    page = [{"id": str(i), "email": f"p{i}@example.com"} for i in range(1000)]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/tags/91/contacts",
            match=[matchers.query_param_matcher({"page_size": "1000"})],
            json={"contacts": page, "next_page_token": "1000"},
        )
        rsps.get(
            f"{BASE}/tags/91/contacts",
            match=[matchers.query_param_matcher({"page_size": "1000", "page_token": "1000"})],
            json={"contacts": page[:7], "next_page_token": ""},
        )
        assert client.segment_member_count("91") == 1007


# --- privacy -------------------------------------------------------------------------------------


def test_delete_contact_deletes_every_contact_with_the_email(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/contacts",
            match=[
                matchers.query_param_matcher(
                    {"filter": "email==ann@example.com", "fields": "id", "page_size": "100"}
                )
            ],
            json={"contacts": [{"id": "11"}, {"id": "12"}], "next_page_token": ""},
        )
        first = rsps.delete(f"{BASE}/contacts/11", match=[AUTH], status=204)
        second = rsps.delete(
            f"{BASE}/contacts/12", status=404, json={"code": 404, "message": "gone"}
        )
        client.delete_contact("ann@example.com")
    assert first.call_count == second.call_count == 1


def test_delete_of_an_unknown_email_is_a_no_op(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json={"contacts": []})
        client.delete_contact("nobody@example.com")


def test_export_contact(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/contacts", json={"contacts": [{"id": "11"}], "next_page_token": ""})
        rsps.get(
            f"{BASE}/contacts/11",
            match=[AUTH],
            json={"id": "11", "given_name": "Ann", "custom_fields": [{"id": "12", "content": "x"}]},
        )
        rsps.get(
            f"{BASE}/contacts/11/tags",
            json={"tags": [{"tag": {"id": "91", "name": "VIP"}, "applied_time": "2024-01-01"}]},
        )
        rsps.get(
            f"{BASE}/emailAddresses/ann@example.com/status",
            json={"email": "ann@example.com", "opted_in": True, "status": "SINGLE_OPT_IN",
                  "create_time": "2024-01-01T00:00:00Z"},
        )  # fmt: skip
        exported = client.export_contact("ann@example.com")
        url = rsps.calls[1].request.url
    assert exported["email"] == "ann@example.com"
    [one] = exported["contacts"]
    assert one["given_name"] == "Ann"
    assert one["tags"][0]["tag"]["name"] == "VIP"
    assert exported["email_status"]["status"] == "SINGLE_OPT_IN"
    fields = parse_qs(url.split("?", 1)[1])["fields"][0].split(",")
    assert {"custom_fields", "email_addresses", "phone_numbers", "tag_ids"} <= set(fields)


# --- hosts ---------------------------------------------------------------------------------------


def test_the_legacy_host_is_accepted_as_an_override(make_integration):
    integration = make_integration("keap", base_url="https://api.infusionsoft.com", credentials={})
    assert KeapClient(integration).base_url("api") == "https://api.infusionsoft.com"
    default = make_integration("keap", credentials={}, name="keap default host")
    assert KeapClient(default).base_url("api") == ("https://api.keap.com")


# --- request shapes against Keap's OpenAPI document -----------------------------------------------


def _resolve(node, schemas, seen=()):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name in seen:
                return {}
            return _resolve(schemas[name], schemas, (*seen, name))
        return {k: _resolve(v, schemas, seen) for k, v in node.items() if k != "example"}
    if isinstance(node, list):
        return [_resolve(v, schemas, seen) for v in node]
    return node


def _closed(schema):
    """Refuse properties the spec does not declare (it leaves objects open)."""
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and schema.get("properties"):
        schema["additionalProperties"] = False
        schema["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema["items"] = _closed(schema["items"])
    return schema


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(SPEC.read_text())


def _request_schema(spec, path, method):
    body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    return _closed(_resolve(body, spec["components"]["schemas"]))


def test_the_schema_helper_catches_a_wrong_shape(spec):
    validator = jsonschema.Draft202012Validator(_request_schema(spec, "/rest/v2/contacts", "post"))
    good = {"email_addresses": [{"email": "a@b.c", "field": "EMAIL1"}], "given_name": "A"}
    assert not list(validator.iter_errors(good))
    assert list(validator.iter_errors({**good, "first_name": "A"}))
    assert list(validator.iter_errors({"email_addresses": [{"email": "a@b.c", "field": "E1"}]}))
    assert list(validator.iter_errors({**good, "custom_fields": [{"field": "x"}]}))


def test_request_bodies_match_the_spec(client, spec):
    bodies = []

    def answer(request):
        bodies.append((request.method, request.url, json.loads(request.body)))
        if request.method == "POST":
            return 201, {}, json.dumps(contact("1", "ann@example.com", "NON_MARKETABLE"))
        return 200, {}, json.dumps(
            {"email": "ann@example.com", "opted_in": True, "status": "SINGLE_OPT_IN",
             "create_time": "2024-01-01T00:00:00Z"}
        )  # fmt: skip

    record = rec(1, "ann@example.com", given_name="Ann", family_name="Lee", opt_in=True,
                 interest="growth", signup_date=date(2024, 3, 1), phone="555",
                 anniversary_date=datetime(2020, 6, 1, tzinfo=UTC), job_title="Editor")  # fmt: skip
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts/model", json=MODEL)
        rsps.add_callback("POST", f"{BASE}/contacts", callback=answer)
        rsps.add_callback("PATCH", f"{BASE}/emailAddresses/ann@example.com/status", callback=answer)
        (result,) = client.upsert_contacts([record], True)
    assert result.outcome == Outcome.CREATED
    (post, patch) = bodies
    jsonschema.Draft202012Validator(_request_schema(spec, "/rest/v2/contacts", "post")).validate(
        post[2]
    )
    jsonschema.Draft202012Validator(
        _request_schema(spec, "/rest/v2/emailAddresses/{email}/status", "patch")
    ).validate(patch[2])
    assert "duplicate_option" in spec_parameters(spec, "/rest/v2/contacts", "post")
    assert "duplicate_option=Email" in post[1]


def spec_parameters(spec, path, method):
    return {p["name"] for p in spec["paths"][path][method].get("parameters", [])}


def test_paths_and_query_parameters_used_exist_in_the_spec(spec):
    paths = spec["paths"]
    for path, method in [
        ("/rest/v2/oauth/connect/userinfo", "get"),
        ("/rest/v2/contacts/model", "get"),
        ("/rest/v2/contacts", "get"),
        ("/rest/v2/contacts", "post"),
        ("/rest/v2/contacts/{contact_id}", "get"),
        ("/rest/v2/contacts/{contact_id}", "delete"),
        ("/rest/v2/contacts/{contact_id}/tags", "get"),
        ("/rest/v2/tags", "get"),
        ("/rest/v2/tags/{tag_id}/contacts", "get"),
        ("/rest/v2/emailAddresses/{email}/status", "get"),
        ("/rest/v2/emailAddresses/{email}/status", "patch"),
    ]:
        assert method in paths[path], (path, method)
    assert {"filter", "fields", "page_size", "page_token"} <= spec_parameters(
        spec, "/rest/v2/contacts", "get"
    )
    assert {"page_size", "page_token"} <= spec_parameters(spec, "/rest/v2/tags", "get")


def test_responses_fed_here_match_the_spec(spec):
    schemas = spec["components"]["schemas"]
    for name, example in [
        ("Contact", contact("1", "a@example.com", "LIST_UNSUBSCRIBE")),
        ("GetUserInfoResponse", userinfo()),
        ("ObjectModel", MODEL),
        ("Error", {"code": 400, "message": "x", "status": "Bad Request", "details": []}),
    ]:
        schema = _closed(_resolve({"$ref": f"#/components/schemas/{name}"}, schemas))
        jsonschema.Draft202012Validator(schema).validate(example)
