"""The Keap emulator: bearer tokens from the sandbox OAuth server, contacts upserted by email,
replace-all arrays, opt-in status rules, tags with their contacts, quota headers and 429s."""

from __future__ import annotations

import base64
import types
from datetime import timedelta
from urllib.parse import urlencode

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import emulation, registry
from integrations.sandbox import keap as emulator
from integrations.sandbox.models import SandboxContact, SandboxOAuthToken

pytestmark = pytest.mark.django_db

BASE = "/sandbox/keap/api.keap.com/crm/rest/v2"
ACCOUNT = "sandbox-keap-app"
TOKEN = "sbx-at-test-keap"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture(autouse=True)
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


def token(account=ACCOUNT, access=TOKEN, expired=False):
    return SandboxOAuthToken.objects.create(
        platform="keap",
        account=account,
        access_token=access,
        refresh_token=f"{access}-refresh",
        access_expires_at=timezone.now() + timedelta(seconds=-5 if expired else 900),
    )


@pytest.fixture
def auth(db):
    token()
    registry.seed("keap")
    return {"Authorization": f"Bearer {TOKEN}"}


def post(client, auth, body, option="Email"):
    query = f"?duplicate_option={option}" if option else ""
    return client.post(
        f"{BASE}/contacts{query}",
        data=orjson.dumps(body),
        content_type="application/json",
        headers=auth,
    )


def body(email, **extra):
    entry = {"email": email, "field": "EMAIL1"}
    if extra.pop("opt_in", False):
        entry["opt_in_reason"] = "Newsletter"
    return {"email_addresses": [entry], **extra}


def stored(email):
    return SandboxContact.objects.get(platform="keap", attributes__email__iexact=email)


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer nope"}, {"X-Keap-API-Key": TOKEN}],
        ids=["none", "unknown-token", "api-key-header"],
    )
    def test_refused(self, client, headers):
        token()
        response = client.get(f"{BASE}/oauth/connect/userinfo", headers=headers)
        assert response.status_code == 401
        assert response.json()["message"] == "Invalid Access Token"

    def test_expired_token_refused(self, client):
        token(expired=True)
        response = client.get(f"{BASE}/tags", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 401

    def test_unknown_host(self, client, auth):
        response = client.get("/sandbox/keap/api.example.com/crm/rest/v2/tags", headers=auth)
        assert response.status_code == 404

    def test_the_legacy_host_answers_too(self, client, auth):
        response = client.get("/sandbox/keap/api.infusionsoft.com/crm/rest/v2/tags", headers=auth)
        assert response.status_code == 200

    def test_token_endpoint_refresh_wants_basic_client_auth_and_rotates(self, client):
        refresh = token().refresh_token
        url = "/sandbox/oauth/keap/token"
        form = {"grant_type": "refresh_token", "refresh_token": refresh}

        def send(data, **headers):
            return client.post(url, urlencode(data), content_type=FORM, headers=headers)

        in_body = send(
            {**form, "client_id": "sandbox-keap-client-id",
             "client_secret": "sandbox-keap-client-secret"}
        )  # fmt: skip
        assert in_body.status_code == 401  # Keap wants Basic for refreshes
        basic = base64.b64encode(b"sandbox-keap-client-id:sandbox-keap-client-secret").decode()
        ok = send(form, Authorization=f"Basic {basic}")
        assert ok.status_code == 200
        assert ok.json()["refresh_token"] != refresh
        again = send(form, Authorization=f"Basic {basic}")
        assert again.json()["error"] == "invalid_grant"  # rotated: the old one is dead


class TestUserInfoAndModel:
    def test_userinfo(self, client, auth):
        data = client.get(f"{BASE}/oauth/connect/userinfo", headers=auth).json()
        assert data["tenant_id"] == ACCOUNT and data["is_admin"] is True

    def test_a_non_admin_user(self, client, auth):
        token(account="sandbox-keap-staff", access="sbx-at-staff")
        headers = {"Authorization": "Bearer sbx-at-staff"}
        data = client.get(f"{BASE}/oauth/connect/userinfo", headers=headers).json()
        assert data["is_admin"] is False

    def test_model_lists_the_seeded_custom_fields(self, client, auth):
        data = client.get(f"{BASE}/contacts/model", headers=auth).json()
        by_name = {f["field_name"]: f for f in data["custom_fields"]}
        assert by_name["interest"]["id"] == "12" and by_name["interest"]["field_type"] == "TEXT"
        assert by_name["signup_date"]["field_type"] == "DATE"


class TestContacts:
    def test_create_then_update_by_email(self, client, auth):
        created = post(client, auth, body("Ann@Example.com", given_name="Ann", opt_in=True))
        assert created.status_code == 201
        data = created.json()
        assert data["email_addresses"][0]["email_opt_status"] == "SINGLE_OPT_IN"
        updated = post(client, auth, body("ann@example.com", family_name="Lee"))
        assert updated.status_code == 200
        assert updated.json()["id"] == data["id"]
        row = stored("ann@example.com")
        assert row.attributes["given_name"] == "Ann" and row.attributes["family_name"] == "Lee"
        assert row.attributes["email_status"] == "SINGLE_OPT_IN"  # the same address: kept

    def test_without_duplicate_option_every_post_creates(self, client, auth):
        assert post(client, auth, body("dup@example.com"), option=None).status_code == 201
        assert post(client, auth, body("dup@example.com"), option=None).status_code == 201
        assert SandboxContact.objects.filter(attributes__email="dup@example.com").count() == 2

    def test_new_address_without_opt_in_reason_is_non_marketable(self, client, auth):
        data = post(client, auth, body("n@example.com")).json()
        assert data["email_addresses"][0]["email_opt_status"] == "NON_MARKETABLE"
        assert data["email_addresses"][0]["is_opt_in"] is False

    def test_custom_fields_replace_all(self, client, auth):
        first = body("c@example.com", custom_fields=[{"id": "12", "content": "growth"},
                                                     {"id": "14", "content": "gold"}])  # fmt: skip
        post(client, auth, first)
        post(client, auth, body("c@example.com", custom_fields=[{"id": "12", "content": "x"}]))
        attributes = stored("c@example.com").attributes
        assert attributes["interest"] == "x"
        assert "plan" not in attributes  # not sent: cleared, as Keap does
        post(client, auth, body("c@example.com", given_name="C"))  # no custom_fields: kept
        assert stored("c@example.com").attributes["interest"] == "x"

    @pytest.mark.parametrize(
        ("payload", "message"),
        [
            ({"given_name": "A"}, "at least one item"),
            (body("not-an-email"), "Invalid email address"),
            (body("x" * 70 + "@example.com"), "Invalid email address"),
            (body("a@example.com", given_name="N" * 41), "at most 40"),
            (body("a@example.com", first_name="A"), "Unknown properties: first_name"),
            (body("a@example.com", custom_fields=[{"id": "999", "content": 1}]), "custom field"),
        ],
    )
    def test_refused_bodies(self, client, auth, payload, message):
        response = post(client, auth, payload)
        assert response.status_code == 400
        assert message in response.json()["message"]
        assert response.json()["code"] == 400
        assert not SandboxContact.objects.exists()

    def test_bad_duplicate_option(self, client, auth):
        assert post(client, auth, body("a@example.com"), option="Phone").status_code == 400

    def test_lookup_get_and_delete(self, client, auth):
        contact_id = post(client, auth, body("d@example.com")).json()["id"]
        found = client.get(
            f"{BASE}/contacts", {"filter": "email==D@example.com", "fields": "id"}, headers=auth
        ).json()
        assert [c["id"] for c in found["contacts"]] == [contact_id]
        assert client.get(f"{BASE}/contacts/{contact_id}", headers=auth).status_code == 200
        assert client.delete(f"{BASE}/contacts/{contact_id}", headers=auth).status_code == 204
        assert client.delete(f"{BASE}/contacts/{contact_id}", headers=auth).status_code == 404


class TestEmailStatus:
    def url(self, email):
        return f"{BASE}/emailAddresses/{email}/status"

    def patch(self, client, auth, email, opted_in):
        return client.patch(
            self.url(email),
            data=orjson.dumps({"opted_in": opted_in, "reason": "test"}),
            content_type="application/json",
            headers=auth,
        )

    def test_opt_in_from_non_marketable_and_out_again(self, client, auth):
        post(client, auth, body("s@example.com"))
        assert self.patch(client, auth, "s@example.com", True).json()["status"] == "SINGLE_OPT_IN"
        answer = self.patch(client, auth, "s@example.com", False).json()
        assert (answer["status"], answer["opted_in"]) == ("MANUAL", False)
        assert self.patch(client, auth, "s@example.com", True).json()["opted_in"] is True

    @pytest.mark.parametrize("status", ["LIST_UNSUBSCRIBE", "HARD_BOUNCE", "SPAM", "LOCKDOWN"])
    def test_no_opt_in_after_unsubscribe_bounce_or_complaint(self, client, auth, status):
        post(client, auth, body("u@example.com"))
        emulator.set_email_status(ACCOUNT, "u@example.com", status)
        answer = self.patch(client, auth, "u@example.com", True).json()
        assert (answer["status"], answer["opted_in"]) == (status, False)
        # An upsert with an opt-in reason does not change it either.
        data = post(client, auth, body("u@example.com", opt_in=True)).json()
        assert data["email_addresses"][0]["email_opt_status"] == status

    def test_reason_is_required_and_unknown_address_is_404(self, client, auth):
        post(client, auth, body("r@example.com"))
        response = client.patch(
            self.url("r@example.com"),
            data=orjson.dumps({"opted_in": True}),
            content_type="application/json",
            headers=auth,
        )
        assert response.status_code == 400
        assert client.get(self.url("nobody@example.com"), headers=auth).status_code == 404


class TestTags:
    def test_tags_and_their_contacts_follow_the_interest_field(self, client, auth):
        for i, interest in enumerate(["growth", "growth", "dividends"]):
            post(client, auth, body(f"t{i}@example.com",
                                    custom_fields=[{"id": "12", "content": interest}]))  # fmt: skip
        tags = client.get(f"{BASE}/tags", headers=auth).json()["tags"]
        by_name = {t["name"]: t["id"] for t in tags}
        assert set(by_name) == {"Growth Investors", "Dividend Income", "All readers"}
        growth = client.get(
            f"{BASE}/tags/{by_name['Growth Investors']}/contacts", {"page_size": 1}, headers=auth
        ).json()
        assert len(growth["contacts"]) == 1 and growth["next_page_token"] == "1"
        rest = client.get(
            f"{BASE}/tags/{by_name['Growth Investors']}/contacts",
            {"page_size": 1, "page_token": "1"},
            headers=auth,
        ).json()
        assert len(rest["contacts"]) == 1 and rest["next_page_token"] == ""
        contact_id = stored("t2@example.com").identifier
        applied = client.get(f"{BASE}/contacts/{contact_id}/tags", headers=auth).json()["tags"]
        assert {t["tag"]["name"] for t in applied} == {"Dividend Income", "All readers"}

    def test_page_size_limit_and_unknown_tag(self, client, auth):
        assert client.get(f"{BASE}/tags", {"page_size": 1001}, headers=auth).status_code == 400
        assert client.get(f"{BASE}/tags/99/contacts", headers=auth).status_code == 404


class TestQuota:
    def test_headers_count_down(self, client, auth):
        first = client.get(f"{BASE}/tags", headers=auth)
        second = client.get(f"{BASE}/tags", headers=auth)
        assert first["x-keap-product-throttle-available"] == "1499"
        assert second["x-keap-product-throttle-available"] == "1498"
        assert second["x-keap-product-quota-available"] == "149998"
        assert second["x-keap-product-throttle-time-unit"] == "minute"

    def test_past_the_minute_429_without_retry_after(self, client, auth, monkeypatch, sandbox_time):
        monkeypatch.setattr(emulator.auth, "THROTTLE", (2, 60.0))  # read by the gate
        assert client.get(f"{BASE}/tags", headers=auth).status_code == 200
        assert client.get(f"{BASE}/tags", headers=auth).status_code == 200
        refused = client.get(f"{BASE}/tags", headers=auth)
        assert refused.status_code == 429
        assert refused.json() == emulator.THROTTLED_BODY
        assert "Retry-After" not in refused
        assert refused["x-keap-product-throttle-available"] == "0"
        sandbox_time.now += 60
        assert client.get(f"{BASE}/tags", headers=auth).status_code == 200

    def test_injected_throttling(self, client, auth):
        emulation.set_faults("keap", throttle_next=1, retry_after=3)
        refused = client.get(f"{BASE}/tags", headers=auth)
        assert refused.status_code == 429 and refused["Retry-After"] == "3"
        assert client.get(f"{BASE}/tags", headers=auth).status_code == 200


def test_the_contact_list_pages_by_token_and_returns_the_fields_asked_for(client, auth):
    post(client, auth, body("ann@example.com", given_name="Ann", opt_in=True))
    post(client, auth, body("bob@example.com", given_name="Bob"))
    first = client.get(
        f"{BASE}/contacts",
        {"page_size": 1, "fields": "id,given_name,email_addresses"},
        headers=auth,
    ).json()
    [ann] = first["contacts"]
    assert set(ann) == {"id", "given_name", "email_addresses"}
    assert ann["email_addresses"][0]["email_opt_status"] == "SINGLE_OPT_IN"
    assert first["next_page_token"]
    rest = client.get(
        f"{BASE}/contacts", {"page_size": 1, "page_token": first["next_page_token"]}, headers=auth
    ).json()
    assert rest["contacts"][0]["email_addresses"][0]["email_opt_status"] == "NON_MARKETABLE"
    assert rest["next_page_token"] == ""
    wrong = client.get(f"{BASE}/contacts", {"fields": "id,secret_sauce"}, headers=auth)
    assert wrong.status_code == 400
    too_many = client.get(f"{BASE}/contacts", {"page_size": 1001}, headers=auth)
    assert too_many.status_code == 400
