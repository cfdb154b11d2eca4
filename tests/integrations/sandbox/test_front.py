"""The Front emulator: Bearer tokens (API or OAuth), scopes, contacts by alias, custom-field
checks, PATCH replacing custom fields, contact lists, the company rate limit."""

from __future__ import annotations

import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db

BASE = "/sandbox/front/api2.frontapp.com"
TOKEN = {"Authorization": "Bearer sandbox-front-api-token"}
READ_ONLY = {"Authorization": "Bearer sandbox-front-readonly-token"}
ANN = f"{BASE}/contacts/alt:email:ann%40example.com"


@pytest.fixture(autouse=True)
def _seeded():
    registry.seed("front")


def send(client, method, url, body, headers=TOKEN):
    return getattr(client, method)(
        url, data=orjson.dumps(body), content_type="application/json", headers=headers
    )


def create(client, email="ann@example.com", **extra):
    body = {"handles": [{"source": "email", "handle": email}], **extra}
    return send(client, "post", f"{BASE}/contacts", body)


def test_auth(client):
    assert client.get(f"{BASE}/me").status_code == 401
    assert client.get(f"{BASE}/me", headers={"Authorization": "Bearer nope"}).status_code == 401
    me = client.get(f"{BASE}/me", headers=TOKEN)
    assert me.status_code == 200
    assert me.json()["id"].startswith("cmp_")
    assert client.get("/sandbox/front/api.example.com/me", headers=TOKEN).status_code == 404


def test_restricted_token_reads_but_cannot_write(client):
    assert client.get(f"{BASE}/contact_lists", headers=READ_ONLY).status_code == 200
    refused = send(client, "patch", ANN, {}, headers=READ_ONLY)
    assert refused.status_code == 403
    assert "contacts:write" in refused.json()["_error"]["message"]
    assert not SandboxContact.objects.exists()


def test_create_lookup_update_delete(client):
    created = create(client, "Ann@Example.com", name="Ann", custom_fields={"plan": "pro"})
    assert created.status_code == 201
    assert created.json()["id"].startswith("crd_")
    assert create(client, "ann@example.com").status_code == 409
    found = client.get(ANN, headers=TOKEN).json()
    assert found["name"] == "Ann"
    assert found["handles"] == [{"handle": "Ann@Example.com", "source": "email"}]
    by_id = client.get(f"{BASE}/contacts/{found['id']}", headers=TOKEN)
    assert by_id.json()["name"] == "Ann"

    # custom_fields are replaced as a whole; other properties stay.
    assert send(client, "patch", ANN, {"custom_fields": {"Seats": 2}}).status_code == 204
    found = client.get(ANN, headers=TOKEN).json()
    assert found["custom_fields"] == {"Seats": 2} and found["name"] == "Ann"
    assert client.delete(ANN, headers=TOKEN).status_code == 204
    assert client.get(ANN, headers=TOKEN).status_code == 404


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"name": "no handle"}, "handles is required"),
        ({"handles": [{"source": "mail", "handle": "a@b.co"}]}, "Unknown handle source"),
        ({"handles": [{"source": "email", "handle": "nope"}]}, "Invalid email handle"),
        (
            {"handles": [{"source": "email", "handle": "a@b.co"}], "custom_fields": {"X": 1}},
            "Unknown contact custom field",
        ),
        (
            {"handles": [{"source": "email", "handle": "a@b.co"}], "custom_fields": {"Seats": "2"}},
            "Invalid value for custom field Seats",
        ),
        ({"handles": [{"source": "email", "handle": "a@b.co"}], "nmae": "x"}, "Unknown"),
    ],
)
def test_bad_bodies(client, body, reason):
    response = send(client, "post", f"{BASE}/contacts", body)
    assert response.status_code == 400
    assert reason in response.json()["_error"]["message"]
    assert not SandboxContact.objects.exists()


def test_custom_fields_and_lists(client):
    fields = client.get(f"{BASE}/contacts/custom_fields", headers=TOKEN).json()["_results"]
    assert {f["name"]: f["type"] for f in fields} == {
        "interest": "string",
        "plan": "enum",
        "Renewal": "datetime",
        "Seats": "number",
    }
    for i in range(3):
        create(client, f"p{i}@example.com", custom_fields={"interest": "growth"})
    create(client, "q@example.com")
    lists = client.get(f"{BASE}/contact_lists", headers=TOKEN).json()["_results"]
    assert [item["name"] for item in lists] == [
        "Growth Investors",
        "Dividend Income",
        "All readers",
    ]
    page = client.get(f"{BASE}/contact_lists/grp_1/contacts?limit=2", headers=TOKEN).json()
    assert len(page["_results"]) == 2
    assert "page_token=2" in page["_pagination"]["next"]
    rest = client.get(f"{BASE}/contact_lists/grp_1/contacts?limit=2&page_token=2", headers=TOKEN)
    assert len(rest.json()["_results"]) == 1 and rest.json()["_pagination"]["next"] is None
    assert client.get(f"{BASE}/contact_lists/grp_9/contacts", headers=TOKEN).status_code == 404


def test_company_rate_limit(client, monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    for _ in range(50):
        assert client.get(f"{BASE}/me", headers=TOKEN).status_code == 200
    limited = client.get(f"{BASE}/me", headers=TOKEN)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["x-ratelimit-remaining"] == "0"
    state.now += 61
    assert client.get(f"{BASE}/me", headers=TOKEN).status_code == 200
