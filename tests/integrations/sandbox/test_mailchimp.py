"""The Mailchimp emulator: key per data centre, roles, audience, merge fields, batch subscribe,
segments, members, permanent deletion, the connection limit."""

from __future__ import annotations

import base64
import hashlib

import orjson
import pytest

from integrations.sandbox import mailchimp as emulator
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact

pytestmark = pytest.mark.django_db

KEY = "sandbox0mailchimp0key0000000000aa-us6"
KEY21 = "sandbox0mailchimp0key0000000000bb-us21"
VIEWER = "sandbox0mailchimp0viewer000000000cc-us6"
US6 = "/sandbox/mailchimp/us6.api.mailchimp.com/3.0"
US21 = "/sandbox/mailchimp/us21.api.mailchimp.com/3.0"
LIST = "sandbox6a"
ACCOUNT = "sandbox-audience-us6"


def basic(key: str) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"any:{key}".encode()).decode()}


def digest(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()


def subscribe(client, members, key=KEY, base=US6, list_id=LIST, **extra):
    body = {"members": members, "update_existing": True, **extra}
    return client.post(
        f"{base}/lists/{list_id}",
        data=orjson.dumps(body),
        content_type="application/json",
        headers=basic(key),
    )


def stored(email: str, account: str = ACCOUNT) -> dict:
    return SandboxContact.objects.get(
        platform="mailchimp", account=account, identifier=email.lower()
    ).attributes


@pytest.fixture(autouse=True)
def _seeded():
    registry.seed("mailchimp")


class TestAuth:
    @pytest.mark.parametrize(
        ("headers", "title"),
        [
            ({}, "API Key Missing"),
            (basic("wrong-us6"), "API Key Invalid"),
            (basic(KEY21), "API Key Invalid"),  # a us21 key on the us6 host
        ],
        ids=["none", "wrong", "other-data-centre"],
    )
    def test_refused(self, client, headers, title):
        for response in (
            client.get(f"{US6}/", headers=headers),
            client.get(f"{US6}/lists/{LIST}/merge-fields", headers=headers),
        ):
            assert response.status_code == 401
            assert response["Content-Type"].startswith("application/problem+json")
            assert response.json()["title"] == title
            assert response.json()["status"] == 401

    def test_bearer_and_basic_both_work(self, client):
        assert client.get(f"{US6}/ping", headers=basic(KEY)).json() == {
            "health_status": "Everything's Chimpy!"
        }
        bearer = {"Authorization": f"Bearer {KEY}"}
        assert client.get(f"{US6}/", headers=bearer).status_code == 200

    def test_each_key_on_its_data_centre(self, client):
        root = client.get(f"{US21}/", headers=basic(KEY21)).json()
        assert root["account_name"] == "SharpSend second audience"
        assert subscribe(client, [{"email_address": "a@example.com", "status": "subscribed"}],
                         key=KEY21, base=US21, list_id="sandbox21b").status_code == 200  # fmt: skip
        assert stored("a@example.com", account="sandbox-audience-us21")["status"] == "subscribed"
        assert not SandboxContact.objects.filter(account=ACCOUNT).exists()

    def test_unknown_host_is_404(self, client):
        response = client.get("/sandbox/mailchimp/api.example.com/3.0/", headers=basic(KEY))
        assert response.status_code == 404

    def test_roles_and_viewer_cannot_write(self, client):
        assert client.get(f"{US6}/", headers=basic(KEY)).json()["role"] == "owner"
        assert client.get(f"{US6}/", headers=basic(VIEWER)).json()["role"] == "viewer"
        response = subscribe(
            client, [{"email_address": "a@example.com", "status": "subscribed"}], key=VIEWER
        )
        assert response.status_code == 403
        assert not SandboxContact.objects.exists()
        assert client.get(f"{US6}/lists/{LIST}/segments", headers=basic(VIEWER)).status_code == 200

    def test_unknown_audience(self, client):
        response = client.get(f"{US6}/lists/nope", headers=basic(KEY))
        assert response.status_code == 404
        assert response.json()["title"] == "Resource Not Found"


class TestBatchSubscribe:
    def test_creates_then_updates_merging_merge_fields(self, client):
        first = subscribe(client, [
            {"email_address": "Ann@Example.com", "status_if_new": "subscribed",
             "merge_fields": {"FNAME": "Ann", "JOINED": "2024-01-02", "NOPE": "dropped"},
             "timestamp_signup": "2024-01-02 03:04:05"},
        ]).json()  # fmt: skip
        assert (first["total_created"], first["total_updated"], first["error_count"]) == (1, 0, 0)
        assert first["new_members"][0]["email_address"] == "Ann@Example.com"
        assert first["new_members"][0]["id"] == digest("ann@example.com")
        assert stored("ann@example.com") == {
            "email_address": "Ann@Example.com",
            "status": "subscribed",
            "merge_fields": {"FNAME": "Ann", "JOINED": "2024-01-02"},
            "timestamp_signup": "2024-01-02 03:04:05",
        }
        second = subscribe(client, [
            {"email_address": "ann@example.com", "status_if_new": "subscribed",
             "merge_fields": {"LNAME": "Lee"}},
        ]).json()  # fmt: skip
        assert (second["total_created"], second["total_updated"]) == (0, 1)
        assert stored("ann@example.com")["merge_fields"] == {
            "FNAME": "Ann",
            "JOINED": "2024-01-02",
            "LNAME": "Lee",
        }

    def test_keep_existing_answers_contact_exists(self, client):
        subscribe(client, [{"email_address": "a@example.com", "status": "subscribed",
                            "merge_fields": {"FNAME": "A"}}])  # fmt: skip
        body = subscribe(
            client,
            [{"email_address": "a@example.com", "status_if_new": "subscribed",
              "merge_fields": {"FNAME": "B"}}],
            update_existing=False,
        ).json()  # fmt: skip
        assert body["error_count"] == 1
        assert body["errors"][0]["error_code"] == "ERROR_CONTACT_EXISTS"
        assert stored("a@example.com")["merge_fields"] == {"FNAME": "A"}

    def test_status_if_new_does_not_change_an_existing_status(self, client):
        subscribe(client, [{"email_address": "a@example.com", "status": "unsubscribed"}])
        body = subscribe(
            client, [{"email_address": "a@example.com", "status_if_new": "subscribed"}]
        ).json()
        assert body["total_updated"] == 1
        assert stored("a@example.com")["status"] == "unsubscribed"

    def test_compliance_states(self, client):
        subscribe(client, [{"email_address": "left@example.com", "status": "unsubscribed"}])
        SandboxContact.objects.create(
            platform="mailchimp", account=ACCOUNT, identifier="held@example.com",
            attributes={"status": "cleaned"}, suppressed=True,
        )  # fmt: skip
        body = subscribe(client, [
            {"email_address": "left@example.com", "status": "subscribed"},
            {"email_address": "held@example.com", "status_if_new": "subscribed"},
        ]).json()  # fmt: skip
        assert body["error_count"] == 2
        assert all("compliance state" in e["error"] for e in body["errors"])
        assert {e["error_code"] for e in body["errors"]} == {"ERROR_GENERIC"}
        assert stored("left@example.com")["status"] == "unsubscribed"

    def test_per_member_validation(self, client):
        body = subscribe(client, [
            {"email_address": "not-an-email", "status": "subscribed"},
            {"email_address": "d@example.com", "status": "subscribed",
             "merge_fields": {"JOINED": "yesterday"}},
            {"email_address": "s@example.com", "status": "happy"},
            {"email_address": "n@example.com"},
            {"email_address": "t@example.com", "status": "subscribed", "timestamp_signup": "x"},
            {"email_address": "ok@example.com", "status": "subscribed"},
        ]).json()  # fmt: skip
        assert body["total_created"] == 1
        fields = [(e["email_address"], e["field"]) for e in body["errors"]]
        assert fields == [
            ("not-an-email", "email_address"),
            ("d@example.com", "JOINED"),
            ("s@example.com", "status"),
            ("n@example.com", "status"),
            ("t@example.com", "timestamp_signup"),
        ]
        assert "looks fake or invalid" in body["errors"][0]["error"]
        assert SandboxContact.objects.count() == 1

    def test_at_most_500_members(self, client):
        members = [
            {"email_address": f"r{i}@example.com", "status": "subscribed"} for i in range(501)
        ]
        response = subscribe(client, members)
        assert response.status_code == 400
        assert "at most 500" in response.json()["detail"]
        assert not SandboxContact.objects.exists()
        assert subscribe(client, members[:500]).json()["total_created"] == 500

    def test_bad_bodies(self, client):
        response = client.post(
            f"{US6}/lists/{LIST}", data=b"{nope", content_type="application/json",
            headers=basic(KEY),
        )  # fmt: skip
        assert response.json()["title"] == "JSON Parse Exception"
        response = subscribe(client, {"email_address": "a@example.com"})
        assert (response.status_code, response.json()["errors"][0]["field"]) == (400, "members")


class TestReads:
    def test_audience_and_merge_fields(self, client):
        subscribe(client, [
            {"email_address": "a@example.com", "status": "subscribed"},
            {"email_address": "b@example.com", "status": "unsubscribed"},
        ])  # fmt: skip
        audience = client.get(f"{US6}/lists/{LIST}", headers=basic(KEY)).json()
        assert audience["id"] == LIST
        assert audience["stats"]["member_count"] == 1
        assert audience["stats"]["unsubscribe_count"] == 1
        fields = client.get(f"{US6}/lists/{LIST}/merge-fields", headers=basic(KEY)).json()
        assert [(f["tag"], f["type"]) for f in fields["merge_fields"]] == [
            ("FNAME", "text"),
            ("LNAME", "text"),
            ("INTEREST", "text"),
            ("JOINED", "date"),
        ]
        assert fields["total_items"] == 4

    def test_segments_count_subscribed_members(self, client):
        subscribe(client, [
            {"email_address": "g1@example.com", "status": "subscribed",
             "merge_fields": {"INTEREST": "growth"}},
            {"email_address": "g2@example.com", "status": "unsubscribed",
             "merge_fields": {"INTEREST": "growth"}},
            {"email_address": "d1@example.com", "status": "subscribed",
             "merge_fields": {"INTEREST": "dividends"}},
        ])  # fmt: skip
        body = client.get(f"{US6}/lists/{LIST}/segments?count=2", headers=basic(KEY)).json()
        assert body["total_items"] == 3
        assert [(s["name"], s["type"], s["member_count"]) for s in body["segments"]] == [
            ("Growth Investors", "saved", 1),
            ("Dividend Income", "saved", 1),
        ]
        rest = client.get(f"{US6}/lists/{LIST}/segments?offset=2", headers=basic(KEY)).json()
        assert [(s["name"], s["member_count"]) for s in rest["segments"]] == [("All readers", 2)]
        one = client.get(f"{US6}/lists/{LIST}/segments/1", headers=basic(KEY)).json()
        assert one["member_count"] == 1
        assert client.get(f"{US6}/lists/{LIST}/segments/9", headers=basic(KEY)).status_code == 404

    def test_member_tags_events_and_permanent_delete(self, client):
        subscribe(client, [{"email_address": "Ann@example.com", "status": "subscribed"}])
        base = f"{US6}/lists/{LIST}/members/{digest('ann@example.com')}"
        assert client.get(base, headers=basic(KEY)).json()["status"] == "subscribed"
        tags = client.get(f"{base}/tags", headers=basic(KEY)).json()
        assert [t["name"] for t in tags["tags"]] == ["All readers"]
        assert client.get(f"{base}/events", headers=basic(KEY)).json()["events"] == []

        assert (
            client.post(f"{base}/actions/delete-permanent", headers=basic(VIEWER)).status_code
            == 403
        )
        assert (
            client.post(f"{base}/actions/delete-permanent", headers=basic(KEY)).status_code == 204
        )
        assert client.get(base, headers=basic(KEY)).status_code == 404
        assert (
            client.post(f"{base}/actions/delete-permanent", headers=basic(KEY)).status_code == 404
        )
        again = subscribe(client, [{"email_address": "ann@example.com", "status": "subscribed"}])
        assert "permanently deleted" in again.json()["errors"][0]["error"]


def test_the_connection_limit(client, monkeypatch):
    monkeypatch.setitem(emulator._in_flight, f"{ACCOUNT}:{KEY}", emulator.MAX_CONNECTIONS)
    response = client.get(f"{US6}/", headers=basic(KEY))
    assert response.status_code == 429
    assert "simultaneous connections" in response.json()["detail"]
    monkeypatch.setitem(emulator._in_flight, f"{ACCOUNT}:{KEY}", emulator.MAX_CONNECTIONS - 1)
    assert client.get(f"{US6}/", headers=basic(KEY)).status_code == 200
    assert emulator._in_flight[f"{ACCOUNT}:{KEY}"] == emulator.MAX_CONNECTIONS - 1


def test_injected_throttle(client):
    from integrations.sandbox import emulation

    emulation.set_faults("mailchimp", throttle_next=1, retry_after=2)
    response = client.get(f"{US6}/", headers=basic(KEY))
    assert (response.status_code, response["Retry-After"]) == (429, "2")
    assert client.get(f"{US6}/", headers=basic(KEY)).status_code == 200


def test_the_audience_members_are_offset_paged_any_status_and_trimmed_by_fields(client):
    registry.seed("mailchimp")
    subscribe(
        client,
        [
            {"email_address": "a@example.com", "status": "subscribed",
             "merge_fields": {"FNAME": "A"}},
            {"email_address": "b@example.com", "status": "unsubscribed"},
            {"email_address": "c@example.com", "status": "cleaned"},
        ],
    )  # fmt: skip
    fields = "members.email_address,members.status,members.merge_fields,total_items"
    first = client.get(
        f"{US6}/lists/{LIST}/members",
        {"count": 2, "offset": 0, "fields": fields},
        headers=basic(KEY),
    )
    assert first.status_code == 200
    assert first.json() == {
        "members": [
            {"email_address": "a@example.com", "status": "subscribed",
             "merge_fields": {"FNAME": "A"}},
            {"email_address": "b@example.com", "status": "unsubscribed", "merge_fields": {}},
        ],
        "total_items": 3,
    }  # fmt: skip
    rest = client.get(
        f"{US6}/lists/{LIST}/members", {"count": 2, "offset": 2}, headers=basic(KEY)
    ).json()
    assert [m["email_address"] for m in rest["members"]] == ["c@example.com"]
    assert rest["members"][0]["id"] == digest("c@example.com")  # untrimmed: the whole member
    capped = client.get(f"{US6}/lists/{LIST}/members", {"count": 5000}, headers=basic(KEY))
    assert len(capped.json()["members"]) == 3
    bad = client.get(f"{US6}/lists/{LIST}/members", {"count": "x"}, headers=basic(KEY))
    assert bad.status_code == 400
    assert client.get(f"{US6}/lists/other/members", headers=basic(KEY)).status_code == 404
