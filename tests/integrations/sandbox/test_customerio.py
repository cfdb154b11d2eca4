"""The Customer.io emulator: Track API (Basic auth, v2 batch) and App API (Bearer, segments)."""

from __future__ import annotations

import base64
import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact, SandboxSegment

pytestmark = pytest.mark.django_db

US_TRACK = "/sandbox/customerio/track.customer.io"
EU_TRACK = "/sandbox/customerio/track-eu.customer.io"
US_APP = "/sandbox/customerio/api.customer.io"
EU_APP = "/sandbox/customerio/api-eu.customer.io"
US = {"site_id": "sandbox-site-us", "track": "sandbox-track-key-us", "app": "sandbox-app-key-us"}
EU = {"site_id": "sandbox-site-eu", "track": "sandbox-track-key-eu", "app": "sandbox-app-key-eu"}


def basic(site_id: str, key: str) -> dict:
    token = base64.b64encode(f"{site_id}:{key}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


US_BASIC = basic(US["site_id"], US["track"])
EU_BASIC = basic(EU["site_id"], EU["track"])


def person(email: str | None = None, attributes: dict | None = None, **identifiers) -> dict:
    ids = identifiers or {"email": email}
    return {
        "type": "person",
        "identifiers": ids,
        "action": "identify",
        "attributes": attributes or {},
    }


def post_batch(client, entries, headers=US_BASIC, base=US_TRACK):
    return client.post(
        f"{base}/api/v2/batch",
        data=orjson.dumps({"batch": entries}),
        content_type="application/json",
        headers=headers,
    )


def contact(identifier: str, account: str = "sandbox-site-us") -> SandboxContact:
    return SandboxContact.objects.get(platform="customerio", account=account, identifier=identifier)


@pytest.fixture
def sandbox_time(monkeypatch):
    """Freeze the emulators' clock (rate windows) and record their latency sleeps."""
    state = types.SimpleNamespace(now=1000.0, sleeps=[])
    fake = types.SimpleNamespace(
        monotonic=lambda: state.now, sleep=lambda seconds: state.sleeps.append(seconds)
    )
    monkeypatch.setattr(emulation, "time", fake)
    return state


# --- auth ----------------------------------------------------------------------------------


class TestTrackAuth:
    def test_region_with_basic_auth(self, client):
        response = client.get(f"{US_TRACK}/api/v1/accounts/region", headers=US_BASIC)
        assert response.status_code == 200
        assert response.json() == {
            "url": "https://track.customer.io",
            "region": "us",
            "environment_id": 101,
        }

    def test_eu_workspace_region(self, client):
        response = client.get(f"{EU_TRACK}/api/v1/accounts/region", headers=EU_BASIC)
        assert response.status_code == 200
        assert response.json()["region"] == "eu"
        assert response.json()["url"] == "https://track-eu.customer.io"

    def test_region_discovery_works_on_either_track_host(self, client):
        # The fact sheet: GET /api/v1/accounts/region works on either track host; that is
        # how a client configured for the wrong region learns the right one.
        response = client.get(f"{EU_TRACK}/api/v1/accounts/region", headers=US_BASIC)
        assert response.status_code == 200
        assert response.json()["region"] == "us"
        assert response.json()["url"] == "https://track.customer.io"

    @pytest.mark.parametrize(
        "headers",
        [
            {},
            basic(US["site_id"], "wrong-key"),
            basic("other-site", US["track"]),
            basic(US["site_id"], US["app"]),  # an App key is not a Track key
            bearer(US["track"]),  # Track wants Basic
            {"Authorization": "Basic !!!not-base64!!!"},
        ],
        ids=["none", "wrong-key", "wrong-site", "app-key", "bearer", "garbage"],
    )
    def test_refused(self, client, headers):
        response = client.get(f"{US_TRACK}/api/v1/accounts/region", headers=headers)
        assert response.status_code == 401
        assert response.content == b""
        response = post_batch(client, [person("a@example.com")], headers=headers)
        assert response.status_code == 401
        assert not SandboxContact.objects.exists()

    def test_us_workspace_on_eu_host_is_refused(self, client):
        response = post_batch(client, [person("a@example.com")], base=EU_TRACK)
        assert response.status_code == 401
        assert not SandboxContact.objects.exists()

    def test_eu_workspace_on_eu_host(self, client):
        response = post_batch(client, [person("a@example.com")], headers=EU_BASIC, base=EU_TRACK)
        assert response.status_code == 200
        assert contact("a@example.com", account="sandbox-site-eu").attributes == {
            "email": "a@example.com"
        }
        assert not SandboxContact.objects.filter(account="sandbox-site-us").exists()

    def test_unknown_host_is_404(self, client):
        response = client.get(
            "/sandbox/customerio/track.example.com/api/v1/accounts/region", headers=US_BASIC
        )
        assert response.status_code == 404


class TestAppAuth:
    def test_workspaces_with_bearer(self, client):
        response = client.get(f"{US_APP}/v1/workspaces", headers=bearer(US["app"]))
        assert response.status_code == 200
        [workspace] = response.json()["workspaces"]
        assert workspace["id"] == 101
        assert workspace["name"] == "SharpSend demo workspace"
        assert workspace["people"] == 0

    @pytest.mark.parametrize(
        "headers",
        [{}, bearer("wrong"), bearer(US["track"]), US_BASIC, {"Authorization": US["app"]}],
        ids=["none", "wrong", "track-key", "basic", "no-scheme"],
    )
    def test_refused(self, client, headers):
        assert client.get(f"{US_APP}/v1/workspaces", headers=headers).status_code == 401
        assert client.get(f"{US_APP}/v1/segments", headers=headers).status_code == 401

    def test_us_key_on_eu_app_host_is_refused(self, client):
        assert client.get(f"{EU_APP}/v1/workspaces", headers=bearer(US["app"])).status_code == 401

    def test_eu_key_on_eu_app_host(self, client):
        response = client.get(f"{EU_APP}/v1/workspaces", headers=bearer(EU["app"]))
        assert response.status_code == 200
        assert response.json()["workspaces"][0]["id"] == 102

    def test_people_count_follows_stored_contacts(self, client):
        post_batch(client, [person(f"p{i}@example.com") for i in range(3)])
        response = client.get(f"{US_APP}/v1/workspaces", headers=bearer(US["app"]))
        assert response.json()["workspaces"][0]["people"] == 3

    def test_methods(self, client):
        assert client.post(f"{US_APP}/v1/workspaces", headers=bearer(US["app"])).status_code == 405
        response = client.get(f"{US_TRACK}/api/v2/batch", headers=US_BASIC)
        assert response.status_code == 405


# --- the v2 batch endpoint ------------------------------------------------------------------


class TestBatch:
    def test_stores_people_by_email_and_id(self, client):
        response = post_batch(
            client,
            [
                person("Ann@Example.com", {"first_name": "Ann", "created_at": 1704067200}),
                person(attributes={"plan": "pro"}, id="42"),
            ],
        )
        assert response.status_code == 200
        assert response.content == b""
        # Emails are case-insensitive identifiers; the email becomes an attribute too.
        assert contact("ann@example.com").attributes == {
            "first_name": "Ann",
            "created_at": 1704067200,
            "email": "Ann@Example.com",
        }
        assert contact("id:42").attributes == {"plan": "pro"}

    def test_attributes_merge_across_writes(self, client):
        post_batch(client, [person("a@example.com", {"first_name": "Ann", "plan": "free"})])
        post_batch(client, [person("a@example.com", {"plan": "pro", "last_name": "Lee"})])
        assert contact("a@example.com").attributes == {
            "email": "a@example.com",
            "first_name": "Ann",
            "plan": "pro",
            "last_name": "Lee",
        }
        assert SandboxContact.objects.count() == 1

    def test_entries_for_one_person_in_one_batch_merge(self, client):
        response = post_batch(
            client,
            [person("a@example.com", {"x": 1}), person("A@example.com", {"y": 2, "x": 3})],
        )
        assert response.status_code == 200
        attributes = contact("a@example.com").attributes
        assert attributes["x"] == 3 and attributes["y"] == 2

    def test_body_of_500kb_is_refused(self, client):
        entries, size = [], 0
        while size < 500_000:
            entries.append(person(f"p{len(entries)}@example.com", {"bio": "x" * 20_000}))
            size = len(orjson.dumps({"batch": entries}))
        response = post_batch(client, entries)
        assert response.status_code == 400
        assert response.json()["errors"][0]["reason"] == "too_large"
        assert not SandboxContact.objects.exists()

    def test_body_just_under_500kb_is_accepted(self, client):
        entries = [person(f"p{i}@example.com", {"bio": "x" * 20_000}) for i in range(24)]
        body = orjson.dumps({"batch": entries})
        assert len(body) < 500_000
        assert post_batch(client, entries).status_code == 200
        assert SandboxContact.objects.count() == 24

    def test_entry_over_32kb_is_refused_alone(self, client):
        response = post_batch(
            client,
            [
                person("small@example.com", {"bio": "short"}),
                person("big@example.com", {"bio": "x" * 33_000}),
                person("other@example.com"),
            ],
        )
        assert response.status_code == 207
        [error] = response.json()["errors"]
        assert error["batch_index"] == 1
        assert error["reason"] == "too_large"
        assert set(SandboxContact.objects.values_list("identifier", flat=True)) == {
            "small@example.com",
            "other@example.com",
        }

    @pytest.mark.parametrize(
        "body",
        [b"not json", b"[]", b'{"batch": {}}', b'{"people": []}', b""],
        ids=["not-json", "array", "batch-object", "no-batch", "empty"],
    )
    def test_body_shape(self, client, body):
        response = client.post(
            f"{US_TRACK}/api/v2/batch", data=body, content_type="application/json", headers=US_BASIC
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == "batch"

    def test_partial_results_name_each_bad_entry_by_index(self, client):
        entries = [
            person("ok1@example.com"),
            "not an object",
            {**person("t@example.com"), "type": "object"},
            {**person("a@example.com"), "action": "add_relationships"},
            {**person("e@example.com"), "identifiers": {"email": "e@example.com", "id": "7"}},
            {**person("x@example.com"), "identifiers": {"phone": "123"}},
            person("not-an-email"),
            person(id=""),
            {**person("attrs@example.com"), "attributes": ["a"]},
            person("many@example.com", {f"a{i}": i for i in range(301)}),
            person("ok2@example.com"),
        ]
        response = post_batch(client, entries)
        assert response.status_code == 207
        errors = response.json()["errors"]
        assert [e["batch_index"] for e in errors] == list(range(1, 10))
        by_index = {e["batch_index"]: e for e in errors}
        assert by_index[2]["field"] == "type"
        assert by_index[3]["field"] == "action"
        assert by_index[4]["field"] == "identifiers"
        assert by_index[5]["field"] == "identifiers"
        assert by_index[6]["field"] == "identifiers.email"
        assert by_index[7]["field"] == "identifiers.id"
        assert by_index[8]["field"] == "attributes"
        assert by_index[9]["field"] == "attributes"
        for error in errors:
            assert set(error) == {"batch_index", "reason", "field", "message"}
        assert set(SandboxContact.objects.values_list("identifier", flat=True)) == {
            "ok1@example.com",
            "ok2@example.com",
        }

    def test_300_attributes_are_allowed(self, client):
        response = post_batch(client, [person("a@example.com", {f"a{i}": i for i in range(300)})])
        assert response.status_code == 200

    def test_suppressed_person_is_refused(self, client):
        SandboxContact.objects.create(
            platform="customerio",
            account="sandbox-site-us",
            identifier="gone@example.com",
            attributes={"email": "gone@example.com", "plan": "old"},
            suppressed=True,
        )
        response = post_batch(
            client,
            [person("fine@example.com"), person("Gone@example.com", {"plan": "new"})],
        )
        assert response.status_code == 207
        assert response.json() == {
            "errors": [
                {
                    "batch_index": 1,
                    "reason": "suppressed",
                    "field": "identifiers",
                    "message": "person is suppressed",
                }
            ]
        }
        gone = contact("gone@example.com")
        assert gone.suppressed
        assert gone.attributes["plan"] == "old"
        assert contact("fine@example.com").attributes == {"email": "fine@example.com"}

    def test_suppression_is_per_workspace(self, client):
        SandboxContact.objects.create(
            platform="customerio",
            account="sandbox-site-eu",
            identifier="a@example.com",
            suppressed=True,
        )
        assert post_batch(client, [person("a@example.com")]).status_code == 200
        assert not contact("a@example.com").suppressed


# --- rate limits and faults -----------------------------------------------------------------


class TestRateLimits:
    def test_track_api_allows_100_a_second(self, client, sandbox_time):
        url = f"{US_TRACK}/api/v1/accounts/region"
        for _ in range(100):
            assert client.get(url, headers=US_BASIC).status_code == 200
        response = client.get(url, headers=US_BASIC)
        assert response.status_code == 429
        assert response.json() == {"meta": {"error": "Too many requests"}}
        assert int(response.headers["Retry-After"]) >= 1
        # A batch shares the Track limit and is refused without storing anything.
        assert post_batch(client, [person("a@example.com")]).status_code == 429
        assert not SandboxContact.objects.exists()
        # The other region's workspace has its own limit.
        assert client.get(url, headers=EU_BASIC).status_code == 200
        # The window slides: a second later the workspace may call again.
        sandbox_time.now += 1.0
        assert client.get(url, headers=US_BASIC).status_code == 200

    def test_app_api_allows_10_a_second(self, client, sandbox_time):
        url = f"{US_APP}/v1/segments"
        for _ in range(10):
            assert client.get(url, headers=bearer(US["app"])).status_code == 200
        response = client.get(f"{US_APP}/v1/workspaces", headers=bearer(US["app"]))
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 1 <= retry_after <= 2
        # Track calls are counted apart from App calls.
        assert client.get(f"{US_TRACK}/api/v1/accounts/region", headers=US_BASIC).status_code == 200
        sandbox_time.now += retry_after
        assert client.get(url, headers=bearer(US["app"])).status_code == 200

    def test_refused_credentials_are_not_counted(self, client, sandbox_time):
        url = f"{US_APP}/v1/workspaces"
        for _ in range(20):
            assert client.get(url, headers=bearer("wrong")).status_code == 401
        assert client.get(url, headers=bearer(US["app"])).status_code == 200


class TestFaults:
    def test_throttle_next_counts_down(self, client):
        fault = emulation.set_faults("customerio", throttle_next=2, retry_after=7)
        for remaining in (1, 0):
            response = post_batch(client, [person("a@example.com")])
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "7"
            assert response.json() == {"meta": {"error": "Too many requests"}}
            fault.refresh_from_db()
            assert fault.throttle_next == remaining
        assert not SandboxContact.objects.exists()
        assert post_batch(client, [person("a@example.com")]).status_code == 200
        assert SandboxContact.objects.count() == 1

    def test_faults_come_after_auth(self, client):
        emulation.set_faults("customerio", throttle_next=5, error_rate=1.0)
        response = client.get(f"{US_APP}/v1/workspaces", headers=bearer("wrong"))
        assert response.status_code == 401
        assert emulation.SandboxFault.objects.get(platform="customerio").throttle_next == 5

    def test_error_rate_one_answers_503(self, client):
        emulation.set_faults("customerio", error_rate=1.0)
        for _ in range(3):
            response = post_batch(client, [person("a@example.com")])
            assert response.status_code == 503
        assert client.get(f"{US_APP}/v1/segments", headers=bearer(US["app"])).status_code == 503
        assert not SandboxContact.objects.exists()
        emulation.set_faults("customerio", error_rate=0.0)
        assert post_batch(client, [person("a@example.com")]).status_code == 200

    def test_faults_of_another_platform_do_not_apply(self, client):
        emulation.set_faults("iterable", error_rate=1.0, throttle_next=3)
        assert post_batch(client, [person("a@example.com")]).status_code == 200

    def test_latency(self, client, sandbox_time):
        emulation.set_faults("customerio", latency_ms=250)
        assert post_batch(client, [person("a@example.com")]).status_code == 200
        assert sandbox_time.sleeps == [0.25]


# --- segments -------------------------------------------------------------------------------


class TestSegments:
    def test_seeded_segments(self, client):
        registry.seed("customerio")
        response = client.get(f"{US_APP}/v1/segments", headers=bearer(US["app"]))
        assert response.status_code == 200
        segments = response.json()["segments"]
        assert [(s["id"], s["name"], s["type"]) for s in segments] == [
            (1, "Growth Investors", "dynamic"),
            (2, "Dividend Income", "dynamic"),
            (3, "All readers", "manual"),
        ]
        for segment in segments:
            assert set(segment) == {
                "id", "deduplicate_id", "name", "description", "state", "progress", "type", "tags",
            }  # fmt: skip
        # Seeding again changes nothing; each workspace has its own segments.
        registry.seed("customerio")
        assert SandboxSegment.objects.filter(platform="customerio").count() == 6
        eu = client.get(f"{EU_APP}/v1/segments", headers=bearer(EU["app"])).json()["segments"]
        assert len(eu) == 3

    def test_counts_follow_stored_contacts(self, client):
        registry.seed("customerio")

        def count(segment_id: int) -> int:
            response = client.get(
                f"{US_APP}/v1/segments/{segment_id}/customer_count", headers=bearer(US["app"])
            )
            assert response.status_code == 200
            return response.json()["count"]

        assert [count(i) for i in (1, 2, 3)] == [0, 0, 0]
        post_batch(
            client,
            [
                person("g1@example.com", {"interest": "growth"}),
                person("g2@example.com", {"interest": "growth"}),
                person("d1@example.com", {"interest": "dividends"}),
                person("n1@example.com"),
            ],
        )
        assert [count(i) for i in (1, 2, 3)] == [2, 1, 4]
        # A person whose attribute changes moves between segments.
        post_batch(client, [person("g2@example.com", {"interest": "dividends"})])
        assert [count(i) for i in (1, 2, 3)] == [1, 2, 4]
        # Contacts of the other workspace do not count.
        post_batch(
            client,
            [person("eu@example.com", {"interest": "growth"})],
            headers=EU_BASIC,
            base=EU_TRACK,
        )
        assert count(1) == 1

    def test_unknown_segment(self, client):
        registry.seed("customerio")
        response = client.get(f"{US_APP}/v1/segments/99/customer_count", headers=bearer(US["app"]))
        assert response.status_code == 404
