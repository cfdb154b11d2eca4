"""Drift client against strict `responses` mocks shaped like ../shared/platforms/drift.md
(Drift publishes no machine-readable spec)."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.drift import GDPR_REASON, DriftClient
from integrations.platforms.errors import UnsupportedCapability
from integrations.platforms.types import AuthMethod, Capability, ContactRecord, Outcome, TargetField
from integrations.services import oauth
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "drift"  # steady_retries gives it a fake OAuth app

BASE = "https://driftapi.com"
TOKEN_URL = "https://driftapi.com/oauth2/token"
ACCESS = "test-access-not-real"
REFRESH = "test-refresh-not-real"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {ACCESS}"})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
FULL = "contact_read contact_write all_contact_read conversation_read"


@pytest.fixture
def integration(make_integration):
    integration = make_integration("drift", credentials={})
    oauth.save_connection(
        integration, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 7200}
    )
    return integration


@pytest.fixture
def client(integration):
    return DriftClient(integration)


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def lookup(email):
    return matchers.query_param_matcher({"email": email, "limit": "50"})


def token_info(scope=FULL):
    return {"access_token": ACCESS, "authenticated_userid": "orgId:123", "credential_id": "app",
            "token_type": "bearer", "expires_in": 0, "created_at": 1238712442000,
            "scope": scope, "id": "t1"}  # fmt: skip


# --- declarations and OAuth ----------------------------------------------------------------------


def test_oauth_only_with_drifts_documented_endpoints():
    assert DriftClient.auth_methods == (AuthMethod.OAUTH,)
    assert DriftClient.credential_fields == ()
    spec = DriftClient.oauth
    assert spec.authorize_url == "https://dev.drift.com/authorize"
    assert spec.token_url == TOKEN_URL
    assert spec.client_auth == "body" and spec.refresh_client_auth is None
    assert spec.scope == "" and not spec.pkce


def test_authorization_url_has_no_scope(integration):
    auth = oauth.authorization(integration, "https://console.example.com/cb/")
    query = parse_qs(auth.url.split("?", 1)[1])
    assert auth.url.startswith("https://dev.drift.com/authorize?")
    assert "scope" not in query  # scopes are ticked on the app, frozen into the grant
    assert query["response_type"] == ["code"] and query["state"]


def test_refresh_sends_the_client_in_the_form_body(client, integration):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/contacts", status=401, json={"errors": [{"type": "auth"}]})
        refresh = rsps.post(
            TOKEN_URL,
            json={"access_token": "new-at", "refresh_token": "new-rt", "expires_in": 7200,
                  "token_type": "bearer", "orgId": 123},
        )  # fmt: skip
        rsps.get(
            f"{BASE}/contacts",
            match=[matchers.header_matcher({"Authorization": "Bearer new-at"})],
            json={"data": []},
        )
        rsps.post(f"{BASE}/contacts", json={"data": {"id": 9, "attributes": {}}})
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
        form = parse_qs(refresh.calls[0].request.body)
        headers = refresh.calls[0].request.headers
    assert result.outcome == Outcome.CREATED
    assert form["grant_type"] == ["refresh_token"] and form["refresh_token"] == [REFRESH]
    assert form["client_id"] == ["test-drift-client"]
    assert form["client_secret"] == ["test-drift-secret-not-real"]
    assert "Authorization" not in headers


def test_privacy_calls_are_unsupported_with_the_gdpr_reason(client):
    for call in (client.delete_contact, client.export_contact):
        with pytest.raises(UnsupportedCapability) as caught:
            call("a@example.com")
        assert "org builds for itself" in caught.value.message
    assert DriftClient.unsupported_reasons[Capability.DELETE_CONTACT] == GDPR_REASON
    assert not DriftClient.supports(Capability.LIST_SEGMENTS)


# --- test_connection -----------------------------------------------------------------------------


def test_connection_ok(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/app/token_info",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher({"access_token": ACCESS})],
            json=token_info(),
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Drift org 123"
    assert report.permissions == {"upsert_contacts": True, "list_fields": True}
    assert ACCESS not in report.detail


def test_connection_without_the_elevated_scope_is_ok_but_says_so(client):
    with strict() as rsps:
        rsps.post(f"{BASE}/app/token_info", json=token_info("contact_read contact_write"))
        report = client.test_connection()
    assert report.ok is True
    assert report.permissions["list_fields"] is False
    assert "all_contact_read" in report.detail


def test_connection_missing_write_scope_is_refused(client):
    with strict() as rsps:
        rsps.post(f"{BASE}/app/token_info", json=token_info("contact_read conversation_read"))
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "lacks the contact_write scope" in report.detail
    assert "reconnect" in report.detail
    assert report.permissions["upsert_contacts"] is False


def test_connection_revoked_token(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/app/token_info",
            status=401,
            json={"errors": [{"type": "authentication_error", "message": "Invalid token"}]},
        )
        rsps.post(TOKEN_URL, status=400, json={"error": "invalid_grant"})
        report = client.test_connection()
    assert report.ok is False
    assert "reconnect" in report.detail.lower()
    assert ACCESS not in report.detail and REFRESH not in report.detail


def test_connection_without_an_oauth_connection_calls_nothing(make_integration):
    client = DriftClient(make_integration("drift", credentials={}))
    with strict(assert_all_requests_are_fired=False) as rsps:
        report = client.test_connection()
        assert len(rsps.calls) == 0
    assert report.ok is False and "Connect with Drift" in report.detail


# --- fields --------------------------------------------------------------------------------------


def test_list_fields(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/contacts/attributes",
            match=[AUTH],
            json={"data": {"properties": [
                {"type": "STRING", "displayName": "Email", "name": "email"},
                {"type": "STRING", "displayName": "City", "name": "city"},
                {"type": "NUMERIC", "displayName": "Seats", "name": "seats"},
                {"type": "BOOLEAN", "displayName": "VIP", "name": "vip"},
                {"type": "DATETIME", "displayName": "Renewal", "name": "renewal_at"},
            ]}},
        )  # fmt: skip
        fields = {f.key: f for f in client.list_fields()}
    assert fields["email"] == TargetField("email", "Email", "email", required=True)
    assert fields["city"] == TargetField("city", "City", "string")
    assert (fields["seats"].type, fields["vip"].type, fields["renewal_at"].type) == (
        "number",
        "boolean",
        "date",
    )
    assert "first_name" in fields


def test_list_fields_without_the_elevated_scope_offers_the_standard_ones(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/contacts/attributes",
            status=403,
            json={"errors": [{"type": "forbidden", "message": "missing all_contact_read"}]},
        )
        fields = [f.key for f in client.list_fields()]
    assert fields == ["email", "name", "first_name", "last_name", "phone", "externalId"]


# --- upsert --------------------------------------------------------------------------------------


def test_create_when_unknown_update_when_found(client):
    joined = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/contacts", match=[AUTH, lookup("new@example.com")], json={"data": []})
        rsps.post(
            f"{BASE}/contacts",
            match=[
                AUTH,
                JSON_BODY,
                matchers.json_params_matcher(
                    {
                        "attributes": {
                            "email": "new@example.com",
                            "first_name": "Ann",
                            "joined_at": 1704164645000,
                        }
                    }
                ),
            ],  # fmt: skip
            json={"data": {"id": 5001, "createdAt": 1, "attributes": {"email": "new@example.com"}}},
        )
        rsps.get(
            f"{BASE}/contacts",
            match=[lookup("old@example.com")],
            json={"data": {"id": 77, "createdAt": 1, "attributes": {"email": "old@example.com"}}},
        )
        rsps.patch(
            f"{BASE}/contacts/77",
            match=[
                AUTH,
                matchers.json_params_matcher(
                    {"attributes": {"email": "old@example.com", "sharpsend_status": "subscribed"}}
                ),
            ],
            json={"data": {"id": 77, "attributes": {}}},
        )
        results = client.upsert_contacts(
            [
                rec(1, "new@example.com", first_name="Ann", joined_at=joined, gone=None),
                rec(2, "old@example.com", sharpsend_status="subscribed"),
            ],
            update_existing=True,
        )
    assert [(r.key, r.outcome, r.code) for r in results] == [
        (1, Outcome.CREATED, "5001"),
        (2, Outcome.UPDATED, "77"),
    ]


def test_of_several_contacts_with_the_email_the_most_recently_active_wins(client):
    matches = [
        {"id": 1, "createdAt": 300, "attributes": {"email": "a@example.com"}},
        {"id": 2, "createdAt": 100, "attributes": {"email": "a@example.com", "last_active": 900}},
        {"id": 3, "createdAt": 200, "attributes": {"email": "a@example.com", "last_active": 500}},
    ]
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json={"data": matches})
        patch = rsps.patch(f"{BASE}/contacts/2", json={"data": {"id": 2}})
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert patch.call_count == 1
    assert (result.outcome, result.code) == (Outcome.UPDATED, "2")


def test_keep_existing_leaves_a_found_contact_alone(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json={"data": [{"id": 8, "attributes": {}}]})
        (result,) = client.upsert_contacts([rec(1, "a@example.com", first_name="X")], False)
    assert (result.outcome, result.code) == (Outcome.UNCHANGED, "kept_existing")


def test_a_refused_contact_is_rejected_alone(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/contacts", match=[lookup("bad@")], json={"data": []})
        rsps.post(
            f"{BASE}/contacts",
            status=400,
            json={"errors": [{"type": "validation_error", "message": "A valid email is required",
                              "param": "email"}]},
        )  # fmt: skip
        rsps.get(f"{BASE}/contacts", match=[lookup("ok@example.com")], json={"data": []})
        rsps.post(f"{BASE}/contacts", json={"data": {"id": 3}})
        results = client.upsert_contacts([rec(1, "bad@"), rec(2, "ok@example.com")], True)
    assert [(r.outcome, r.code) for r in results] == [
        (Outcome.REJECTED_DATA, "validation_error"),
        (Outcome.CREATED, "3"),
    ]
    assert "A valid email is required (email)" in results[0].message
    assert results[0].hint


def test_missing_write_scope_stops_and_rejects_the_rest(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json={"data": []})
        post = rsps.post(
            f"{BASE}/contacts", status=403, json={"errors": [{"type": "forbidden", "message": "x"}]}
        )
        results = client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(3)], True)
    assert post.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 3


def test_429s_back_off_then_throttle_the_rest(client, fake_clock):
    with strict() as rsps:
        get = rsps.get(
            f"{BASE}/contacts",
            status=429,
            json={"errors": [{"type": "rate_limit_exceeded", "message": "Too Many Requests"}]},
        )
        results = client.upsert_contacts([rec(i, f"p{i}@example.com") for i in range(3)], True)
    assert get.call_count == 3  # PLATFORM_MAX_ATTEMPTS, with backoff between them
    assert [r.outcome for r in results] == [Outcome.THROTTLED] * 3
    assert len(fake_clock.sleeps) >= 2


def test_paces_its_calls(client, fake_clock):
    with strict() as rsps:
        rsps.get(f"{BASE}/contacts", json={"data": [{"id": 1}]})
        rsps.patch(f"{BASE}/contacts/1", json={"data": {"id": 1}})
        client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert fake_clock.sleeps == [pytest.approx(0.1)] * 3  # 10 a second, 4 calls


def test_token_info_is_asked_again_with_the_refreshed_token(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/app/token_info",
            match=[matchers.json_params_matcher({"access_token": ACCESS})],
            status=401,
            json={"errors": [{"type": "authentication_error", "message": "expired"}]},
        )
        rsps.post(TOKEN_URL, json={"access_token": "new-at", "refresh_token": "new-rt",
                                   "expires_in": 7200})  # fmt: skip
        rsps.post(
            f"{BASE}/app/token_info",
            match=[matchers.json_params_matcher({"access_token": ACCESS})],
            status=401,
            json={"errors": [{"type": "authentication_error", "message": "expired"}]},
        )
        rsps.post(
            f"{BASE}/app/token_info",
            match=[
                matchers.header_matcher({"Authorization": "Bearer new-at"}),
                matchers.json_params_matcher({"access_token": "new-at"}),
            ],
            json={**token_info(), "access_token": "new-at"},
        )
        report = client.test_connection()
    assert report.ok is True
    assert "new-at" not in report.detail
