"""Klaviyo client against strict `responses` mocks shaped like ../shared/platforms/klaviyo.md,
with request bodies validated against Klaviyo's OpenAPI document (specs/klaviyo/stable.json)."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.base import JobListener
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.klaviyo import REVISION, KlaviyoClient
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, Written
from tests.integrations.platforms.support import strict
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://a.klaviyo.com"
JOBS = f"{BASE}/api/profile-bulk-import-jobs"
KEY = "pk_sandbox-klaviyo-private-key"
SPEC = SPECS / "klaviyo/stable.json"
HEADERS = matchers.header_matcher(
    {
        "Authorization": f"Klaviyo-API-Key {KEY}",
        "revision": REVISION,
        "Accept": "application/vnd.api+json",
    }
)
JSON_API_BODY = matchers.header_matcher({"Content-Type": "application/vnd.api+json"})
DENIED = {
    "errors": [
        {
            "id": "e1",
            "status": 403,
            "code": "permission_denied",
            "title": "You do not have permission to perform this action.",
            "detail": "This API key is missing required scopes.",
        }
    ]
}


@pytest.fixture
def client(make_integration):
    integration = make_integration("klaviyo", credentials={"private_api_key": KEY})
    return KlaviyoClient(integration)


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def job(job_id, status, total=0, completed=0, failed=0):
    return {
        "data": {
            "type": "profile-bulk-import-job",
            "id": job_id,
            "attributes": {
                "status": status,
                "created_at": "2026-01-01T00:00:00+00:00",
                "total_count": total,
                "completed_count": completed,
                "failed_count": failed,
                "completed_at": None,
                "expires_at": None,
                "started_at": None,
            },
            "links": {"self": f"{JOBS}/{job_id}"},
        }
    }


def import_error(index, code, detail, email=None, title="Invalid input."):
    return {
        "type": "import-error",
        "id": f"err-{index}",
        "attributes": {
            "code": code,
            "title": title,
            "detail": detail,
            "source": {"pointer": f"/data/attributes/profiles/data/{index}/attributes/email"},
            "original_payload": (
                {"type": "profile", "attributes": {"email": email}} if email else None
            ),
        },
    }


class Recorder(JobListener):
    def __init__(self):
        self.jobs, self.states = [], []

    def job_submitted(self, job):
        self.jobs.append(job)

    def job_progress(self, state):
        self.states.append(state)


# --- the spec ---------------------------------------------------------------------------------


def _resolve(node, schemas, seen=()):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            if name in seen:  # recursive definitions stay open
                return {}
            return _resolve(schemas[name], schemas, (*seen, name))
        resolved = {k: _resolve(v, schemas, seen) for k, v in node.items() if k != "nullable"}
        if node.get("nullable") and isinstance(node.get("type"), str):
            resolved["type"] = [node["type"], "null"]  # OpenAPI 3.0's nullable, for Draft 4
        return resolved
    if isinstance(node, list):
        return [_resolve(v, schemas, seen) for v in node]
    return node


def _closed(schema):
    """Refuse undeclared properties (the spec leaves objects open) except free-form objects."""
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and schema.get("properties"):
        schema["additionalProperties"] = False
        schema["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema["items"] = _closed(schema["items"])
    return schema


@pytest.fixture(scope="module")
def spec():
    return json.loads(SPEC.read_text())


def body_schema(spec, path, method="post"):
    operation = spec["paths"][path][method]
    content = operation["requestBody"]["content"]["application/vnd.api+json"]["schema"]
    return _closed(_resolve(content, spec["components"]["schemas"]))


@pytest.fixture(scope="module")
def bulk_import_schema(spec):
    return body_schema(spec, "/api/profile-bulk-import-jobs")


def test_the_schema_helper_catches_a_wrong_shape(bulk_import_schema):
    validator = jsonschema.Draft4Validator(bulk_import_schema)
    good = {
        "data": {
            "type": "profile-bulk-import-job",
            "attributes": {
                "profiles": {"data": [{"type": "profile", "attributes": {"email": "a@b.c"}}]}
            },
        }
    }
    assert not list(validator.iter_errors(good))
    wrong_type = copy.deepcopy(good)
    wrong_type["data"]["type"] = "profile-import-job"
    assert list(validator.iter_errors(wrong_type))
    custom_at_top = copy.deepcopy(good)
    custom_at_top["data"]["attributes"]["profiles"]["data"][0]["attributes"]["plan"] = "pro"
    assert list(validator.iter_errors(custom_at_top))
    assert list(validator.iter_errors({"data": {"type": "profile-bulk-import-job"}}))


def test_bulk_import_body_matches_the_spec(client, bulk_import_schema):
    records = [
        rec(
            1,
            "ann@example.com",
            first_name="Ann",
            last_name="Lee",
            sharpsend_status="subscribed",
            sharpsend_signup_date=datetime(2024, 1, 1, tzinfo=UTC),
            **{"location.city": "Paris", "location.country": "France"},
        ),
        ContactRecord(2, "external_id", "42", {"external_id": "42", "tags": ["a"], "vip": True}),
        ContactRecord(3, "phone_number", "+15005550006", {"phone_number": "+15005550006"}),
    ]
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        return 202, {}, json.dumps(job("job-1", "queued", total=3))

    with strict() as rsps:
        rsps.add_callback("POST", JOBS, callback=answer)
        rsps.get(f"{JOBS}/job-1", json=job("job-1", "complete", total=3, completed=3))
        results = client.upsert_contacts(records, True)
    (body,) = bodies
    jsonschema.Draft4Validator(bulk_import_schema).validate(body)
    profiles = body["data"]["attributes"]["profiles"]["data"]
    assert profiles[0] == {
        "type": "profile",
        "attributes": {
            "email": "ann@example.com",
            "first_name": "Ann",
            "last_name": "Lee",
            "location": {"city": "Paris", "country": "France"},
            "properties": {
                "sharpsend_status": "subscribed",
                "sharpsend_signup_date": "2024-01-01T00:00:00+00:00",
            },
        },
    }
    assert profiles[1]["attributes"] == {
        "external_id": "42",
        "properties": {"tags": ["a"], "vip": True},
    }
    assert profiles[2]["attributes"] == {"phone_number": "+15005550006"}
    assert [r.outcome for r in results] == [Written.WRITTEN] * 3


def test_connection_probe_body_matches_the_spec(client, bulk_import_schema):
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        return 400, {}, json.dumps({"errors": [{"code": "invalid", "title": "Invalid input."}]})

    with strict() as rsps:
        rsps.get(f"{BASE}/api/accounts", json={"data": []})
        rsps.add_callback("POST", JOBS, callback=answer)
        rsps.get(JOBS, json={"data": []})
        rsps.get(f"{BASE}/api/lists", json={"data": []})
        rsps.get(f"{BASE}/api/segments", json={"data": []})
        client.test_connection()
    jsonschema.Draft4Validator(bulk_import_schema).validate(bodies[0])


def test_deletion_body_matches_the_spec(client, spec):
    schema = body_schema(spec, "/api/data-privacy-deletion-jobs")
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        assert request.headers["Content-Type"] == "application/vnd.api+json"
        return 202, {}, ""

    with strict() as rsps:
        rsps.add_callback("POST", f"{BASE}/api/data-privacy-deletion-jobs", callback=answer)
        client.delete_contact("a@example.com")
        client.delete_contact("+15005550006")
        client.delete_contact("01GDDKASAP8TKDDA2GRZDSVP4H")
    for body in bodies:
        jsonschema.Draft4Validator(schema).validate(body)
    assert [b["data"]["attributes"]["profile"]["data"] for b in bodies] == [
        {"type": "profile", "attributes": {"email": "a@example.com"}},
        {"type": "profile", "attributes": {"phone_number": "+15005550006"}},
        {"type": "profile", "id": "01GDDKASAP8TKDDA2GRZDSVP4H", "attributes": {}},
    ]


def test_job_and_error_responses_used_here_match_the_spec(spec):
    schemas = spec["components"]["schemas"]
    job_schema = _resolve({"$ref": "#/components/schemas/PostProfileImportJobResponse"}, schemas)
    jsonschema.Draft4Validator(job_schema).validate(job("job-1", "queued", total=2))
    errors_schema = _resolve(
        {"$ref": "#/components/schemas/GetImportErrorResponseCollection"}, schemas
    )
    jsonschema.Draft4Validator(errors_schema).validate(
        {"data": [import_error(0, "invalid", "Invalid email", "x")], "links": {"self": JOBS}}
    )


# --- test_connection --------------------------------------------------------------------------


def _account():
    return {
        "data": [
            {
                "type": "account",
                "id": "AbC123",
                "attributes": {"contact_information": {"organization_name": "Daily Brief"}},
                "links": {"self": f"{BASE}/api/accounts/AbC123"},
            }
        ]
    }


def _probes(rsps, write=400, poll=200, lists=200, segments=200):
    rsps.post(JOBS, match=[HEADERS, JSON_API_BODY], status=write,
              json=DENIED if write == 403 else {"errors": [{"code": "invalid"}]})  # fmt: skip
    rsps.get(
        JOBS,
        match=[HEADERS, matchers.query_param_matcher({"page[size]": "1"})],
        status=poll,
        json=DENIED if poll == 403 else {"data": []},
    )
    for path, status in (("lists", lists), ("segments", segments)):
        rsps.get(
            f"{BASE}/api/{path}",
            match=[matchers.query_param_matcher({"page[size]": "1"})],
            status=status,
            json=DENIED if status == 403 else {"data": []},
        )


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/api/accounts", match=[HEADERS], json=_account())
        _probes(rsps)
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Daily Brief"
    assert report.region == "global"
    assert report.permissions == {
        "upsert_contacts": True,
        "list_segments": True,
        "list_fields": True,
        "export_contact": True,
        "delete_contact": None,
    }


def test_connection_read_only_key(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/api/accounts", json=_account())
        _probes(rsps, write=403)
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "cannot write profiles" in report.detail
    assert report.permissions["upsert_contacts"] is False
    assert report.permissions["list_segments"] is True


def test_connection_custom_key_that_cannot_read_jobs(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/api/accounts", status=403, json=DENIED)  # no accounts:read either
        _probes(rsps, poll=403, segments=403)
        report = client.test_connection()
    assert report.ok is False and report.can_write is True
    assert "cannot read their results" in report.detail
    assert report.account == "Klaviyo account"
    assert report.permissions["list_segments"] is False


@pytest.mark.parametrize(
    ("status", "code"), [(401, "not_authenticated"), (400, "authentication_failed")]
)
def test_connection_refused_key(client, status, code):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/api/accounts",
            status=status,
            json={"errors": [{"id": "x", "code": code, "title": "Incorrect authentication."}]},
        )
        report = client.test_connection()
    assert report.ok is False and report.can_write is None
    assert "refused the private API key" in report.detail
    assert KEY not in report.detail


# --- the bulk import job ----------------------------------------------------------------------


def test_job_is_polled_until_complete_and_errors_map_per_profile(client, fake_clock):
    records = [
        rec(0, "ok@example.com"),
        rec(1, "Bad@Example.com"),
        rec(2, "gone@example.com"),
        rec(3, "fine@example.com"),
    ]
    recorder = Recorder()
    client.job_listener = recorder
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(JOBS, match=[HEADERS, JSON_API_BODY], status=202, json=job("j1", "queued", 4))
        rsps.get(f"{JOBS}/j1", match=[HEADERS], json=job("j1", "queued", 4))
        rsps.get(f"{JOBS}/j1", json=job("j1", "processing", 4, completed=2))
        rsps.get(f"{JOBS}/j1", json=job("j1", "complete", 4, completed=2, failed=2))
        rsps.get(
            f"{JOBS}/j1/import-errors",
            match=[HEADERS, matchers.query_param_matcher({"page[size]": "100"})],
            json={
                "data": [import_error(1, "invalid", "Invalid email address", "bad@example.com")],
                "links": {
                    "self": f"{JOBS}/j1/import-errors",
                    "next": f"{JOBS}/j1/import-errors?page%5Bcursor%5D=bmV4dA&page%5Bsize%5D=100",
                },
            },
        )
        rsps.get(
            f"{JOBS}/j1/import-errors",
            match=[matchers.query_param_matcher({"page[size]": "100", "page[cursor]": "bmV4dA"})],
            json={
                "data": [
                    import_error(
                        2, "suppressed", "This profile is suppressed.", title="Suppressed profile."
                    )
                ],
                "links": {"self": f"{JOBS}/j1/import-errors"},
            },
        )
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert recorder.jobs == [{"jobs": [{"id": "j1", "keys": [0, 1, 2, 3]}], "results": []}]
    assert recorder.states[0] == "Klaviyo import job 1/1: queued (0/4)"
    assert recorder.states[-1] == "Klaviyo import job 1/1: complete (2/4)"
    assert fake_clock.sleeps[:2] == [1.0, 2.0]  # growing poll waits
    assert results[0].outcome is Written.WRITTEN and results[3].outcome is Written.WRITTEN
    # by the original payload's email, case-insensitively
    assert (results[1].outcome, results[1].code) == (Outcome.REJECTED_DATA, "invalid")
    assert "Invalid email address" in results[1].message
    assert "email" in results[1].hint
    # by the pointer's index when the payload is absent
    assert (results[2].outcome, results[2].code) == (Outcome.REJECTED_COMPLIANCE, "suppressed")


def test_resume_collects_a_submitted_job_without_resubmitting(client):
    saved = {
        "jobs": [{"id": "j9", "keys": [5, 6]}],
        "results": [[7, "rejected_data", "x", "m", "h"]],
    }
    records = [
        ContactRecord(5, "email", "a@example.com", {}),
        ContactRecord(6, "email", "b@example.com", {}),
        ContactRecord(7, "email", "big@example.com", {}),
    ]
    with strict() as rsps:  # no POST registered: a resubmission would fail
        rsps.get(f"{JOBS}/j9", json=job("j9", "complete", 2, completed=2))
        results = {r.key: r for r in client.collect_job(saved, records)}
    assert results[5].outcome is Written.WRITTEN and results[6].outcome is Written.WRITTEN
    assert (results[7].outcome, results[7].code) == (Outcome.REJECTED_DATA, "x")


def test_an_expired_job_leaves_its_records_unknown(client):
    with strict() as rsps:
        rsps.get(
            f"{JOBS}/old",
            status=404,
            json={"errors": [{"id": "x", "code": "not_found", "title": "Not found."}]},
        )
        results = client.collect_job(
            {"jobs": [{"id": "old", "keys": [1]}], "results": []},
            [ContactRecord(1, "email", "a@example.com", {})],
        )
    assert [(r.outcome, r.code) for r in results] == [(Outcome.UNKNOWN, "job_not_found")]


def test_a_cancelled_job_leaves_its_records_unknown(client):
    with strict() as rsps:
        rsps.post(JOBS, status=202, json=job("c1", "queued", 1))
        rsps.get(f"{JOBS}/c1", json=job("c1", "cancelled", 1))
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, "job_cancelled")


def test_unplaced_errors_leave_the_job_unknown(client):
    with strict() as rsps:
        rsps.post(JOBS, status=202, json=job("u1", "queued", 2))
        rsps.get(f"{JOBS}/u1", json=job("u1", "complete", 2, completed=1, failed=1))
        error = import_error(0, "invalid", "Something failed")
        error["attributes"]["source"] = {"pointer": "/data"}
        rsps.get(f"{JOBS}/u1/import-errors", json={"data": [error], "links": {}})
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert [r.outcome for r in results] == [Outcome.UNKNOWN] * 2
    assert "Something failed" in results[0].message


def test_groups_split_by_bytes_into_several_jobs(client, monkeypatch):
    monkeypatch.setattr(
        KlaviyoClient, "limits", dataclasses.replace(KlaviyoClient.limits, batch_max_bytes=600)
    )
    records = [rec(i, f"p{i}@example.com", bio="x" * 150) for i in range(6)]
    bodies = []

    def answer(request):
        bodies.append(request.body)
        return 202, {}, json.dumps(job(f"g{len(bodies)}", "queued"))

    with strict() as rsps:
        rsps.add_callback("POST", JOBS, callback=answer)
        for n in range(1, 4):
            rsps.get(f"{JOBS}/g{n}", json=job(f"g{n}", "complete"))
        recorder = Recorder()
        client.job_listener = recorder
        results = client.upsert_contacts(records, True)
    assert len(bodies) == 3 and all(len(b) <= 600 for b in bodies)
    assert [j["keys"] for j in recorder.jobs[0]["jobs"]] == [[0, 1], [2, 3], [4, 5]]
    assert [r.outcome for r in results] == [Written.WRITTEN] * 6


def test_a_refused_submission_is_recorded_in_the_job(client):
    with strict() as rsps:
        rsps.post(JOBS, status=403, json=DENIED)
        recorder = Recorder()
        client.job_listener = recorder
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH]
    assert recorder.jobs[0]["jobs"] == []
    assert recorder.jobs[0]["results"][0][:3] == [1, "rejected_auth", "permission_denied"]


def test_an_oversized_profile_is_rejected_locally(client):
    with strict() as rsps:
        rsps.post(JOBS, status=202, json=job("s1", "queued", 1))
        rsps.get(f"{JOBS}/s1", json=job("s1", "complete", 1, completed=1))
        results = {
            r.key: r
            for r in client.upsert_contacts(
                [rec(1, "a@example.com"), rec(2, "b@example.com", bio="x" * 120_000)], True
            )
        }
    assert results[1].outcome is Written.WRITTEN
    assert (results[2].outcome, results[2].code) == (Outcome.REJECTED_DATA, "entry_too_large")


# --- fields, lists and segments ---------------------------------------------------------------


def test_list_fields_adds_properties_seen_on_profiles(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/api/profiles",
            match=[
                HEADERS,
                matchers.query_param_matcher({"fields[profile]": "properties", "page[size]": "100"}),
            ],
            json={
                "data": [
                    {"type": "profile", "id": "p1",
                     "attributes": {"properties": {"plan": "pro", "score": 3}}},
                    {"type": "profile", "id": "p2",
                     "attributes": {"properties": {"vip": True}}},
                ]
            },
        )  # fmt: skip
        fields = {f.key: f.type for f in client.list_fields()}
    assert fields["email"] == "email"
    assert fields["location.city"] == "string"
    assert (fields["plan"], fields["score"], fields["vip"]) == ("string", "number", "boolean")


def test_list_segments_pages_lists_then_segments(client):
    def item(kind, id_, name, **attrs):
        return {"type": kind, "id": id_, "attributes": {"name": name, **attrs}}

    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/api/lists",
            match=[HEADERS, matchers.query_param_matcher({"page[size]": "10"})],
            json={
                "data": [item("list", "Y6nRLr", "Newsletter")],
                "links": {"next": f"{BASE}/api/lists?page%5Bcursor%5D=Mg&page%5Bsize%5D=10"},
            },
        )
        rsps.get(
            f"{BASE}/api/lists",
            match=[matchers.query_param_matcher({"page[size]": "10", "page[cursor]": "Mg"})],
            json={"data": [item("list", "Z7", "VIP")], "links": {"next": None}},
        )
        rsps.get(
            f"{BASE}/api/segments",
            match=[matchers.query_param_matcher({"page[size]": "10"})],
            json={
                "data": [
                    item("segment", "S1", "Engaged", is_processing=False),
                    item("segment", "S2", "New", is_processing=True),
                ],
                "links": {},
            },
        )
        segments = client.list_segments()
    assert segments == [
        RemoteSegment("list:Y6nRLr", "Newsletter", "list"),
        RemoteSegment("list:Z7", "VIP", "list"),
        RemoteSegment("segment:S1", "Engaged", "segment"),
        RemoteSegment("segment:S2", "New", "segment (processing)"),
    ]


@pytest.mark.parametrize("kind", ["list", "segment"])
def test_member_count(client, kind):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/api/{kind}s/Y6nRLr",
            match=[
                HEADERS,
                matchers.query_param_matcher({f"additional-fields[{kind}]": "profile_count"}),
            ],
            json={"data": {"type": kind, "id": "Y6nRLr", "attributes": {"profile_count": 321}}},
        )
        assert client.segment_member_count(f"{kind}:Y6nRLr") == 321


def test_member_counts_keep_to_fifteen_a_minute(client, fake_clock):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/api/lists/L1",
            json={"data": {"type": "list", "id": "L1", "attributes": {"profile_count": 1}}},
        )
        client.segment_member_count("list:L1")
        client.segment_member_count("list:L1")
    assert fake_clock.sleeps == [pytest.approx(4.0)]


def test_member_count_of_an_unknown_id(client):
    with pytest.raises(ValidationFailed):
        client.segment_member_count("Y6nRLr")


# --- export -----------------------------------------------------------------------------------


def test_export_filters_by_identifier(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/api/profiles",
            match=[
                HEADERS,
                matchers.query_param_matcher(
                    {
                        "filter": 'equals(email,"a@example.com")',
                        "additional-fields[profile]": "subscriptions",
                    }
                ),
            ],
            json={
                "data": [{"type": "profile", "id": "p1", "attributes": {"email": "a@example.com"}}]
            },
        )
        rsps.get(
            f"{BASE}/api/profiles",
            match=[
                matchers.query_param_matcher(
                    {
                        "filter": 'equals(external_id,"42")',
                        "additional-fields[profile]": "subscriptions",
                    }
                )
            ],
            json={"data": []},
        )
        assert client.export_contact("a@example.com")["profiles"][0]["id"] == "p1"
        assert client.export_contact("42") == {"profiles": []}
