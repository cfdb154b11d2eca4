"""The Kit emulator: API-key auth, the per-key rate limit, custom fields, subscriber upsert,
lookup and unsubscribe, tags with counts, segments, the OAuth-only bulk endpoint."""

from __future__ import annotations

import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db

BASE = "/sandbox/kit/api.kit.com/v4"
KEY = {"X-Kit-Api-Key": "sandbox-kit-v4-api-key"}
ACCOUNT = "sandbox-kit-creator"


def upsert(client, headers=KEY, **body):
    return client.post(
        f"{BASE}/subscribers", data=orjson.dumps(body), content_type="application/json",
        headers=headers,
    )  # fmt: skip


def stored(email: str) -> dict:
    return SandboxContact.objects.get(platform="kit", account=ACCOUNT, identifier=email).attributes


@pytest.fixture(autouse=True)
def _seeded():
    registry.seed("kit")


@pytest.fixture
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"X-Kit-Api-Key": "wrong"}, {"Authorization": "Bearer sandbox-kit-v4-api-key"}],
        ids=["none", "wrong", "bearer"],
    )
    def test_refused(self, client, headers):
        for response in (
            client.get(f"{BASE}/account", headers=headers),
            upsert(client, headers=headers, email_address="a@example.com"),
        ):
            assert response.status_code == 401
            assert response.json() == {"errors": ["The API key is not valid"]}
        assert not SandboxContact.objects.exists()

    def test_account(self, client):
        body = client.get(f"{BASE}/account", headers=KEY).json()
        assert body["account"]["name"] == "SharpSend demo creator"

    def test_unknown_host(self, client):
        assert (
            client.get("/sandbox/kit/api.convertkit.com/v4/account", headers=KEY).status_code == 404
        )

    def test_bulk_needs_oauth(self, client):
        response = client.post(
            f"{BASE}/bulk/subscribers",
            data=orjson.dumps({"subscribers": [{"email_address": "a@example.com"}]}),
            content_type="application/json",
            headers=KEY,
        )
        assert response.status_code == 401
        assert "OAuth" in response.json()["errors"][0]
        assert not SandboxContact.objects.exists()


def test_rate_limit_is_plain_text_without_retry_after(client, sandbox_time):
    for _ in range(120):
        assert client.get(f"{BASE}/account", headers=KEY).status_code == 200
    response = client.get(f"{BASE}/account", headers=KEY)
    assert response.status_code == 429
    assert response.content == b"Retry later"
    assert response["Content-Type"].startswith("text/plain")
    assert "Retry-After" not in response
    sandbox_time.now += 60
    assert client.get(f"{BASE}/account", headers=KEY).status_code == 200


class TestSubscribers:
    def test_upsert_creates_then_updates(self, client):
        first = upsert(client, email_address="Ann@Example.com", first_name="Ann", state="active",
                       fields={"last_name": "Lee", "interest": "growth"})  # fmt: skip
        assert first.status_code == 201
        created = first.json()["subscriber"]
        assert (created["email_address"], created["state"]) == ("Ann@Example.com", "active")
        assert created["fields"] == {"last_name": "Lee", "interest": "growth"}
        second = upsert(client, email_address="ann@example.com", first_name="Anna",
                        state="cancelled", fields={"plan": "pro"})  # fmt: skip
        assert second.status_code == 200
        assert second.json()["subscriber"]["id"] == created["id"]
        attrs = stored("ann@example.com")
        assert attrs["first_name"] == "Anna"
        assert attrs["state"] == "active"  # an existing subscriber's state is not changed
        assert attrs["fields"] == {"last_name": "Lee", "interest": "growth", "plan": "pro"}

    def test_new_subscriber_in_a_given_state(self, client):
        assert upsert(client, email_address="c@example.com", state="cancelled").status_code == 201
        assert stored("c@example.com")["state"] == "cancelled"

    @pytest.mark.parametrize(
        ("body", "message"),
        [
            ({"email_address": "nope"}, "Email address is invalid"),
            ({"email_address": "a@example.com", "state": "gone"}, "State must be one of"),
            ({"email_address": "a@example.com", "fields": {"Last name": "x"}},
             "Custom field 'Last name' does not exist"),
            ({"email_address": "a@example.com", "fields": {"plan": 3}}, "must be strings"),
            ({"email_address": "a@example.com", "fields": {f"f{i}": "x" for i in range(141)}},
             "maximum of 140"),
        ],
        ids=["email", "state", "label-not-key", "not-text", "too-many"],
    )  # fmt: skip
    def test_validation(self, client, body, message):
        response = upsert(client, **body)
        assert response.status_code == 422
        assert message in response.json()["errors"][0]
        assert not SandboxContact.objects.exists()

    def test_lookup_get_tags_and_unsubscribe(self, client):
        sid = upsert(client, email_address="g@example.com", fields={"interest": "growth"}).json()[
            "subscriber"
        ]["id"]
        found = client.get(f"{BASE}/subscribers?email_address=G@example.com", headers=KEY).json()
        assert [s["id"] for s in found["subscribers"]] == [sid]
        one = client.get(f"{BASE}/subscribers/{sid}", headers=KEY).json()["subscriber"]
        assert one["fields"] == {"interest": "growth"}
        tags = client.get(f"{BASE}/subscribers/{sid}/tags", headers=KEY).json()["tags"]
        assert [t["name"] for t in tags] == ["Growth Investors"]

        assert client.post(f"{BASE}/subscribers/{sid}/unsubscribe", headers=KEY).status_code == 204
        assert stored("g@example.com")["state"] == "cancelled"
        active = client.get(f"{BASE}/subscribers?email_address=g@example.com", headers=KEY).json()
        assert active["subscribers"] == []  # the default status filter is active
        everyone = client.get(
            f"{BASE}/subscribers?email_address=g@example.com&status=all", headers=KEY
        ).json()
        assert everyone["subscribers"][0]["state"] == "cancelled"
        assert client.get(f"{BASE}/subscribers/999999", headers=KEY).status_code == 404


class TestListsAndCounts:
    def test_custom_fields_paginate(self, client):
        first = client.get(f"{BASE}/custom_fields?per_page=2", headers=KEY).json()
        assert [(f["key"], f["label"]) for f in first["custom_fields"]] == [
            ("last_name", "Last name"),
            ("interest", "Interest"),
        ]
        assert first["pagination"]["has_next_page"] is True
        after = first["pagination"]["end_cursor"]
        rest = client.get(f"{BASE}/custom_fields?per_page=2&after={after}", headers=KEY).json()
        assert [f["key"] for f in rest["custom_fields"]] == ["plan"]
        assert rest["pagination"]["has_next_page"] is False

    def test_tags_segments_and_tag_counts(self, client):
        for i, interest in enumerate(["growth", "growth", "dividends"]):
            upsert(client, email_address=f"r{i}@example.com", fields={"interest": interest})
        upsert(client, email_address="left@example.com", state="cancelled",
               fields={"interest": "growth"})  # fmt: skip
        tags = client.get(f"{BASE}/tags", headers=KEY).json()["tags"]
        assert [(t["id"], t["name"]) for t in tags] == [
            (1, "Growth Investors"),
            (2, "Dividend Income"),
        ]
        segments = client.get(f"{BASE}/segments", headers=KEY).json()["segments"]
        assert [(s["id"], s["name"]) for s in segments] == [(3, "All readers")]
        counted = client.get(
            f"{BASE}/tags/1/subscribers?include_total_count=true&per_page=1", headers=KEY
        ).json()
        assert counted["pagination"]["total_count"] == 2  # active subscribers only
        assert len(counted["subscribers"]) == 1
        assert (
            "total_count"
            not in client.get(f"{BASE}/tags/1/subscribers", headers=KEY).json()["pagination"]
        )
        assert client.get(f"{BASE}/tags/9/subscribers", headers=KEY).status_code == 404


def test_the_subscriber_list_takes_a_status_and_carries_custom_fields(client):
    upsert(client, email_address="ann@example.com", first_name="Ann", fields={"last_name": "Lee"})
    upsert(client, email_address="bob@example.com", state="cancelled")
    active = client.get(f"{BASE}/subscribers", headers=KEY).json()
    assert [s["email_address"] for s in active["subscribers"]] == ["ann@example.com"]
    assert active["subscribers"][0]["fields"] == {"last_name": "Lee"}
    everyone = client.get(
        f"{BASE}/subscribers", {"status": "all", "per_page": 1}, headers=KEY
    ).json()
    assert [s["state"] for s in everyone["subscribers"]] == ["active"]
    assert everyone["pagination"]["has_next_page"] is True
    after = everyone["pagination"]["end_cursor"]
    rest = client.get(f"{BASE}/subscribers", {"status": "all", "after": after}, headers=KEY).json()
    assert [s["state"] for s in rest["subscribers"]] == ["cancelled"]
    assert rest["pagination"]["has_next_page"] is False
    wrong = client.get(f"{BASE}/subscribers", {"status": "gone"}, headers=KEY)
    assert wrong.status_code == 422
