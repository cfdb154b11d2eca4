"""The SendGrid emulator: Bearer keys per host and scope, field definitions, the upsert job and
its errors file, lists and segments with counts, search and deletion."""

from __future__ import annotations

import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact, SandboxFieldType
from integrations.sandbox.sendgrid import ALL_READERS, contact_id, list_uuid

pytestmark = pytest.mark.django_db

G = "/sandbox/sendgrid/api.sendgrid.com"
EU = "/sandbox/sendgrid/api.eu.sendgrid.com"
FULL = {"Authorization": "Bearer SG.sandbox-sendgrid-full-key"}
EU_KEY = {"Authorization": "Bearer SG.sandbox-sendgrid-eu-key"}
READ_ONLY = {"Authorization": "Bearer SG.sandbox-sendgrid-readonly-key"}
MAIL_ONLY = {"Authorization": "Bearer SG.sandbox-sendgrid-mail-only-key"}
ACCOUNT = "sandbox-sendgrid-global"


@pytest.fixture(autouse=True)
def seeded():
    registry.seed("sendgrid")


@pytest.fixture
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


def field_id(name: str) -> str:
    row = SandboxFieldType.objects.get(platform="sendgrid", account=ACCOUNT, name=name)
    return f"e{row.pk}_{row.type[0]}"


def upsert(client, contacts, headers=FULL, base=G, **extra):
    return client.put(
        f"{base}/v3/marketing/contacts",
        data=orjson.dumps({"contacts": contacts, **extra}),
        content_type="application/json",
        headers=headers,
    )


def status(client, job_id, headers=FULL):
    return client.get(f"{G}/v3/marketing/contacts/imports/{job_id}", headers=headers)


def finished(client, job_id) -> dict:
    assert status(client, job_id).json()["status"] == "pending"  # the first poll
    return status(client, job_id).json()


def stored() -> dict[str, dict]:
    rows = SandboxContact.objects.filter(platform="sendgrid", account=ACCOUNT)
    return {row.identifier: row.attributes for row in rows}


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic x"}, EU_KEY],
        ids=["none", "wrong", "basic", "eu-key-on-global-host"],
    )
    def test_refused(self, client, headers):
        for response in (
            client.get(f"{G}/v3/scopes", headers=headers),
            client.get(f"{G}/v3/marketing/field_definitions", headers=headers),
            upsert(client, [{"email": "a@example.com"}], headers=headers),
        ):
            assert response.status_code == 401
            assert response.json()["errors"][0]["message"] == "authorization required"
        assert not SandboxContact.objects.exists()

    def test_scopes_per_key(self, client):
        assert "marketing.read" in client.get(f"{G}/v3/scopes", headers=FULL).json()["scopes"]
        assert client.get(f"{G}/v3/scopes", headers=MAIL_ONLY).json() == {"scopes": ["mail.send"]}
        assert client.get(f"{EU}/v3/scopes", headers=EU_KEY).status_code == 200

    def test_read_only_key_reads_but_cannot_write(self, client):
        assert client.get(f"{G}/v3/marketing/lists", headers=READ_ONLY).status_code == 200
        assert upsert(client, [{"email": "a@example.com"}], headers=READ_ONLY).status_code == 403
        assert upsert(client, [], headers=READ_ONLY).status_code == 403  # the probe
        assert not SandboxContact.objects.exists()

    def test_mail_only_key_has_no_marketing(self, client):
        for response in (
            client.get(f"{G}/v3/marketing/field_definitions", headers=MAIL_ONLY),
            client.get(f"{G}/v3/marketing/lists", headers=MAIL_ONLY),
            upsert(client, [], headers=MAIL_ONLY),
        ):
            assert response.status_code == 403


class TestUpsert:
    def test_job_lifecycle_and_storage(self, client):
        contacts = [
            {
                "email": "Ann@Example.com",
                "first_name": "Ann",
                "custom_fields": {field_id("interest"): "growth", field_id("score"): 3},
            },
            {"external_id": "crm-2", "city": "Oslo"},
        ]
        response = upsert(client, contacts, list_ids=[ALL_READERS])
        assert response.status_code == 202
        job = finished(client, response.json()["job_id"])
        assert job["status"] == "completed"
        assert job["job_type"] == "upsert"
        assert job["results"]["created_count"] == 2
        assert "errors_url" not in job["results"]
        assert stored()["ann@example.com"] == {
            "email": "ann@example.com",
            "first_name": "Ann",
            "interest": "growth",
            "score": 3,
            "list_ids": [ALL_READERS],
        }
        assert stored()["external_id:crm-2"]["city"] == "Oslo"

        again = upsert(client, [{"email": "ann@example.com", "last_name": "Lee"}])
        job = finished(client, again.json()["job_id"])
        assert (job["results"]["created_count"], job["results"]["updated_count"]) == (0, 1)
        assert stored()["ann@example.com"]["first_name"] == "Ann"  # omitted fields are kept
        assert stored()["ann@example.com"]["list_ids"] == [ALL_READERS]

    def test_400_names_the_contact(self, client):
        response = upsert(
            client,
            [
                {"email": "ok@example.com"},
                {"email": "not-an-email"},
                {"email": "x@example.com", "first_name": "x" * 51},
                {"email": "y@example.com", "custom_fields": {"e999_T": "x"}},
                {"email": "z@example.com", "unique_name": "z"},
                {"first_name": "no identifier"},
            ],
        )
        assert response.status_code == 400
        assert [e["field"] for e in response.json()["errors"]] == [
            "contacts[1].email",
            "contacts[2].first_name",
            "contacts[3].custom_fields.e999_T",
            "contacts[4].unique_name",
            "contacts[5].email",
        ]
        assert not SandboxContact.objects.exists()

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"contacts": []}, "contacts"),
            ({"people": []}, "contacts"),
            ({"contacts": [{"email": "a@example.com"}], "list_ids": ["nope"]}, "list_ids[0]"),
        ],
    )
    def test_request_shape(self, client, body, field):
        response = client.put(
            f"{G}/v3/marketing/contacts",
            data=orjson.dumps(body),
            content_type="application/json",
            headers=FULL,
        )
        assert response.status_code == 400
        assert response.json()["errors"][0]["field"] == field

    def test_body_over_6mb(self, client):
        contacts = [{"email": f"p{i}@example.com", "city": "x" * 60} for i in range(80_000)]
        assert upsert(client, contacts).status_code == 413

    def test_type_errors_and_suppressed_go_to_the_errors_file(self, client):
        SandboxContact.objects.create(
            platform="sendgrid", account=ACCOUNT, identifier="gone@example.com", suppressed=True
        )
        response = upsert(
            client,
            [
                {"email": "ok@example.com"},
                {"email": "typed@example.com", "custom_fields": {field_id("score"): "many"}},
                {"email": "gone@example.com", "first_name": "New"},
                {"email": "day@example.com", "custom_fields": {field_id("renewal"): "soon"}},
            ],
        )
        job = finished(client, response.json()["job_id"])
        assert job["status"] == "errored"
        assert job["results"]["errored_count"] == 3
        url = job["results"]["errors_url"]
        assert url.startswith("http://testserver/sandbox/sendgrid/api.sendgrid.com/")
        # The file is a pre-signed link: fetched without the key (the key is refused there).
        assert client.get(url, headers=FULL).status_code == 400
        lines = client.get(url).content.decode().splitlines()
        assert lines[0] == "email,error"
        assert set(lines[1:]) == {
            "typed@example.com,custom field 'score' must be a number",
            "gone@example.com,contact is suppressed and cannot be updated",
            "day@example.com,custom field 'renewal' must be a date",
        }
        assert set(stored()) == {"ok@example.com", "gone@example.com"}
        assert stored()["gone@example.com"] == {}

    def test_all_refused_is_a_failed_job(self, client):
        response = upsert(
            client, [{"email": "t@example.com", "custom_fields": {field_id("score"): "x"}}]
        )
        assert finished(client, response.json()["job_id"])["status"] == "failed"

    def test_unknown_job(self, client):
        assert status(client, "nope").status_code == 404


class TestListsAndSegments:
    def test_lists_with_counts_and_pages(self, client):
        upsert(client, [{"email": f"p{i}@example.com"} for i in range(3)], list_ids=[ALL_READERS])
        upsert(client, [{"email": "outside@example.com"}])
        body = client.get(f"{G}/v3/marketing/lists?page_size=1", headers=FULL).json()
        assert body["result"][0]["id"] == ALL_READERS
        assert body["result"][0]["contact_count"] == 3
        assert "next" not in body["_metadata"]
        count = client.get(f"{G}/v3/marketing/lists/{ALL_READERS}/contacts/count", headers=FULL)
        assert count.json() == {"contact_count": 3, "billable_count": 3}
        assert client.get(f"{G}/v3/marketing/lists?page_size=0", headers=FULL).status_code == 400

    def test_segments_follow_field_values(self, client):
        interest = field_id("interest")
        upsert(
            client,
            [
                {"email": "g1@example.com", "custom_fields": {interest: "growth"}},
                {"email": "g2@example.com", "custom_fields": {interest: "growth"}},
                {"email": "d1@example.com", "custom_fields": {interest: "dividends"}},
            ],
        )
        results = client.get(f"{G}/v3/marketing/segments/2.0", headers=FULL).json()["results"]
        assert {s["name"]: s["contacts_count"] for s in results} == {
            "Growth Investors": 2,
            "Dividend Income": 1,
        }
        one = client.get(f"{G}/v3/marketing/segments/2.0/{list_uuid(2)}", headers=FULL).json()
        assert one["contacts_count"] == 2


class TestSearchAndDelete:
    def test_search_then_delete(self, client):
        upsert(client, [{"email": "a@example.com"}, {"email": "b@example.com"}])
        found = client.post(
            f"{G}/v3/marketing/contacts/search/emails",
            data=orjson.dumps({"emails": ["A@example.com", "zz@example.com"]}),
            content_type="application/json",
            headers=FULL,
        ).json()["result"]
        assert found["a@example.com"]["contact"]["id"] == contact_id(ACCOUNT, "a@example.com")
        assert found["zz@example.com"] == {"error": "contact not found"}
        response = client.delete(
            f"{G}/v3/marketing/contacts?ids={contact_id(ACCOUNT, 'a@example.com')}", headers=FULL
        )
        assert response.status_code == 202
        assert set(stored()) == {"b@example.com"}
        assert status(client, response.json()["job_id"]).json()["status"] == "pending"
        assert status(client, response.json()["job_id"]).json()["job_type"] == "delete"
        assert client.delete(f"{G}/v3/marketing/contacts", headers=READ_ONLY).status_code == 403

    def test_search_without_match_is_404(self, client):
        response = client.post(
            f"{G}/v3/marketing/contacts/search/emails",
            data=orjson.dumps({"emails": ["x@example.com"]}),
            content_type="application/json",
            headers=FULL,
        )
        assert response.status_code == 404


class TestRateLimitsAndFaults:
    def test_upsert_allows_3_a_second(self, client, sandbox_time):
        for i in range(3):
            assert upsert(client, [{"email": f"p{i}@example.com"}]).status_code == 202
        response = upsert(client, [{"email": "late@example.com"}])
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["errors"][0]["message"] == "too many requests"
        assert client.get(f"{G}/v3/marketing/lists", headers=FULL).status_code == 200
        sandbox_time.now += 1
        assert upsert(client, [{"email": "late@example.com"}]).status_code == 202

    def test_faults_come_after_auth(self, client):
        emulation.set_faults("sendgrid", throttle_next=1, retry_after=2)
        assert upsert(client, [{"email": "a@example.com"}], headers=READ_ONLY).status_code == 403
        response = upsert(client, [{"email": "a@example.com"}])
        assert response.status_code == 429 and response.headers["Retry-After"] == "2"
        assert not SandboxContact.objects.exists()


@pytest.fixture
def post_full(client, sandbox_time):
    """POST as the full key, a second apart (the emulator's 10 a second is not the point)."""

    def post(path, body):
        sandbox_time.now += 1.0
        return client.post(f"{G}{path}", data=orjson.dumps(body),
                           content_type="application/json", headers=FULL)  # fmt: skip

    return post


def test_a_test_email_goes_through_a_dynamic_template_and_is_recorded_as_a_test(client, post_full):
    from integrations.sandbox.models import SandboxSend

    made = post_full("/v3/templates", {"name": "T", "generation": "dynamic"})
    assert made.status_code == 201
    tid = made.json()["id"]
    body = {"template_id": tid, "emails": ["qa@example.com"], "sender_id": 1,
            "suppression_group_id": 5}  # fmt: skip
    # No active version yet: nothing to send.
    assert post_full("/v3/marketing/test/send_email", body).status_code == 400
    version = {"name": "T", "subject": "Markets", "html_content": "<p>Hi</p>", "active": 1}
    assert post_full(f"/v3/templates/{tid}/versions", version).status_code == 201
    assert post_full(f"/v3/templates/{tid}/versions", {"name": "T"}).status_code == 400
    assert post_full("/v3/marketing/test/send_email", body).status_code == 202
    (test,) = SandboxSend.objects.filter(platform="sendgrid", kind="test")
    assert (test.content["subject"], test.content["html_content"]) == ("Markets", "<p>Hi</p>")
    for wrong in ({"sender_id": 2}, {"emails": ["qa@example.com"] * 2}, {"emails": []},
                  {"suppression_group_id": None}):  # fmt: skip
        assert post_full("/v3/marketing/test/send_email", {**body, **wrong}).status_code == 400
    legacy = post_full("/v3/templates", {"name": "L"}).json()["id"]
    post_full(f"/v3/templates/{legacy}/versions", version)
    answer = post_full("/v3/marketing/test/send_email", {**body, "template_id": legacy})
    assert answer.status_code == 400  # a legacy template is not delivered
    assert client.delete(f"{G}/v3/templates/{tid}", headers=FULL).status_code == 204
    assert client.delete(f"{G}/v3/templates/{tid}", headers=FULL).status_code == 404
    assert SandboxSend.objects.filter(kind="test").count() == 1
    assert not SandboxSend.objects.filter(kind="single_send").exists()
