"""The Drift emulator: bearer tokens from the sandbox OAuth server with per-account scopes,
token info, attributes, contacts looked up, created and patched, 429s."""

from __future__ import annotations

import types
from datetime import timedelta
from urllib.parse import urlencode

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import drift as emulator
from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact, SandboxOAuthToken

pytestmark = pytest.mark.django_db

BASE = "/sandbox/drift/driftapi.com"
ACCOUNT = "sandbox-drift-org"


@pytest.fixture(autouse=True)
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


def token(account=ACCOUNT, access="sbx-at-drift", expired=False):
    SandboxOAuthToken.objects.create(
        platform="drift",
        account=account,
        access_token=access,
        refresh_token=f"{access}-refresh",
        access_expires_at=timezone.now() + timedelta(seconds=-5 if expired else 900),
    )
    return {"Authorization": f"Bearer {access}"}


@pytest.fixture
def auth(db):
    registry.seed("drift")
    return token()


def create(client, headers, **attributes):
    return client.post(
        f"{BASE}/contacts",
        data=orjson.dumps({"attributes": attributes}),
        content_type="application/json",
        headers=headers,
    )


def patch(client, headers, contact_id, **attributes):
    return client.patch(
        f"{BASE}/contacts/{contact_id}",
        data=orjson.dumps({"attributes": attributes}),
        content_type="application/json",
        headers=headers,
    )


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic c2FuZGJveDp4"}],
        ids=["none", "unknown", "basic"],
    )
    def test_refused(self, client, headers):
        token()
        response = client.get(f"{BASE}/contacts", {"email": "a@example.com"}, headers=headers)
        assert response.status_code == 401
        assert response.json()["errors"][0]["type"] == "authentication_error"

    def test_expired(self, client):
        headers = token(expired=True)
        assert client.get(f"{BASE}/contacts/attributes", headers=headers).status_code == 401

    def test_scopes_are_enforced(self, client):
        read_only = token("sandbox-drift-readonly", "sbx-at-ro")
        assert (
            client.get(f"{BASE}/contacts", {"email": "a@b.co"}, headers=read_only).status_code
            == 200
        )
        refused = create(client, read_only, email="a@example.com")
        assert refused.status_code == 403
        assert "contact_write" in refused.json()["errors"][0]["message"]
        basic = token("sandbox-drift-basic", "sbx-at-basic")
        assert client.get(f"{BASE}/contacts/attributes", headers=basic).status_code == 403

    def test_refresh_takes_the_client_in_the_body_and_rotates(self, client):
        token()
        url = "/sandbox/oauth/drift/token"
        form = {"grant_type": "refresh_token", "refresh_token": "sbx-at-drift-refresh",
                "client_id": "sandbox-drift-client-id",
                "client_secret": "sandbox-drift-client-secret"}  # fmt: skip
        kind = "application/x-www-form-urlencoded"
        ok = client.post(url, urlencode(form), content_type=kind)
        assert ok.status_code == 200
        again = client.post(url, urlencode(form), content_type=kind)
        assert again.json()["error"] == "invalid_grant"


class TestTokenInfo:
    def test_scopes_and_org(self, client, auth):
        data = client.post(
            f"{BASE}/app/token_info",
            data=orjson.dumps({"access_token": "sbx-at-drift"}),
            content_type="application/json",
        ).json()
        assert data["authenticated_userid"] == "orgId:4242"
        assert set(data["scope"].split()) >= {"contact_read", "contact_write", "all_contact_read"}

    def test_unknown_token(self, client, auth):
        response = client.post(
            f"{BASE}/app/token_info",
            data=orjson.dumps({"access_token": "nope"}),
            content_type="application/json",
        )
        assert response.status_code == 401


class TestContacts:
    def test_create_lookup_patch(self, client, auth):
        created = create(client, auth, email="Ann@Example.com", first_name="Ann", seats=3)
        assert created.status_code == 200
        data = created.json()["data"]
        assert isinstance(data["id"], int) and isinstance(data["createdAt"], int)
        found = client.get(f"{BASE}/contacts", {"email": "ann@example.com"}, headers=auth).json()
        assert [c["id"] for c in found["data"]] == [data["id"]]
        assert patch(client, auth, data["id"], last_name="Lee").status_code == 200
        row = SandboxContact.objects.get(platform="drift", identifier=str(data["id"]))
        assert row.attributes == {
            "email": "Ann@Example.com", "first_name": "Ann", "seats": 3, "last_name": "Lee"
        }  # fmt: skip
        # A new key became a custom attribute, typed by its first value.
        props = client.get(f"{BASE}/contacts/attributes", headers=auth).json()["data"]["properties"]
        kinds = {p["name"]: p["type"] for p in props}
        assert kinds["seats"] == "NUMERIC" and kinds["plan"] == "STRING"

    def test_a_second_contact_with_the_same_email_is_refused(self, client, auth):
        create(client, auth, email="a@example.com")
        again = create(client, auth, email="A@example.com")
        assert again.status_code == 400
        assert again.json()["errors"][0]["param"] == "email"

    @pytest.mark.parametrize(
        "payload", [{"email": "nope"}, {}, None], ids=["bad-email", "no-email", "not-attributes"]
    )
    def test_refused_bodies(self, client, auth, payload):
        body = orjson.dumps({"attributes": payload} if payload is not None else {"email": "x"})
        response = client.post(
            f"{BASE}/contacts", data=body, content_type="application/json", headers=auth
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["type"] == "validation_error"
        assert not SandboxContact.objects.exists()

    def test_patch_unknown_contact(self, client, auth):
        assert patch(client, auth, 99, name="x").status_code == 404


class TestRate:
    def test_429_past_the_rate(self, client, auth, sandbox_time):
        for _ in range(emulator.RATE[0]):
            assert (
                client.get(f"{BASE}/contacts", {"email": "a@b.co"}, headers=auth).status_code == 200
            )
        refused = client.get(f"{BASE}/contacts", {"email": "a@b.co"}, headers=auth)
        assert refused.status_code == 429
        assert "Retry-After" not in refused
        sandbox_time.now += 1
        assert client.get(f"{BASE}/contacts", {"email": "a@b.co"}, headers=auth).status_code == 200
