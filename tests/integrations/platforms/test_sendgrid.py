"""SendGrid client against strict `responses` mocks shaped like ../shared/platforms/sendgrid.md,
and the contacts upsert body checked against SendGrid's own OpenAPI document."""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from datetime import UTC, date, datetime

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.base import JobListener
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.sendgrid import SendGridClient, may_write_marketing, parse_errors_file
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PrivacyState,
    RemoteSegment,
    TargetField,
    Written,
)
from tests.integrations.platforms.support import strict
from tests.specs import SPECS as SPEC_ROOT

pytestmark = pytest.mark.usefixtures("steady_retries")

API = "https://api.sendgrid.com"
EU = "https://api.eu.sendgrid.com"
KEY = "SG.test-key-0123456789"
LIST = "00000000-0000-4000-8000-000000000001"
SPECS = SPEC_ROOT / "sendgrid"
ERRORS_URL = "https://storage.example-sendgrid-exports.com/errors/job-1.csv?sig=abc"

AUTH = matchers.header_matcher({"Authorization": f"Bearer {KEY}"})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})

FIELDS = {
    "custom_fields": [
        {"id": "e1_T", "name": "interest", "field_type": "Text"},
        {"id": "e2_N", "name": "score", "field_type": "Number"},
        {"id": "e3_D", "name": "renewal", "field_type": "Date"},
    ],
    "reserved_fields": [
        {"id": "_rf0_T", "name": "first_name", "field_type": "Text"},
        {"id": "_rf1_T", "name": "last_name", "field_type": "Text"},
        {"id": "_rf2_T", "name": "email", "field_type": "Text"},
        {"id": "_rf6_T", "name": "city", "field_type": "Text"},
        {"id": "_rf14_T", "name": "unique_name", "field_type": "Text"},
        {"id": "_rf15_T", "name": "email_domains", "field_type": "Text", "read_only": True},
        {"id": "_rf21_D", "name": "created_at", "field_type": "Date", "read_only": True},
        {"id": "_rf23_T", "name": "contact_id", "field_type": "Text", "read_only": True},
    ],
}


@pytest.fixture
def client(make_integration):
    integration = make_integration(
        "sendgrid", region="global", credentials={"api_key": KEY, "list_id": LIST}
    )
    return SendGridClient(integration)


@pytest.fixture
def no_list_client(make_integration):
    integration = make_integration(
        "sendgrid", name="no list", region="global", credentials={"api_key": KEY}
    )
    return SendGridClient(integration)


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def job_status(job_id, status, **results):
    body = {"id": job_id, "status": status, "job_type": "upsert", "started_at": "2024-01-01T00:00Z"}
    body["results"] = results
    return body


def add_fields(rsps):
    return rsps.get(f"{API}/v3/marketing/field_definitions", match=[AUTH], json=FIELDS)


# --- test_connection -----------------------------------------------------------------------------

# A key with Marketing write access: read scopes plus create/update ones (sendgrid.md §2).
WRITE_SCOPES = [
    "mail.send",
    "marketing.read",
    "marketing.contacts.create",
    "marketing.contacts.update",
]


@pytest.mark.parametrize(
    "scopes, may_write",
    [
        (WRITE_SCOPES, True),
        (["marketing_campaigns.read", "marketing_campaigns.update"], True),
        (["marketing.read", "marketing.automation.read"], False),
        (["mail.send", "user.account.read"], False),
        ([], False),
    ],
)
def test_write_access_is_read_from_the_key_scopes(scopes, may_write):
    assert may_write_marketing(scopes) is may_write


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        scopes = rsps.get(f"{API}/v3/scopes", match=[AUTH], json={"scopes": WRITE_SCOPES})
        add_fields(rsps)
        rsps.get(
            f"{API}/v3/marketing/lists",
            match=[AUTH, matchers.query_param_matcher({"page_size": "1"})],
            json={"result": [], "_metadata": {}},
        )
        # No contacts upsert: the strict mock would refuse any call not listed here.
        rsps.get(f"{API}/v3/marketing/lists/{LIST}", match=[AUTH], json={"id": LIST, "name": "All"})
        report = client.test_connection()
    assert scopes.call_count == 1
    assert report.ok is True and report.can_write is True
    assert report.region == "global"
    assert "list 'All'" in report.detail
    assert report.permissions == {
        "list_fields": True,
        "list_segments": True,
        "upsert_contacts": True,
    }


def test_connection_read_only_marketing_key(client):
    with strict() as rsps:
        rsps.get(
            f"{API}/v3/scopes", json={"scopes": ["marketing.read", "marketing.automation.read"]}
        )
        add_fields(rsps)
        rsps.get(f"{API}/v3/marketing/lists", json={"result": []})
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "may not write contacts" in report.detail
    assert "Marketing Full Access" in report.detail
    assert report.permissions["upsert_contacts"] is False
    assert report.permissions["list_segments"] is True


def test_connection_key_without_marketing(client):
    forbidden = {"errors": [{"field": None, "message": "access forbidden"}]}
    with strict() as rsps:
        rsps.get(f"{API}/v3/scopes", json={"scopes": ["mail.send"]})
        rsps.get(f"{API}/v3/marketing/field_definitions", status=403, json=forbidden)
        rsps.get(f"{API}/v3/marketing/lists", status=403, json=forbidden)
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "no Marketing access" in report.detail
    assert "mail.send" in report.detail
    assert set(report.permissions.values()) == {False}


def test_connection_unknown_list(client):
    with strict() as rsps:
        rsps.get(f"{API}/v3/scopes", json={"scopes": WRITE_SCOPES})
        add_fields(rsps)
        rsps.get(f"{API}/v3/marketing/lists", json={"result": []})
        rsps.get(
            f"{API}/v3/marketing/lists/{LIST}",
            status=404,
            json={"errors": [{"message": "list not found"}]},
        )
        report = client.test_connection()
    assert report.ok is False and report.can_write is True
    assert f"no list with the ID {LIST}" in report.detail


def test_connection_key_of_the_eu_host(client):
    refused = {"errors": [{"field": None, "message": "authorization required"}]}
    with strict() as rsps:
        rsps.get(f"{API}/v3/scopes", match=[AUTH], status=401, json=refused)
        rsps.get(f"{EU}/v3/scopes", match=[AUTH], json={"scopes": ["marketing.read"]})
        report = client.test_connection()
    assert report.ok is False and report.region == "eu"
    assert "Choose EU" in report.detail


def test_connection_bad_key(client):
    refused = {"errors": [{"field": None, "message": "authorization required"}]}
    with strict() as rsps:
        us = rsps.get(f"{API}/v3/scopes", status=401, json=refused)
        eu = rsps.get(f"{EU}/v3/scopes", status=401, json=refused)
        report = client.test_connection()
    assert us.call_count == eu.call_count == 1
    assert report.ok is False and report.can_write is None
    assert "refused the API key" in report.detail
    assert KEY not in report.detail


# --- fields --------------------------------------------------------------------------------------


def test_list_fields_exposes_names_and_hides_read_only_fields(client):
    with strict() as rsps:
        add_fields(rsps)
        fields = client.list_fields()
    assert fields == [
        TargetField("first_name", "first_name", "string"),
        TargetField("last_name", "last_name", "string"),
        TargetField("email", "email", "string"),
        TargetField("city", "city", "string"),
        TargetField("interest", "interest (custom, Text)", "string"),
        TargetField("score", "score (custom, Number)", "number"),
        TargetField("renewal", "renewal (custom, Date)", "date"),
    ]


# --- upsert: the job -----------------------------------------------------------------------------


class Listener(JobListener):
    def __init__(self):
        self.jobs, self.states = [], []

    def job_submitted(self, job):
        self.jobs.append(job)

    def job_progress(self, state):
        self.states.append(state)


def test_upsert_body_translates_names_to_ids_and_polls_the_job(client, fake_clock):
    client.job_listener = listener = Listener()
    records = [
        rec(
            1,
            "Ann@Example.com",
            first_name="Ann",
            interest="growth",
            score="42",
            renewal=datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        ),
        rec(2, "bob@example.com", last_name="Lee", score=1.5, renewal=date(2024, 6, 1)),
    ]
    expected = {
        "list_ids": [LIST],
        "contacts": [
            {
                "email": "ann@example.com",
                "first_name": "Ann",
                "custom_fields": {
                    "e1_T": "growth",
                    "e2_N": 42,
                    "e3_D": "2024-05-01T09:30:00+00:00",
                },
            },
            {
                "email": "bob@example.com",
                "last_name": "Lee",
                "custom_fields": {"e2_N": 1.5, "e3_D": "2024-06-01T00:00:00+00:00"},
            },
        ],
    }
    with strict(registry=OrderedRegistry) as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(expected)],
            status=202,
            json={"job_id": "job-1"},
        )
        rsps.get(f"{API}/v3/marketing/contacts/imports/job-1", json=job_status("job-1", "pending"))
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/job-1",
            match=[AUTH],
            json=job_status("job-1", "completed", requested_count=2, created_count=2),
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(1, Written.WRITTEN), (2, Written.WRITTEN)]
    assert listener.jobs == [{"job_id": "job-1", "keys": [1, 2], "refused": []}]
    assert listener.states == ["SendGrid job job-1: pending", "SendGrid job job-1: completed"]
    assert fake_clock.sleeps == [pytest.approx(1.0)]  # one wait between the two polls


def test_upsert_without_a_list_sends_no_list_ids(no_list_client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            match=[matchers.json_params_matcher({"contacts": [{"email": "a@example.com"}]})],
            status=202,
            json={"job_id": "j"},
        )
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "completed"))
        (result,) = no_list_client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome is Written.WRITTEN


def test_errors_file_maps_rejections_per_contact(client):
    records = [rec(i, f"p{i}@example.com") for i in range(4)]
    errors_csv = (
        "email,error\n"
        "p1@example.com,custom field 'score' must be a number\n"
        "P2@Example.com,contact is suppressed and cannot be updated\n"
    )

    def download(request):
        assert "Authorization" not in request.headers  # never our key to another host
        return 200, {}, errors_csv

    with strict() as rsps:
        add_fields(rsps)
        rsps.put(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "job-2"})
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/job-2",
            json=job_status("job-2", "errored", errored_count=2, errors_url=ERRORS_URL),
        )
        rsps.add_callback("GET", ERRORS_URL.split("?")[0], callback=download)
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome is Written.WRITTEN
    assert results[3].outcome is Written.WRITTEN
    assert results[1].outcome == Outcome.REJECTED_DATA
    assert "must be a number" in results[1].message
    assert results[2].outcome == Outcome.REJECTED_COMPLIANCE
    assert results[2].code == "suppressed"
    assert all(results[i].hint for i in (1, 2))


def test_errors_file_cannot_be_read_marks_unknown(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "j"})
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/j",
            json=job_status("j", "errored", errored_count=1, errors_url=ERRORS_URL),
        )
        rsps.get(ERRORS_URL.split("?")[0], status=403, body="expired")
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert {r.outcome for r in results} == {Outcome.UNKNOWN}
    assert results[0].code == "errors_unreadable"


def test_errors_url_over_plain_http_is_not_fetched(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "j"})
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/j",
            json=job_status("j", "errored", errors_url="http://evil.example.com/e.csv"),
        )
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome == Outcome.UNKNOWN


def test_failed_job_without_errors_file_rejects_all(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "j"})
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "failed"))
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert [(r.outcome, r.code) for r in results] == [(Outcome.REJECTED_DATA, "job_failed")] * 2


def test_a_400_naming_contacts_rejects_them_and_sends_the_rest(client):
    bodies = []

    def answer(request):
        body = json.loads(request.body)
        bodies.append(body)
        if len(bodies) == 1:
            return (
                400,
                {},
                json.dumps(
                    {
                        "errors": [
                            {
                                "field": "contacts[1].email",
                                "message": "email address is invalid",
                            }
                        ]
                    }
                ),
            )
        return 202, {}, json.dumps({"job_id": "j"})

    client.job_listener = listener = Listener()
    records = [rec(1, "a@example.com"), rec(2, "not-an-email"), rec(3, "c@example.com")]
    with strict() as rsps:
        add_fields(rsps)
        rsps.add_callback("PUT", f"{API}/v3/marketing/contacts", callback=answer)
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "completed"))
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert [c["email"] for c in bodies[1]["contacts"]] == ["a@example.com", "c@example.com"]
    assert results[1].outcome is Written.WRITTEN and results[3].outcome is Written.WRITTEN
    assert results[2].outcome == Outcome.REJECTED_DATA
    assert "contacts[1].email" in results[2].message
    assert listener.jobs[0]["refused"][0][0] == 2


def test_a_400_for_the_whole_request_rejects_the_batch(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            status=400,
            json={"errors": [{"field": "list_ids[0]", "message": "list does not exist"}]},
        )
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert {r.outcome for r in results} == {Outcome.REJECTED_DATA}
    assert "list does not exist" in results[0].message


def test_number_fields_are_checked_locally(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            match=[
                matchers.json_params_matcher(
                    {"list_ids": [LIST], "contacts": [{"email": "ok@example.com"}]}
                )
            ],
            status=202,
            json={"job_id": "j"},
        )
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "completed"))
        results = client.upsert_contacts(
            [rec(1, "bad@example.com", score="lots"), rec(2, "ok@example.com")], True
        )
    assert (results[0].key, results[0].outcome, results[0].code) == (
        1,
        Outcome.REJECTED_DATA,
        "wrong_type",
    )
    assert results[1].outcome is Written.WRITTEN


def test_batches_split_by_bytes_into_several_jobs(client, monkeypatch):
    monkeypatch.setattr(
        SendGridClient, "limits", dataclasses.replace(SendGridClient.limits, batch_max_bytes=600)
    )
    records = [rec(i, f"p{i}@example.com", interest="x" * 100) for i in range(6)]
    sizes = []

    def answer(request):
        sizes.append((len(request.body), len(json.loads(request.body)["contacts"])))
        return 202, {}, json.dumps({"job_id": f"j{len(sizes)}"})

    with strict() as rsps:
        add_fields(rsps)
        rsps.add_callback("PUT", f"{API}/v3/marketing/contacts", callback=answer)
        polls = rsps.get(
            re.compile(rf"{API}/v3/marketing/contacts/imports/j\d"),
            json=job_status("x", "completed"),
        )
        results = client.upsert_contacts(records, True)
    assert len(sizes) >= 2 and all(size <= 600 for size, _ in sizes)
    assert polls.call_count == len(sizes)
    assert sum(count for _, count in sizes) == 6
    assert [r.key for r in results] == list(range(6))


def test_401_on_submit_rejects_all(client):
    with strict() as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            status=401,
            json={"errors": [{"field": None, "message": "authorization required"}]},
        )
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert results[0].outcome == Outcome.REJECTED_AUTH


def test_429_waits_until_the_rate_limit_reset(client, fake_clock):
    reset = int(fake_clock.now()) + 7
    with strict(registry=OrderedRegistry) as rsps:
        add_fields(rsps)
        rsps.put(
            f"{API}/v3/marketing/contacts",
            status=429,
            headers={"X-RateLimit-Reset": str(reset), "X-RateLimit-Remaining": "0"},
            json={"errors": [{"field": None, "message": "too many requests"}]},
        )
        rsps.put(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "j"})
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "completed"))
        (result,) = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert result.outcome is Written.WRITTEN
    assert max(fake_clock.sleeps) == pytest.approx(7, abs=0.5)


# --- resume ------------------------------------------------------------------------------------


def test_collect_job_resumes_by_polling_without_resubmitting(client):
    """What a resumed run does: the checkpointed job is polled; nothing is PUT again."""
    job = {"job_id": "job-9", "keys": [1, 2], "refused": [[3, "contacts[2].email: invalid"]]}
    records = [ContactRecord(k, "email", f"p{k}@example.com", {}) for k in (1, 2, 3)]
    with strict() as rsps:
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/job-9",
            match=[AUTH],
            json=job_status("job-9", "errored", errored_count=1, errors_url=ERRORS_URL),
        )
        rsps.get(ERRORS_URL.split("?")[0], body="email,error\np2@example.com,bad value\n")
        results = {r.key: r.outcome for r in client.collect_job(job, records)}
    assert results == {3: Outcome.REJECTED_DATA, 1: Written.WRITTEN, 2: Outcome.REJECTED_DATA}


def test_collect_job_answers_only_for_records_of_the_job(client):
    job = {"job_id": "job-9", "keys": [1], "refused": []}
    records = [ContactRecord(k, "email", f"p{k}@example.com", {}) for k in (1, 2)]
    with strict() as rsps:
        rsps.get(f"{API}/v3/marketing/contacts/imports/job-9", json=job_status("x", "completed"))
        results = client.collect_job(job, records)
    assert [(r.key, r.outcome) for r in results] == [(1, Written.WRITTEN)]


def test_poll_gives_up_after_its_timeout(client, monkeypatch):
    from integrations.platforms.errors import TransientError

    with strict() as rsps:
        rsps.get(f"{API}/v3/marketing/contacts/imports/slow", json=job_status("slow", "pending"))
        with pytest.raises(TransientError, match="still"):
            client.collect_job({"job_id": "slow", "keys": [1]}, [rec(1, "a@example.com")])


# --- errors file parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content",
    [
        b"email,error\nA@example.com,bad\n",
        b'\xef\xbb\xbfEmail,Error_Message\n"a@example.com","bad"\n',
        b'[{"email": "a@example.com", "error": "bad"}]',
        b'{"errors": [{"email": "a@example.com", "message": "bad"}]}',
    ],
    ids=["csv", "csv-bom-other-names", "json-list", "json-object"],
)
def test_parse_errors_file_shapes(content):
    assert parse_errors_file(content) == {("email", "a@example.com"): "bad"}


def test_parse_errors_file_without_identifiers_is_unreadable():
    assert parse_errors_file(b"row,problem\n3,bad\n") is None
    assert parse_errors_file(b"") is None


# --- lists, segments, counts ---------------------------------------------------------------------


def test_list_segments_follows_pages_and_reads_counts(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{API}/v3/marketing/lists",
            match=[AUTH, matchers.query_param_matcher({"page_size": "1000"})],
            json={
                "result": [{"id": "l1", "name": "Weekly", "contact_count": 12}],
                "_metadata": {"next": f"{API}/v3/marketing/lists?page_size=1000&page_token=t2"},
            },
        )
        rsps.get(
            f"{API}/v3/marketing/lists",
            match=[matchers.query_param_matcher({"page_size": "1000", "page_token": "t2"})],
            json={"result": [{"id": "l2", "name": "Daily", "contact_count": 0}], "_metadata": {}},
        )
        rsps.get(
            f"{API}/v3/marketing/segments/2.0",
            match=[AUTH],
            json={"results": [{"id": "s1", "name": "Openers", "contacts_count": 5}]},
        )
        segments = client.list_segments()
    assert segments == [
        RemoteSegment("list:l1", "Weekly", kind="list", member_count=12),
        RemoteSegment("list:l2", "Daily", kind="list", member_count=0),
        RemoteSegment("segment:s1", "Openers", kind="segment", member_count=5),
    ]


def test_segment_member_count(client):
    with strict() as rsps:
        rsps.get(
            f"{API}/v3/marketing/lists/l1/contacts/count",
            match=[AUTH],
            json={"contact_count": 12, "billable_count": 12},
        )
        rsps.get(
            f"{API}/v3/marketing/segments/2.0/s1",
            match=[AUTH],
            json={"id": "s1", "contacts_count": 5},
        )
        assert client.segment_member_count("list:l1") == 12
        assert client.segment_member_count("segment:s1") == 5


# --- delete and export ---------------------------------------------------------------------------


def test_delete_contact_finds_the_id_and_waits_for_the_job(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            match=[AUTH, matchers.json_params_matcher({"emails": ["ann@example.com"]})],
            json={
                "result": {
                    "ann@example.com": {"contact": {"id": "c-1", "email": "ann@example.com"}}
                }
            },
        )
        rsps.delete(
            f"{API}/v3/marketing/contacts",
            match=[AUTH, matchers.query_param_matcher({"ids": "c-1"})],
            status=202,
            json={"job_id": "del-1"},
        )
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/del-1",
            json={"id": "del-1", "status": "completed", "job_type": "delete", "results": {}},
        )
        client.delete_contact("Ann@example.com")


def test_delete_contact_unknown_is_a_no_op(client):
    with strict() as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            status=404,
            json={"errors": [{"message": "No contacts found"}]},
        )
        client.delete_contact("nobody@example.com")


def test_delete_job_that_fails_raises(client):
    with strict() as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            json={"result": {"a@example.com": {"contact": {"id": "c-1"}}}},
        )
        rsps.delete(f"{API}/v3/marketing/contacts", status=202, json={"job_id": "d"})
        rsps.get(f"{API}/v3/marketing/contacts/imports/d", json={"id": "d", "status": "failed"})
        with pytest.raises(ValidationFailed):
            client.delete_contact("a@example.com")


def test_request_deletion_submits_the_job_and_returns_its_id_without_waiting(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            match=[AUTH, matchers.json_params_matcher({"emails": ["ann@example.com"]})],
            json={"result": {"ann@example.com": {"contact": {"id": "c-1"}}}},
        )
        rsps.delete(
            f"{API}/v3/marketing/contacts",
            match=[AUTH, matchers.query_param_matcher({"ids": "c-1"})],
            status=202,
            json={"job_id": "del-1"},
        )
        receipt = client.request_deletion("Ann@example.com")
    assert (receipt.state, receipt.job_id) == (PrivacyState.WAITING, "del-1")


def test_request_deletion_of_an_unknown_contact_is_done_at_once(client):
    with strict() as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            status=404,
            json={"errors": [{"message": "No contacts found"}]},
        )
        receipt = client.request_deletion("nobody@example.com")
    assert (receipt.state, receipt.job_id) == (PrivacyState.DONE, "")


@pytest.mark.parametrize(
    ("status", "results", "state", "words"),
    [
        ("pending", {}, PrivacyState.WAITING, "pending"),
        ("completed", {"deleted_count": 1}, PrivacyState.DONE, "1 deleted"),
        ("failed", {}, PrivacyState.FAILED, "failed"),
    ],
)
def test_privacy_job_status_reads_the_job_once(client, status, results, state, words):
    with strict() as rsps:
        rsps.get(
            f"{API}/v3/marketing/contacts/imports/del-1",
            match=[AUTH],
            json={"id": "del-1", "status": status, "job_type": "delete", "results": results},
        )
        receipt = client.privacy_job_status("del-1")
    assert receipt.state == state and receipt.job_id == "del-1"
    assert words in receipt.detail


def test_export_contact(client):
    contact = {"id": "c-1", "email": "a@example.com", "list_ids": [LIST], "custom_fields": {}}
    with strict() as rsps:
        rsps.post(
            f"{API}/v3/marketing/contacts/search/emails",
            json={"result": {"a@example.com": {"contact": contact}}},
        )
        assert client.export_contact("a@example.com") == {"found": True, "contact": contact}


# --- the request shape against SendGrid's OpenAPI document ---------------------------------------


def _closed(schema):
    """Refuse properties the spec does not declare (except free-form objects)."""
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and schema.get("properties"):
        if "custom_fields" not in schema.get("title", "") and set(schema["properties"]) != {"w1"}:
            schema["additionalProperties"] = False
        schema["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema["items"] = _closed(schema["items"])
    return schema


@pytest.fixture(scope="module")
def upsert_schema():
    spec = json.loads((SPECS / "tsg_mc_contacts_v3.json").read_text())
    body = spec["paths"]["/v3/marketing/contacts"]["put"]["requestBody"]
    schema = copy.deepcopy(body["content"]["application/json"]["schema"])
    schema["properties"]["contacts"]["items"] = spec["components"]["schemas"]["ContactRequest"]
    # custom_fields is free-form (keyed by field id); its "w1" property is only an example.
    schema["properties"]["contacts"]["items"]["properties"]["custom_fields"] = {"type": "object"}
    return _closed(schema)


def test_the_schema_helper_catches_a_wrong_shape(upsert_schema):
    validator = jsonschema.Draft202012Validator(upsert_schema)
    assert not list(validator.iter_errors({"contacts": [{"email": "a@b.co"}]}))
    assert list(validator.iter_errors({"contacts": [{"email": "a@b.co", "interest": "x"}]}))
    assert list(validator.iter_errors({"contacts": [{"email": "a@b.co", "first_name": 5}]}))
    assert list(validator.iter_errors({"contacts": [{"first_name": "x" * 51}]}))
    assert list(validator.iter_errors({"people": []}))


def test_upsert_body_matches_the_spec(client, upsert_schema):
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        return 202, {}, json.dumps({"job_id": "j"})

    records = [
        rec(
            1, "ann@example.com", first_name="Ann", interest="growth", score=3, renewal=date.today()
        ),
        ContactRecord(2, "external_id", "crm-2", {"external_id": "crm-2", "city": "Oslo"}),
    ]
    with strict() as rsps:
        add_fields(rsps)
        rsps.add_callback("PUT", f"{API}/v3/marketing/contacts", callback=answer)
        rsps.get(f"{API}/v3/marketing/contacts/imports/j", json=job_status("j", "completed"))
        client.upsert_contacts(records, True)
    (body,) = bodies
    jsonschema.Draft202012Validator(upsert_schema).validate(body)
    assert body["contacts"][1] == {"external_id": "crm-2", "city": "Oslo"}


def test_connection_probe_cannot_write_anything(upsert_schema):
    """The write probe has no contact: the spec itself refuses it (minItems 1)."""
    validator = jsonschema.Draft202012Validator(upsert_schema)
    assert list(validator.iter_errors({"contacts": []}))


def test_job_status_answers_used_here_match_the_spec():
    spec = json.loads((SPECS / "tsg_mc_contacts_v3.json").read_text())
    schema = _closed(spec["components"]["schemas"]["ContactImport"])
    validator = jsonschema.Draft202012Validator(schema)
    validator.validate(job_status("j", "errored", errored_count=1, errors_url=ERRORS_URL))
    assert list(validator.iter_errors({"status": "done", "extra": 1}))
