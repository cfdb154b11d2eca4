"""The Crisp emulator: plugin-tier Basic auth, website installs, profiles by email, custom data,
subscription, suggestions, the daily quota."""

from __future__ import annotations

import base64

import orjson
import pytest

from integrations.sandbox import emulation
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db

SITE = "/sandbox/crisp/api.crisp.chat/v1/website/sbx-website-1"


def basic(identifier, key, tier="plugin"):
    token = base64.b64encode(f"{identifier}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}", "X-Crisp-Tier": tier}


PLUGIN = basic("sandbox-crisp-plugin-identifier", "sandbox-crisp-plugin-key")
READ_ONLY = basic("sandbox-crisp-readonly-identifier", "sandbox-crisp-readonly-key")


def send(client, method, url, body, headers=PLUGIN):
    return getattr(client, method)(
        url, data=orjson.dumps(body), content_type="application/json", headers=headers
    )


def test_auth_needs_the_plugin_tier(client):
    url = "/sandbox/crisp/api.crisp.chat/v1/plugin/connect/account"
    assert client.get(url).status_code == 401
    wrong_tier = basic("sandbox-crisp-plugin-identifier", "sandbox-crisp-plugin-key", "website")
    response = client.get(url, headers=wrong_tier)
    assert response.status_code == 401
    assert response.json() == {
        "error": True,
        "reason": "invalid_session",
        "data": {"message": "invalid_session"},
    }
    assert client.get(url, headers=PLUGIN).json()["data"]["plugin_id"]


def test_a_website_without_the_plugin_is_refused(client):
    other = "/sandbox/crisp/api.crisp.chat/v1/website/other-site"
    response = client.get(other, headers=PLUGIN)
    assert response.status_code == 403
    assert response.json()["reason"] == "not_allowed"


def test_profile_lifecycle_by_email(client):
    created = send(
        client, "post", f"{SITE}/people/profile", {"email": "Ann@Example.com", "segments": ["a"]}
    )
    assert created.status_code == 201
    assert created.json()["data"]["people_id"]
    again = send(client, "post", f"{SITE}/people/profile", {"email": "ann@example.com"})
    assert (again.status_code, again.json()["reason"]) == (409, "people_exists")

    ann = "ann%40example.com"
    patched = send(client, "patch", f"{SITE}/people/profile/{ann}", {"person": {"nickname": "Ann"}})
    assert patched.status_code == 200
    assert (
        send(client, "patch", f"{SITE}/people/data/{ann}", {"data": {"plan": "pro"}}).status_code
        == 200
    )
    assert (
        send(client, "patch", f"{SITE}/people/data/{ann}", {"data": {"x": [1]}}).status_code == 400
    )
    assert send(client, "patch", f"{SITE}/people/data/{ann}", {"plan": "pro"}).status_code == 400
    sub = client.get(f"{SITE}/people/subscription/{ann}", headers=PLUGIN).json()["data"]
    assert sub == {"email": True}
    assert (
        send(client, "patch", f"{SITE}/people/subscription/{ann}", {"email": False}).status_code
        == 200
    )
    row = SandboxContact.objects.get(platform="crisp", identifier="ann@example.com")
    assert row.attributes["person"] == {"nickname": "Ann"}
    assert row.attributes["data"] == {"plan": "pro"}
    assert row.attributes["subscribed"] is False

    profile = client.get(f"{SITE}/people/profile/{ann}", headers=PLUGIN).json()["data"]
    assert profile["email"] == "Ann@Example.com" and profile["segments"] == ["a"]
    by_id = client.get(f"{SITE}/people/profile/{profile['people_id']}", headers=PLUGIN)
    assert by_id.status_code == 200
    assert client.delete(f"{SITE}/people/profile/{ann}", headers=PLUGIN).status_code == 200
    missing = client.get(f"{SITE}/people/subscription/{ann}", headers=PLUGIN)
    assert (missing.status_code, missing.json()["reason"]) == (404, "people_not_found")


def test_read_only_token(client):
    assert client.get(f"{SITE}/people/profiles/1", headers=READ_ONLY).status_code == 200
    refused = send(client, "post", f"{SITE}/people/profile", {"email": "a@b.co"}, READ_ONLY)
    assert (refused.status_code, refused.json()["reason"]) == (403, "not_allowed")
    assert not SandboxContact.objects.exists()


def test_suggestions_count_what_is_stored(client):
    for i, segments in enumerate((["vip"], ["vip", "press"], [])):
        send(
            client,
            "post",
            f"{SITE}/people/profile",
            {"email": f"p{i}@ex.com", "segments": segments},
        )
        send(client, "patch", f"{SITE}/people/data/p{i}%40ex.com", {"data": {"plan": "pro"}})
    segments = client.get(f"{SITE}/people/suggest/segments/1", headers=PLUGIN).json()["data"]
    assert segments == [{"segment": "press", "count": 1}, {"segment": "vip", "count": 2}]
    keys = client.get(f"{SITE}/people/suggest/data/1", headers=PLUGIN).json()["data"]
    assert keys == [{"key": "plan", "count": 3}]
    assert client.get(f"{SITE}/people/suggest/data/2", headers=PLUGIN).json()["data"] == []


def test_daily_quota_answers_429_without_retry_after(client):
    for _ in range(5000):
        emulation.over_limit("crisp:sandbox-crisp-plugin-identifier:quota", 5000, 86_400.0)
    response = client.get(f"{SITE}/people/profiles/1", headers=PLUGIN)
    assert response.status_code == 429
    assert response.json()["reason"] == "quota_limited"
    assert "Retry-After" not in response.headers
