"""The Klaviyo emulator: key, revision and scopes; the asynchronous bulk import job on the
emulator's clock; lists and segments with counts and members; profiles; data privacy deletion."""

from __future__ import annotations

import types

import jsonschema
import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox import klaviyo as emulator
from integrations.sandbox.klaviyo import jobs
from integrations.sandbox.models import SandboxContact
from tests.integrations.platforms.test_klaviyo import _resolve
from tests.specs import SPECS

pytestmark = pytest.mark.django_db

BASE = "/sandbox/klaviyo/a.klaviyo.com"
KEY = "pk_sandbox-klaviyo-private-key"
HEADERS = {"Authorization": f"Klaviyo-API-Key {KEY}", "revision": emulator.REVISION}
READ_ONLY = {**HEADERS, "Authorization": "Klaviyo-API-Key pk_sandbox-klaviyo-readonly-key"}
ACCOUNT = "sandbox-klaviyo-account"
MEDIA = "application/vnd.api+json"


@pytest.fixture(autouse=True)
def sandbox_time(monkeypatch):
    emulator.reset_jobs()
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    yield state
    emulator.reset_jobs()


def profile(email=None, **attributes):
    if email is not None:
        attributes["email"] = email
    return {"type": "profile", "attributes": attributes}


def submit(client, profiles, headers=HEADERS, content_type=MEDIA):
    body = {
        "data": {"type": "profile-bulk-import-job", "attributes": {"profiles": {"data": profiles}}}
    }
    return client.post(
        f"{BASE}/api/profile-bulk-import-jobs",
        data=orjson.dumps(body),
        content_type=content_type,
        headers=headers,
    )


def get(client, path, headers=HEADERS):
    return client.get(f"{BASE}{path}", headers=headers)


def contact(identifier):
    return SandboxContact.objects.get(platform="klaviyo", account=ACCOUNT, identifier=identifier)


class TestAuth:
    def test_missing_or_wrong_key(self, client):
        none = get(client, "/api/accounts", headers={"revision": emulator.REVISION})
        assert none.status_code == 401
        assert none.json()["errors"][0]["code"] == "not_authenticated"
        wrong = get(
            client, "/api/accounts", headers={**HEADERS, "Authorization": "Klaviyo-API-Key pk_x"}
        )
        assert wrong.status_code == 401
        assert wrong.json()["errors"][0]["code"] == "authentication_failed"
        bearer = get(client, "/api/accounts", headers={**HEADERS, "Authorization": f"Bearer {KEY}"})
        assert bearer.status_code == 401

    def test_revision_header_is_required(self, client):
        response = get(client, "/api/accounts", headers={"Authorization": HEADERS["Authorization"]})
        assert response.status_code == 400
        assert response.json()["errors"][0]["source"] == {"parameter": "revision"}

    def test_account(self, client):
        response = get(client, "/api/accounts")
        assert response.status_code == 200
        assert response["Content-Type"] == MEDIA
        [account] = response.json()["data"]
        assert account["type"] == "account"
        assert account["attributes"]["contact_information"]["organization_name"] == (
            "SharpSend demo account"
        )

    def test_read_only_key_lacks_write_scopes(self, client):
        assert get(client, "/api/accounts", headers=READ_ONLY).status_code == 200
        assert get(client, "/api/profile-bulk-import-jobs", headers=READ_ONLY).status_code == 200
        refused = submit(client, [profile("a@example.com")], headers=READ_ONLY)
        assert refused.status_code == 403
        assert "profiles:write" in refused.json()["errors"][0]["detail"]
        assert not SandboxContact.objects.exists()

    def test_wrong_media_type(self, client):
        assert (
            submit(client, [profile("a@example.com")], content_type="text/plain").status_code == 415
        )
        # Klaviyo takes plain application/json too.
        assert (
            submit(client, [profile("a@example.com")], content_type="application/json").status_code
            == 202
        )


class TestBulkImport:
    def test_job_runs_on_the_clock_then_writes(self, client, sandbox_time):
        created = submit(
            client,
            [
                profile("Ann@Example.com", first_name="Ann", properties={"plan": "pro"}),
                profile(external_id="42", properties={"plan": "basic"}),
            ],
        )
        assert created.status_code == 202
        job = created.json()["data"]
        assert job["type"] == "profile-bulk-import-job"
        assert job["attributes"]["status"] == "queued"
        assert job["attributes"]["total_count"] == 2
        path = f"/api/profile-bulk-import-jobs/{job['id']}"
        assert get(client, path).json()["data"]["attributes"]["status"] == "queued"
        sandbox_time.now += 1
        assert get(client, path).json()["data"]["attributes"]["status"] == "processing"
        assert not SandboxContact.objects.exists()  # not written before the job completes
        sandbox_time.now += 1
        done = get(client, path).json()["data"]["attributes"]
        assert (done["status"], done["completed_count"], done["failed_count"]) == ("complete", 2, 0)
        assert contact("ann@example.com").attributes == {
            "email": "Ann@Example.com",
            "first_name": "Ann",
            "properties": {"plan": "pro"},
        }
        assert contact("external_id:42").attributes["properties"] == {"plan": "basic"}

    def test_properties_merge_key_by_key(self, client, sandbox_time):
        submit(client, [profile("a@example.com", properties={"plan": "pro", "vip": True})])
        sandbox_time.now += 2
        get(client, "/api/profile-bulk-import-jobs")  # reading jobs moves them along
        submit(client, [profile("a@example.com", properties={"plan": "basic"})])
        sandbox_time.now += 2
        get(client, "/api/profile-bulk-import-jobs")
        assert contact("a@example.com").attributes["properties"] == {"plan": "basic", "vip": True}

    def test_import_errors_per_profile(self, client, sandbox_time):
        SandboxContact.objects.create(
            platform="klaviyo", account=ACCOUNT, identifier="held@example.com", suppressed=True
        )
        job = submit(
            client,
            [
                profile("ok@example.com"),
                profile("not-an-email"),
                profile(first_name="nobody"),
                profile("held@example.com"),
                profile(phone_number="555"),
            ],
        ).json()["data"]
        sandbox_time.now += 2
        path = f"/api/profile-bulk-import-jobs/{job['id']}"
        assert get(client, path).json()["data"]["attributes"]["failed_count"] == 4
        first = get(client, f"{path}/import-errors?page[size]=3").json()
        errors = [e["attributes"] for e in first["data"]]
        assert [e["source"]["pointer"] for e in errors] == [
            "/data/attributes/profiles/data/1/attributes/email",
            "/data/attributes/profiles/data/2/attributes",
            "/data/attributes/profiles/data/3",
        ]
        assert errors[0]["original_payload"] == profile("not-an-email")
        assert errors[2]["code"] == "suppressed"
        second = client.get(first["links"]["next"], headers=HEADERS).json()
        assert [e["attributes"]["source"]["pointer"] for e in second["data"]] == [
            "/data/attributes/profiles/data/4/attributes/phone_number"
        ]
        assert second["links"]["next"] is None
        assert contact("ok@example.com")
        assert contact("held@example.com").attributes == {}

    @pytest.mark.parametrize(
        ("profiles", "detail"),
        [
            ([], "At least one profile"),
            ([profile("a@example.com", plan="pro")], "'plan' is not a valid field"),
        ],
    )
    def test_malformed_requests_are_refused(self, client, profiles, detail):
        response = submit(client, profiles)
        assert response.status_code == 400
        assert detail in response.json()["errors"][0]["detail"]

    def test_count_and_size_limits(self, client, monkeypatch):
        monkeypatch.setattr(jobs, "MAX_PROFILES", 2)
        many = submit(client, [profile(f"p{i}@example.com") for i in range(3)])
        assert many.status_code == 400
        monkeypatch.setattr(jobs, "MAX_BODY", 100)
        big = submit(client, [profile("a@example.com", properties={"bio": "x" * 200})])
        assert big.status_code == 413

    def test_unknown_job(self, client):
        assert get(client, "/api/profile-bulk-import-jobs/nope").status_code == 404

    def test_bulk_import_rate_limit(self, client, monkeypatch):
        monkeypatch.setitem(emulator.RATES, "bulk_import", (1, 2))
        assert submit(client, [profile("a@example.com")]).status_code == 202
        limited = submit(client, [profile("a@example.com")])
        assert limited.status_code == 429
        assert int(limited["Retry-After"]) >= 1
        assert limited.json()["errors"][0]["code"] == "throttled"


class TestGroups:
    def test_lists_segments_and_counts(self, client, sandbox_time, monkeypatch):
        registry.seed("klaviyo")
        submit(
            client,
            [
                profile("g@example.com", properties={"interest": "growth"}),
                profile("d@example.com", properties={"interest": "dividends"}),
                profile("n@example.com"),
            ],
        )
        sandbox_time.now += 2
        get(client, "/api/profile-bulk-import-jobs")
        lists = get(client, "/api/lists").json()
        assert [(g["id"], g["attributes"]["name"]) for g in lists["data"]] == [
            (emulator.group_id(3), "All readers")
        ]
        segments = get(client, "/api/segments?page[size]=1").json()
        assert [g["attributes"]["name"] for g in segments["data"]] == ["Growth Investors"]
        more = client.get(segments["links"]["next"], headers=HEADERS).json()
        assert [g["attributes"]["name"] for g in more["data"]] == ["Dividend Income"]
        assert get(client, "/api/segments?page[size]=11").status_code == 400
        growth = get(
            client, f"/api/segments/{emulator.group_id(1)}?additional-fields[segment]=profile_count"
        )
        assert growth.json()["data"]["attributes"]["profile_count"] == 1
        everyone = get(
            client, f"/api/lists/{emulator.group_id(3)}?additional-fields[list]=profile_count"
        )
        assert everyone.json()["data"]["attributes"]["profile_count"] == 3
        # A segment id is not a list id.
        assert get(client, f"/api/lists/{emulator.group_id(1)}").status_code == 404
        # Counting is 1 a second.
        again = get(
            client, f"/api/lists/{emulator.group_id(3)}?additional-fields[list]=profile_count"
        )
        assert again.status_code == 429


def _without_null_links(answer: dict) -> dict:
    """The emulator says "prev"/"next": null where the spec's CollectionLinks has strings
    only; the client reads both, the schema check takes the links that are there."""
    links = {k: v for k, v in answer["links"].items() if v is not None}
    return {**answer, "links": links}


def test_lists_and_segments_serve_their_members_paged_by_cursor(client):
    registry.seed("klaviyo")
    for index, interest in enumerate(["growth", "dividends", "growth", "growth", ""]):
        SandboxContact.objects.create(
            platform="klaviyo", account=ACCOUNT, identifier=f"r{index}@example.com",
            attributes={"email": f"r{index}@example.com", "first_name": f"R{index}",
                        "properties": {"interest": interest} if interest else {}},
        )  # fmt: skip
    spec = orjson.loads((SPECS / "klaviyo/stable.json").read_bytes())

    def members(path, headers=HEADERS):
        """Every page of `path` (links.next followed) → (emails, the pages' answers)."""
        answers = [get(client, path, headers).json()]
        while answers[-1]["links"]["next"]:
            answers.append(client.get(answers[-1]["links"]["next"], headers=headers).json())
        emails = [m["attributes"]["email"] for a in answers for m in a["data"]]
        return emails, answers

    growth = f"/api/segments/{emulator.group_id(1)}/profiles"
    emails, answers = members(f"{growth}?fields[profile]=email&page[size]=2")
    assert emails == ["r0@example.com", "r2@example.com", "r3@example.com"]
    assert len(answers) == 2
    assert set(answers[0]["data"][0]["attributes"]) == {"email", "joined_group_at"}
    assert answers[0]["data"][0]["id"] == emulator.profile_id(contact("r0@example.com"))

    def validator(operation_path):
        content = spec["paths"][operation_path]["get"]["responses"]["200"]["content"]
        schema = content["application/vnd.api+json"]["schema"]
        return jsonschema.Draft4Validator(_resolve(schema, spec["components"]["schemas"]))

    segment_answer = validator("/api/segments/{id}/profiles")
    for answer in answers:
        segment_answer.validate(_without_null_links(answer))
    full = get(client, f"/api/lists/{emulator.group_id(3)}/profiles?page[size]=1").json()
    validator("/api/lists/{id}/profiles").validate(_without_null_links(full))
    assert full["links"]["next"] and full["data"][0]["attributes"]["first_name"] == "R0"
    # The seeded list holds everyone (default page size 20); the read-only key may read.
    everyone, _ = members(f"/api/lists/{emulator.group_id(3)}/profiles", READ_ONLY)
    assert len(everyone) == 5

    # A list created through the API holds the profiles added to it, and only those.
    created = client.post(
        f"{BASE}/api/lists", content_type=MEDIA, headers=HEADERS,
        data=orjson.dumps({"data": {"type": "list", "attributes": {"name": "Pushed"}}}),
    ).json()["data"]["id"]  # fmt: skip
    added = [{"type": "profile", "id": emulator.profile_id(contact(f"r{i}@example.com"))}
             for i in (4, 1)]  # fmt: skip
    client.post(
        f"{BASE}/api/lists/{created}/relationships/profiles", content_type=MEDIA,
        headers=HEADERS, data=orjson.dumps({"data": added}),
    )  # fmt: skip
    pushed, _ = members(f"/api/lists/{created}/profiles?fields[profile]=email")
    assert pushed == ["r1@example.com", "r4@example.com"]

    assert get(client, f"{growth}?page[size]=101").status_code == 400
    assert get(client, f"{growth}?page[size]=0").status_code == 400
    assert get(client, f"/api/lists/{emulator.group_id(1)}/profiles").status_code == 404
    assert get(client, "/api/segments/Sbx999/profiles").status_code == 404
    assert (
        get(client, growth, headers={"Authorization": HEADERS["Authorization"]}).status_code == 400
    )


class TestProfilesAndPrivacy:
    def test_filter_and_delete(self, client, sandbox_time):
        submit(client, [profile("a@example.com", properties={"p": 1}), profile("b@example.com")])
        sandbox_time.now += 2
        get(client, "/api/profile-bulk-import-jobs")
        found = get(client, '/api/profiles?filter=equals(email,"A@example.com")').json()["data"]
        assert [p["attributes"]["email"] for p in found] == ["a@example.com"]
        assert get(client, "/api/profiles?filter=bogus").status_code == 400
        sampled = get(client, "/api/profiles?fields[profile]=properties&page[size]=100").json()
        assert [p["attributes"] for p in sampled["data"]] == [
            {"properties": {"p": 1}},
            {"properties": {}},
        ]

        def delete(data):
            return client.post(
                f"{BASE}/api/data-privacy-deletion-jobs",
                data=orjson.dumps({"data": {"type": "data-privacy-deletion-job",
                                            "attributes": {"profile": {"data": data}}}}),
                content_type=MEDIA,
                headers=HEADERS,
            )  # fmt: skip

        both = delete({"type": "profile", "attributes": {"email": "a@example.com",
                                                          "phone_number": "+15005550006"}})  # fmt: skip
        assert both.status_code == 400
        assert (
            delete({"type": "profile", "attributes": {"email": "A@example.com"}}).status_code == 202
        )
        by_id = delete({"type": "profile", "id": found[0]["id"], "attributes": {}})
        assert by_id.status_code == 202
        assert list(SandboxContact.objects.values_list("identifier", flat=True)) == [
            "b@example.com"
        ]
        refused = client.post(
            f"{BASE}/api/data-privacy-deletion-jobs", data=b"{}", content_type=MEDIA,
            headers=READ_ONLY,
        )  # fmt: skip
        assert refused.status_code == 403


def test_profiles_carry_their_subscriptions_only_when_asked(client):
    SandboxContact.objects.create(
        platform="klaviyo", account=ACCOUNT, identifier="ann@example.com",
        attributes={"email": "ann@example.com", "first_name": "Ann"},
    )  # fmt: skip
    SandboxContact.objects.create(
        platform="klaviyo", account=ACCOUNT, identifier="bob@example.com",
        attributes={"email": "bob@example.com"}, suppressed=True,
    )  # fmt: skip
    consent = {"email": {"marketing": {"can_receive_email_marketing": True,
                                       "consent": "SUBSCRIBED", "suppression": []}}}  # fmt: skip
    SandboxContact.objects.create(
        platform="klaviyo", account=ACCOUNT, identifier="cy@example.com",
        attributes={"email": "cy@example.com", "subscriptions": consent},
    )  # fmt: skip
    plain = get(client, "/api/profiles?page[size]=2").json()
    assert all("subscriptions" not in p["attributes"] for p in plain["data"])
    asked = get(client, "/api/profiles?page[size]=2&additional-fields[profile]=subscriptions")
    page = asked.json()
    marketing = [p["attributes"]["subscriptions"]["email"]["marketing"] for p in page["data"]]
    assert [m["consent"] for m in marketing] == ["NEVER_SUBSCRIBED", "UNSUBSCRIBED"]
    assert marketing[1]["suppression"][0]["reason"] == "USER_SUPPRESSED"
    rest = client.get(page["links"]["next"], headers=HEADERS).json()
    assert rest["data"][0]["attributes"]["subscriptions"] == consent
    assert rest["links"]["next"] is None
    wrong = get(client, "/api/profiles?additional-fields[profile]=everything")
    assert wrong.status_code == 400
    assert get(client, "/api/profiles?page[size]=101").status_code == 400
