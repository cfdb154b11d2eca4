"""Mailchimp client against strict `responses` mocks shaped like ../shared/platforms/mailchimp.md.

No machine-readable spec was available locally (shared/specs/mailchimp/SOURCE.md), so request
shapes are checked against the fact sheet: Basic auth with the key as password, batch subscribe
`{"members": [...], "update_existing": …, "sync_tags": false}` at most 500 members a call.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import responses
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import ConfigurationError
from integrations.platforms.mailchimp import MailchimpClient, key_data_centre, subscriber_hash
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

KEY = "0123456789abcdef0123456789abcdef-us6"
LIST = "a1b2c3d4e5"
US6 = "https://us6.api.mailchimp.com/3.0"
US21 = "https://us21.api.mailchimp.com/3.0"
AUTH = matchers.header_matcher(
    {"Authorization": "Basic " + base64.b64encode(f"sharpsend:{KEY}".encode()).decode()}
)
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
ROOT = {"account_id": "8d3a", "account_name": "Acme Letters", "email": "o@x.com", "role": "owner"}
AUDIENCE = {"id": LIST, "name": "Newsletter", "stats": {"member_count": 1200}}
MERGE_FIELDS = {
    "merge_fields": [
        {"merge_id": 1, "tag": "FNAME", "name": "First Name", "type": "text", "required": False},
        {"merge_id": 2, "tag": "LNAME", "name": "Last Name", "type": "text", "required": False},
        {"merge_id": 3, "tag": "JOINED", "name": "Joined", "type": "date", "required": True},
        {"merge_id": 4, "tag": "BDAY", "name": "Birthday", "type": "birthday", "required": False},
        {"merge_id": 5, "tag": "SCORE", "name": "Score", "type": "number", "required": False},
    ],
    "total_items": 5,
}
PROBLEM = "application/problem+json"


def problem(status, title, detail, **extra):
    return {"type": "https://mailchimp.com/x", "title": title, "status": status, "detail": detail,
            "instance": "c0ffee", **extra}  # fmt: skip


def batch_result(new=(), updated=(), errors=()):
    return {
        "new_members": [{"email_address": e, "status": "subscribed"} for e in new],
        "updated_members": [{"email_address": e, "status": "subscribed"} for e in updated],
        "errors": list(errors),
        "total_created": len(new),
        "total_updated": len(updated),
        "error_count": len(errors),
    }


def make_client(make_integration, region="auto", key=KEY, **fields):
    integration = make_integration(
        "mailchimp", region=region, credentials={"api_key": key, "list_id": LIST}, **fields
    )
    return MailchimpClient(integration)


@pytest.fixture
def client(make_integration):
    c = make_client(make_integration)
    c._merge_types = {m["tag"]: m["type"] for m in MERGE_FIELDS["merge_fields"]}
    return c


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def member_body(call) -> dict:
    return json.loads(call.request.body)


# --- data centres ----------------------------------------------------------------------------


def test_data_centre_comes_from_the_key_suffix(make_integration):
    assert key_data_centre(KEY) == "us6"
    assert key_data_centre("abc-US21") == "us21"
    assert key_data_centre("no-suffix-here!") == ""
    assert key_data_centre("plainkey") == ""
    assert make_client(make_integration).base_url("api") == "https://us6.api.mailchimp.com"
    other = make_client(make_integration, key="k-us30", name="x2")
    assert other.base_url("api") == "https://us30.api.mailchimp.com"
    chosen = make_client(make_integration, region="us21", name="x3")
    assert chosen.base_url("api") == "https://us21.api.mailchimp.com"


def test_base_url_overrides(make_integration, settings):
    settings.SANDBOX_ENABLED = True
    sandbox = make_client(
        make_integration, base_url="http://127.0.0.1:8000/sandbox/mailchimp", name="s"
    )
    assert (
        sandbox.base_url("api") == "http://127.0.0.1:8000/sandbox/mailchimp/us6.api.mailchimp.com"
    )
    proxy = make_client(make_integration, base_url="https://us6.api.mailchimp.com/", name="p")
    assert proxy.base_url("api") == "https://us6.api.mailchimp.com"
    MailchimpClient.check_base_url("https://us44.api.mailchimp.com")
    MailchimpClient.check_base_url("https://api.mailchimp.com")
    for bad in ("http://us6.api.mailchimp.com", "https://us6.api.mailchimp.com.evil.io",
                "https://login.mailchimp.com"):  # fmt: skip
        with pytest.raises(ConfigurationError):
            MailchimpClient.check_base_url(bad)


def test_subscriber_hash_is_md5_of_the_lower_cased_address():
    assert subscriber_hash(" Ann@Example.COM ") == hashlib.md5(b"ann@example.com").hexdigest()


# --- test_connection -------------------------------------------------------------------------


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US6}/",
            match=[
                AUTH,
                matchers.query_param_matcher({"fields": "account_id,account_name,email,role"}),
            ],
            json=ROOT,
        )
        rsps.get(
            f"{US6}/lists/{LIST}",
            match=[AUTH, matchers.query_param_matcher({"fields": "id,name,stats.member_count"})],
            json=AUDIENCE,
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True
    assert report.account == "Acme Letters"
    assert report.region == "us6"
    assert "Newsletter" in report.detail and "1200 members" in report.detail
    assert report.permissions["upsert_contacts"] is True
    assert report.permissions["delete_contact"] is True


@pytest.mark.parametrize("role", ["viewer", "author"])
def test_connection_user_role_that_cannot_write(client, role):
    with strict() as rsps:
        rsps.get(f"{US6}/", json={**ROOT, "role": role})
        rsps.get(f"{US6}/lists/{LIST}", json=AUDIENCE)
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert f"the {role} role" in report.detail
    assert "Manager, Admin or Owner" in report.detail
    assert report.permissions["upsert_contacts"] is False
    assert report.permissions["suppress_contact"] is False  # a member write too
    assert report.permissions["list_segments"] is True


def test_connection_bad_key(client):
    with strict() as rsps:
        call = rsps.get(
            f"{US6}/",
            status=401,
            content_type=PROBLEM,
            json=problem(
                401,
                "API Key Invalid",
                "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
            ),  # fmt: skip
        )
        report = client.test_connection()
    assert call.call_count == 1  # a refused key is not retried
    assert report.ok is False and report.can_write is None
    assert "refused the API key on data centre us6" in report.detail
    assert KEY not in report.detail


def test_connection_key_of_another_data_centre(make_integration):
    client = make_client(make_integration, region="us21")
    with strict() as rsps:  # no request: the key names its data centre
        report = client.test_connection()
        assert len(rsps.calls) == 0
    assert report.ok is False
    assert report.region == "us6"
    assert "data centre us6" in report.detail and "set to us21" in report.detail
    assert "Choose us6" in report.detail


def test_connection_key_without_suffix(make_integration):
    client = make_client(make_integration, key="0123456789abcdef")
    report = client.test_connection()
    assert report.ok is False
    assert "no data-centre ending" in report.detail


def test_connection_unknown_audience(client):
    with strict() as rsps:
        rsps.get(f"{US6}/", json=ROOT)
        rsps.get(
            f"{US6}/lists/{LIST}",
            status=404,
            json=problem(404, "Resource Not Found", "The requested resource could not be found."),
        )
        report = client.test_connection()
    assert report.ok is False
    assert f"no audience with the ID '{LIST}'" in report.detail
    assert "Audience name and defaults" in report.detail


# --- list_fields -----------------------------------------------------------------------------


def test_list_fields(make_integration):
    client = make_client(make_integration)
    with strict() as rsps:
        rsps.get(
            f"{US6}/lists/{LIST}/merge-fields",
            match=[AUTH, matchers.query_param_matcher({"count": "1000"})],
            json=MERGE_FIELDS,
        )
        fields = client.list_fields()
    assert fields[:3] == [
        TargetField("email", "Email address", "email", required=True),
        TargetField("status", "Subscription status (subscribed / unsubscribed)", "string"),
        TargetField("timestamp_signup", "Signup time", "date"),
    ]
    assert fields[3:] == [
        TargetField("FNAME", "First Name", "string"),
        TargetField("LNAME", "Last Name", "string"),
        TargetField("JOINED", "Joined", "date", required=True),
        TargetField("BDAY", "Birthday", "date"),
        TargetField("SCORE", "Score", "number"),
    ]
    assert client._merge_types["BDAY"] == "birthday"


# --- upsert_contacts -------------------------------------------------------------------------


def test_upsert_body_shape_statuses_and_dates(client):
    records = [
        rec(1, "ann@example.com", FNAME="Ann", status="subscribed", SCORE=3,
            JOINED=datetime(2024, 1, 1, 23, 30, tzinfo=timezone(timedelta(hours=-2))),
            BDAY=date(1990, 12, 10),
            timestamp_signup=datetime(2024, 1, 1, 12, 30, 5, tzinfo=UTC)),
        rec(2, "bob@example.com", status="unsubscribed"),
        rec(3, "cy@example.com", LNAME="Cy", status="bounced"),
        rec(4, "dee@example.com"),
    ]  # fmt: skip
    expected = {
        "members": [
            {
                "email_address": "ann@example.com",
                "status_if_new": "subscribed",
                "timestamp_signup": "2024-01-01 12:30:05",
                # A date merge field takes the UTC day; a birthday month/day.
                "merge_fields": {
                    "FNAME": "Ann",
                    "SCORE": 3,
                    "JOINED": "2024-01-02",
                    "BDAY": "12/10",
                },  # fmt: skip
            },
            {"email_address": "bob@example.com", "status": "unsubscribed"},
            {
                "email_address": "cy@example.com",
                "status": "unsubscribed",
                "merge_fields": {"LNAME": "Cy"},
            },
            {"email_address": "dee@example.com", "status_if_new": "subscribed"},
        ],
        "update_existing": True,
        "sync_tags": False,
    }
    with strict() as rsps:
        rsps.post(
            f"{US6}/lists/{LIST}",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(expected)],
            json=batch_result(
                new=["ann@example.com", "dee@example.com"],
                updated=["bob@example.com", "cy@example.com"],
            ),
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [
        (1, Outcome.CREATED),
        (2, Outcome.UPDATED),
        (3, Outcome.UPDATED),
        (4, Outcome.CREATED),
    ]


def test_upsert_fetches_merge_field_types_once_when_not_listed(make_integration):
    client = make_client(make_integration)
    with strict(registry=OrderedRegistry) as rsps:
        fields = rsps.get(f"{US6}/lists/{LIST}/merge-fields", json=MERGE_FIELDS)
        batch = rsps.post(f"{US6}/lists/{LIST}", json=batch_result(new=["a@example.com"]))
        client.upsert_contacts([rec(1, "a@example.com", JOINED=date(2024, 5, 6))], True)
        rsps.post(f"{US6}/lists/{LIST}", json=batch_result(new=["b@example.com"]))
        client.upsert_contacts([rec(2, "b@example.com")], True)
    assert fields.call_count == 1
    assert member_body(batch.calls[0])["members"][0]["merge_fields"] == {"JOINED": "2024-05-06"}


def test_upsert_batches_of_500(client):
    records = [rec(i, f"r{i}@example.com") for i in range(1203)]
    sizes = []

    def answer(request):
        members = json.loads(request.body)["members"]
        sizes.append(len(members))
        return 200, {}, json.dumps(batch_result(new=[m["email_address"] for m in members]))

    with strict() as rsps:
        rsps.add_callback(responses.POST, f"{US6}/lists/{LIST}", callback=answer)
        results = client.upsert_contacts(records, True)
    assert sizes == [500, 500, 203]
    assert len(results) == 1203
    assert {r.outcome for r in results} == {Outcome.CREATED}


def test_upsert_keep_existing_uses_the_native_flag(client):
    assert MailchimpClient.keeps_existing_natively is True
    with strict() as rsps:
        rsps.post(
            f"{US6}/lists/{LIST}",
            match=[
                matchers.json_params_matcher(
                    {
                        "members": [
                            {"email_address": "old@example.com", "status_if_new": "subscribed"},
                            {"email_address": "new@example.com", "status_if_new": "subscribed"},
                        ],
                        "update_existing": False,
                        "sync_tags": False,
                    }
                )
            ],  # fmt: skip
            json=batch_result(
                new=["new@example.com"],
                errors=[
                    {
                        "email_address": "old@example.com",
                        "error_code": "ERROR_CONTACT_EXISTS",
                        "error": "old@example.com is already a list member. Use PUT to insert "
                        "or update list members.",
                        "field": "",
                        "field_message": "",
                    }
                ],
            ),  # fmt: skip
        )
        results = client.upsert_contacts(
            [rec(1, "old@example.com"), rec(2, "new@example.com")], update_existing=False
        )
    assert (results[0].outcome, results[0].code) == (Outcome.UNCHANGED, "ERROR_CONTACT_EXISTS")
    assert "kept as it is" in results[0].hint
    assert results[1].outcome is Outcome.CREATED


def test_upsert_per_member_errors_map_to_outcomes(client):
    emails = ["ok@example.com", "Gone@Example.com", "left@example.com", "fake@example.com",
              "typed@example.com", "deleted@example.com", "lost@example.com", "dup@example.com"]  # fmt: skip
    errors = [
        {"email_address": "gone@example.com", "error_code": "ERROR_GENERIC",
         "error": "gone@example.com is in a compliance state due to unsubscribe, bounce, or "
         "compliance review and cannot be subscribed."},
        {"email_address": "left@example.com", "error_code": "ERROR_GENERIC",
         "error": "Forgotten Email Not Subscribed"},
        {"email_address": "fake@example.com", "error_code": "ERROR_GENERIC",
         "error": "fake@example.com looks fake or invalid, please enter a real email address.",
         "field": "email_address", "field_message": "Please provide a valid email address."},
        {"email_address": "typed@example.com", "error_code": "ERROR_GENERIC",
         "error": "Your merge fields were invalid.", "field": "JOINED",
         "field_message": "Please enter the date"},
        {"email_address": "deleted@example.com", "error_code": "ERROR_GENERIC",
         "error": "deleted@example.com was permanently deleted and cannot be re-imported."},
        {"email_address": "dup@example.com", "error_code": "ERROR_CONTACT_EXISTS",
         "error": "dup@example.com is already a list member."},
    ]  # fmt: skip
    with strict() as rsps:
        rsps.post(
            f"{US6}/lists/{LIST}",
            json=batch_result(new=["ok@example.com"], errors=errors),
        )
        results = {r.key: r for r in client.upsert_contacts(
            [rec(i, e) for i, e in enumerate(emails)], update_existing=True)}  # fmt: skip
    assert results[0].outcome is Outcome.CREATED
    for key in (1, 2, 5):
        assert results[key].outcome is Outcome.REJECTED_COMPLIANCE, key
        assert results[key].code == "ERROR_GENERIC"
        assert "signup form" in results[key].hint
    assert results[3].outcome is Outcome.REJECTED_DATA
    assert "email address" in results[3].hint
    assert results[4].outcome is Outcome.REJECTED_DATA
    assert "JOINED: Please enter the date" in results[4].message
    assert "merge field JOINED" in results[4].hint
    # Not mentioned anywhere: not known to be written.
    assert (results[6].outcome, results[6].code) == (Outcome.UNKNOWN, "not_reported")
    # "Exists" while updating is not a keep-existing answer.
    assert (results[7].outcome, results[7].code) == (Outcome.REJECTED_DATA, "ERROR_CONTACT_EXISTS")


def test_upsert_whole_batch_refused(client):
    with strict() as rsps:
        call = rsps.post(
            f"{US6}/lists/{LIST}",
            status=400,
            content_type=PROBLEM,
            json=problem(
                400,
                "Invalid Resource",
                "The resource submitted could not be validated.",
                errors=[{"field": "members", "message": "Too many"}],
            ),  # fmt: skip
        )
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert call.call_count == 1
    assert results[0].outcome is Outcome.REJECTED_DATA
    assert results[0].code == "Invalid Resource"
    assert "members: Too many" in results[0].message


def test_upsert_forbidden_stops_and_says_so(client):
    records = [rec(i, f"r{i}@example.com") for i in range(600)]
    with strict() as rsps:
        call = rsps.post(
            f"{US6}/lists/{LIST}",
            status=403,
            json=problem(403, "Forbidden", "You don't have permission."),
        )
        results = client.upsert_contacts(records, True)
    assert call.call_count == 1  # the second batch is not sent
    assert {r.outcome for r in results} == {Outcome.REJECTED_AUTH}
    assert len(results) == 600


def test_upsert_429_without_body_is_retried(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{US6}/lists/{LIST}", status=429, body="")
        rsps.post(f"{US6}/lists/{LIST}", json=batch_result(new=["a@example.com"]))
        results = client.upsert_contacts([rec(1, "a@example.com")], True)
    assert results[0].outcome is Outcome.CREATED
    assert fake_clock.sleeps  # backed off before the retry


def test_oversized_member_is_rejected_locally(client):
    with strict() as rsps:
        rsps.post(f"{US6}/lists/{LIST}", json=batch_result(new=["a@example.com"]))
        results = client.upsert_contacts(
            [rec(1, "a@example.com"), rec(2, "big@example.com", FNAME="x" * 70_000)], True
        )
    by_key = {r.key: r for r in results}
    assert by_key[1].outcome is Outcome.CREATED
    assert (by_key[2].outcome, by_key[2].code) == (Outcome.REJECTED_DATA, "entry_too_large")


# --- segments --------------------------------------------------------------------------------


def test_list_segments_pages_and_counts(client):
    first = [
        {"id": i, "name": f"S{i}", "member_count": i * 10, "type": "saved"} for i in range(1000)
    ]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US6}/lists/{LIST}/segments",
            match=[AUTH, matchers.query_param_matcher({"count": "1000", "offset": "0"})],
            json={"segments": first, "total_items": 1001},
        )
        rsps.get(
            f"{US6}/lists/{LIST}/segments",
            match=[matchers.query_param_matcher({"count": "1000", "offset": "1000"})],
            json={
                "segments": [{"id": 77, "name": "paid", "member_count": 4, "type": "static"}],
                "total_items": 1001,
            },  # fmt: skip
        )
        segments = client.list_segments()
    assert len(segments) == 1001
    assert segments[1] == RemoteSegment("1", "S1", kind="saved", member_count=10)
    assert segments[-1] == RemoteSegment("77", "paid", kind="static", member_count=4)


def test_segment_member_count(client):
    with strict() as rsps:
        rsps.get(
            f"{US6}/lists/{LIST}/segments/42",
            match=[AUTH, matchers.query_param_matcher({"fields": "id,member_count"})],
            json={"id": 42, "member_count": 17},
        )
        assert client.segment_member_count("42") == 17


# --- privacy ---------------------------------------------------------------------------------


def test_delete_contact_is_permanent(client):
    digest = subscriber_hash("Ann@Example.com")
    with strict() as rsps:
        call = rsps.post(
            f"{US6}/lists/{LIST}/members/{digest}/actions/delete-permanent",
            match=[AUTH],
            status=204,
        )
        client.delete_contact("Ann@Example.com")
        rsps.post(
            f"{US6}/lists/{LIST}/members/{subscriber_hash('x@example.com')}/actions/delete-permanent",
            status=404,
            json=problem(404, "Resource Not Found", "Not found."),
        )
        client.delete_contact("x@example.com")  # already gone: nothing to do
    assert call.call_count == 1


def test_export_contact(client):
    base = f"{US6}/lists/{LIST}/members/{subscriber_hash('ann@example.com')}"
    member = {"id": "x", "email_address": "ann@example.com", "status": "subscribed"}
    with strict() as rsps:
        rsps.get(base, match=[AUTH], json=member)
        rsps.get(f"{base}/tags", match=[matchers.query_param_matcher({"count": "1000"})],
                 json={"tags": [{"id": 1, "name": "paid"}], "total_items": 1})  # fmt: skip
        rsps.get(f"{base}/events", match=[matchers.query_param_matcher({"count": "1000"})],
                 json={"events": [{"name": "read"}], "total_items": 1})  # fmt: skip
        exported = client.export_contact("ann@example.com")
    assert exported == {"member": member, "tags": [{"id": 1, "name": "paid"}],
                        "events": [{"name": "read"}]}  # fmt: skip


def test_export_unknown_contact(client):
    with strict() as rsps:
        rsps.get(f"{US6}/lists/{LIST}/members/{subscriber_hash('no@example.com')}", status=404,
                 json=problem(404, "Resource Not Found", "Not found."))  # fmt: skip
        assert client.export_contact("no@example.com") == {}


def test_us21_key_goes_to_us21(make_integration):
    key = "fedcba9876543210fedcba9876543210-us21"
    client = make_client(make_integration, key=key)
    with strict() as rsps:
        rsps.get(f"{US21}/lists/{LIST}/segments/1", json={"id": 1, "member_count": 0})
        assert client.segment_member_count("1") == 0


def test_entry_for_is_the_member_sent(client):
    record = rec(1, "ann@example.com", FNAME="Ann", JOINED=date(2024, 5, 6), status="cleaned")
    assert client.entry_for(record) == {
        "email_address": "ann@example.com",
        "status": "unsubscribed",
        "merge_fields": {"FNAME": "Ann", "JOINED": "2024-05-06"},
    }


def test_entry_for_without_reachable_merge_fields(make_integration):
    client = make_client(make_integration)
    with strict() as rsps:
        rsps.get(f"{US6}/lists/{LIST}/merge-fields", status=401,
                 json=problem(401, "API Key Invalid", "Invalid."))  # fmt: skip
        entry = client.entry_for(rec(1, "a@example.com", JOINED=datetime(2024, 5, 6, 7, 8, 9)))
        client.entry_for(rec(2, "b@example.com"))  # not asked again
    assert entry["merge_fields"] == {"JOINED": "2024-05-06 07:08:09"}
