"""Iterable client against strict `responses` mocks shaped like ../shared/platforms/iterable.md,
and the bulkUpdate body checked against Iterable's own Swagger document."""

from __future__ import annotations

import copy
import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.iterable import IterableClient
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField, Written
from tests.integrations.platforms.support import strict
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

US = "https://api.iterable.com"
EU = "https://api.eu.iterable.com"
KEY = "sandbox-iterable-server-key-us"
SPEC = SPECS / "iterable/api-docs.json"

AUTH = matchers.header_matcher({"Api-Key": KEY})
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})
BULK_OK = {"successCount": 0, "failCount": 0}


@pytest.fixture
def client(make_integration):
    return IterableClient(make_integration("iterable", region="us", credentials={"api_key": KEY}))


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


# --- test_connection -----------------------------------------------------------------------------


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/api/lists",
            match=[AUTH],
            json={
                "lists": [{"id": 1, "name": "A", "listType": "Standard"}, {"id": 2, "name": "B"}]
            },
        )
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher({"users": []})],
            json=BULK_OK,
        )
        report = client.test_connection()
    assert report.ok is True
    assert report.can_write is True
    assert report.region == "us"
    assert "2 lists" in report.account
    assert report.permissions["upsert_contacts"] is True


def test_connection_ok_when_the_empty_update_is_refused_as_bad_params(client):
    with strict() as rsps:
        rsps.get(f"{US}/api/lists", json={"lists": []})
        rsps.post(
            f"{US}/api/users/bulkUpdate", status=400, json={"code": "BadParams", "msg": "no users"}
        )
        report = client.test_connection()
    assert report.ok is True and report.can_write is True


def test_connection_read_only_key(client):
    with strict() as rsps:
        rsps.get(f"{US}/api/lists", match=[AUTH], json={"lists": []})
        write = rsps.post(
            f"{US}/api/users/bulkUpdate",
            status=401,
            json={"code": "BadApiKey", "msg": "Invalid API key"},
        )
        report = client.test_connection()
    assert write.call_count == 1
    assert report.ok is False
    assert report.can_write is False
    assert "read-only" in report.detail
    assert "Server-side" in report.detail
    assert report.permissions["upsert_contacts"] is False
    assert report.permissions["list_segments"] is True


def test_connection_key_of_the_other_data_center(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/api/lists",
            match=[AUTH],
            status=401,
            json={"code": "BadApiKey", "msg": "Invalid"},
        )
        rsps.get(f"{EU}/api/lists", match=[AUTH], json={"lists": []})
        report = client.test_connection()
    assert report.ok is False
    assert report.region == "eu"
    assert "European Union" in report.detail
    assert "Choose EU" in report.detail


def test_connection_eu_integration_with_a_us_key(make_integration):
    client = IterableClient(make_integration("iterable", region="eu", credentials={"api_key": KEY}))
    with strict() as rsps:
        rsps.get(f"{EU}/api/lists", status=401)
        rsps.get(f"{US}/api/lists", json={"lists": []})
        report = client.test_connection()
    assert report.ok is False and report.region == "us"
    assert "United States" in report.detail


def test_connection_bad_key_everywhere(client):
    with strict() as rsps:
        us = rsps.get(f"{US}/api/lists", status=401, json={"code": "BadApiKey", "msg": "Invalid"})
        eu = rsps.get(f"{EU}/api/lists", status=401, json={"code": "BadApiKey", "msg": "Invalid"})
        report = client.test_connection()
    assert us.call_count == eu.call_count == 1
    assert report.ok is False
    assert report.can_write is None
    assert "refused the API key" in report.detail
    assert KEY not in report.detail


# --- upsert_contacts ------------------------------------------------------------------------------


def test_upsert_body_shape_and_dates(client):
    records = [
        rec(
            1,
            "ann@example.com",
            firstName="Ann",
            signupDate=datetime(2024, 1, 1, 12, 30, 5, tzinfo=UTC),
            vip=True,
            score=3,
        ),
        rec(
            2,
            "bob@example.com",
            # Converted to UTC; naive values are taken as UTC.
            signupDate=datetime(2024, 1, 1, 2, 0, tzinfo=timezone(timedelta(hours=2))),
            lastOpen=datetime(2024, 2, 29, 23, 59, 59),
        ),
    ]
    expected = {
        "users": [
            {
                "email": "ann@example.com",
                "dataFields": {
                    "firstName": "Ann",
                    "signupDate": "2024-01-01 12:30:05",
                    "vip": True,
                    "score": 3,
                },
            },
            {
                "email": "bob@example.com",
                "dataFields": {
                    "signupDate": "2024-01-01 00:00:00",
                    "lastOpen": "2024-02-29 23:59:59",
                },
            },
        ],
        "createNewFields": True,
    }
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(expected)],
            json={"successCount": 2, "failCount": 0},
        )
        results = client.upsert_contacts(records, update_existing=True)
    assert [(r.key, r.outcome) for r in results] == [(1, Written.WRITTEN), (2, Written.WRITTEN)]
    assert client.warnings == []


def test_upsert_by_user_id(client):
    record = ContactRecord(9, "userId", "u-9", {"userId": "u-9", "email": "n@example.com"})
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            match=[
                matchers.json_params_matcher(
                    {
                        "users": [{"userId": "u-9", "dataFields": {"email": "n@example.com"}}],
                        "createNewFields": True,
                    }
                )
            ],
            json={"successCount": 1, "failCount": 0},
        )
        assert client.upsert_contacts([record], True)[0].outcome is Written.WRITTEN


def test_upsert_failure_lists_map_back_by_email_case_insensitively(client):
    emails = [
        "ok@example.com",
        "Bad-Address@Example.com",
        "gone@example.com",
        "Typed@example.com",
        "taken@example.com",
        "fine@example.com",
    ]
    records = [rec(i, e) for i, e in enumerate(emails)]
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            json={
                "successCount": 2,
                "failCount": 4,
                "invalidEmails": ["bad-address@example.com"],
                "failedUpdates": {
                    "invalidEmails": ["bad-address@example.com"],
                    "forgottenEmails": ["GONE@example.com"],
                    "invalidDataEmails": ["typed@example.com"],
                    "conflictEmails": ["taken@example.com"],
                },
            },
        )
        results = {r.key: r for r in client.upsert_contacts(records, True)}
    assert results[0].outcome is Written.WRITTEN
    assert results[5].outcome is Written.WRITTEN
    assert (results[1].outcome, results[1].code) == (Outcome.REJECTED_DATA, "InvalidEmail")
    assert (results[2].outcome, results[2].code) == (Outcome.REJECTED_COMPLIANCE, "Forgotten")
    assert (results[3].outcome, results[3].code) == (Outcome.REJECTED_DATA, "InvalidData")
    assert (results[4].outcome, results[4].code) == (Outcome.REJECTED_DATA, "Conflict")
    assert all(results[i].hint for i in (1, 2, 3, 4))


def test_the_deprecated_top_level_list_does_not_hide_the_real_reason(client):
    """The top-level `invalidEmails` is deprecated and lists every email that failed; the
    reason is in `failedUpdates` (here: GDPR-forgotten, a compliance rejection)."""
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            json={
                "successCount": 0,
                "failCount": 1,
                "invalidEmails": ["gone@example.com"],
                "failedUpdates": {"forgottenEmails": ["gone@example.com"]},
            },
        )
        (result,) = client.upsert_contacts([rec(1, "gone@example.com")], True)
    assert result.outcome == Outcome.REJECTED_COMPLIANCE
    assert result.code == "Forgotten"


def test_the_top_level_list_alone_still_rejects(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            json={"successCount": 0, "failCount": 1, "invalidEmails": ["x@example.com"]},
        )
        (result,) = client.upsert_contacts([rec(1, "X@example.com")], True)
    assert result.outcome == Outcome.REJECTED_DATA


def test_user_id_failure_lists(client):
    records = [
        ContactRecord(1, "userId", "u1", {"userId": "u1"}),
        ContactRecord(2, "userId", "u2", {"userId": "u2"}),
    ]
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            json={
                "successCount": 0,
                "failCount": 2,
                "failedUpdates": {"forgottenUserIds": ["u1"], "invalidUserIds": ["u2"]},
            },
        )
        results = {r.key: r.outcome for r in client.upsert_contacts(records, True)}
    assert results == {1: Outcome.REJECTED_COMPLIANCE, 2: Outcome.REJECTED_DATA}


def test_filtered_out_fields_become_warnings(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/api/users/bulkUpdate",
            json={"successCount": 1, "failCount": 0, "filteredOutFields": ["zeta", "alpha"]},
        )
        results = client.upsert_contacts([rec(1, "a@example.com", alpha=1, zeta=2)], True)
    assert results[0].outcome is Written.WRITTEN
    assert client.warnings == ["Iterable dropped fields it does not know: alpha, zeta."]


def test_upsert_splits_by_bytes(client, monkeypatch):
    monkeypatch.setattr(
        IterableClient, "limits", dataclasses.replace(IterableClient.limits, batch_max_bytes=1_000)
    )
    records = [rec(i, f"p{i}@example.com", bio="x" * 200) for i in range(10)]
    bodies = []

    def answer(request):
        bodies.append(request.body)
        return 200, {}, json.dumps({"successCount": 1, "failCount": 0})

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/api/users/bulkUpdate", callback=answer)
        results = client.upsert_contacts(records, True)
    assert len(bodies) > 1
    sent = []
    for body in bodies:
        assert len(body) <= 1_000
        data = json.loads(body)
        assert data["createNewFields"] is True
        sent += [u["email"] for u in data["users"]]
    assert sent == [f"p{i}@example.com" for i in range(10)]
    assert [r.key for r in results] == list(range(10))


def test_upsert_401_rejects_all_and_stops(client, monkeypatch):
    monkeypatch.setattr(
        IterableClient, "limits", dataclasses.replace(IterableClient.limits, batch_max_records=1)
    )
    with strict() as rsps:
        only = rsps.post(
            f"{US}/api/users/bulkUpdate", status=401, json={"code": "BadApiKey", "msg": "Invalid"}
        )
        results = client.upsert_contacts([rec(1, "a@example.com"), rec(2, "b@example.com")], True)
    assert only.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 2
    assert results[0].code == "BadApiKey"


def test_upsert_uses_the_bulk_update_rate(client, fake_clock):
    with strict() as rsps:
        rsps.post(f"{US}/api/users/bulkUpdate", json={"successCount": 1, "failCount": 0})
        for i in range(3):
            client.upsert_contacts([rec(i, f"p{i}@example.com")], True)
    # 5 requests/second: 0.2 s between calls.
    assert fake_clock.sleeps == [pytest.approx(0.2)] * 2


# --- fields and lists -----------------------------------------------------------------------------


def test_list_fields_maps_get_fields_types(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/api/users/getFields",
            match=[AUTH],
            json={
                "fields": {
                    "email": "string",
                    "signupDate": "date",
                    "age": "long",
                    "score": "double",
                    "vip": "boolean",
                    "profile": "object",
                }
            },
        )
        fields = client.list_fields()
    assert fields == [
        TargetField("age", "age", "number"),
        TargetField("email", "email", "string"),
        TargetField("profile", "profile", "object"),
        TargetField("score", "score", "number"),
        TargetField("signupDate", "signupDate", "date"),
        TargetField("vip", "vip", "boolean"),
    ]


def test_list_segments(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/api/lists",
            match=[AUTH],
            json={
                "lists": [
                    {
                        "id": 12,
                        "name": "Weekly",
                        "listType": "Standard",
                        "createdAt": 1704067200000,
                    },
                    {"id": 13, "name": "Churned", "listType": "Dynamic"},
                ]
            },
        )
        segments = client.list_segments()
    assert segments == [
        RemoteSegment("12", "Weekly", kind="Standard"),
        RemoteSegment("13", "Churned", kind="Dynamic"),
    ]


@pytest.mark.parametrize("body", ["42", "42\n", '"42"'])
def test_list_size_is_a_text_body(client, body):
    with strict() as rsps:
        rsps.get(f"{US}/api/lists/12/size", match=[AUTH], body=body, content_type="text/plain")
        assert client.segment_member_count("12") == 42


def test_list_size_rate_is_five_a_minute(client, fake_clock):
    with strict() as rsps:
        rsps.get(f"{US}/api/lists/12/size", body="1")
        client.segment_member_count("12")
        client.segment_member_count("12")
    assert fake_clock.sleeps == [pytest.approx(12.0)]


def test_list_size_max_wait(client):
    from integrations.platforms.errors import RateLimited

    with strict() as rsps:
        size = rsps.get(f"{US}/api/lists/12/size", body="1")
        client.segment_member_count("12")
        with pytest.raises(RateLimited) as refused:
            client.segment_member_count("12", max_wait=1)
    assert refused.value.retry_after == pytest.approx(12, abs=0.5)  # 5 a minute
    assert size.call_count == 1


def test_list_members_are_one_text_of_emails(client, fake_clock):
    with strict() as rsps:
        rsps.get(
            f"{US}/api/lists/getUsers",
            match=[AUTH, matchers.query_param_matcher({"listId": "12"})],
            body="a@example.com\r\nB@Example.com\n\nnot-an-email\n",
            content_type="text/plain",
        )
        page = client.segment_members("12", None)
        assert page.members == [("a@example.com", ""), ("B@Example.com", "")]
        assert page.next_cursor is None  # the whole list in one answer
        client.segment_members("12", None)
    assert fake_clock.sleeps == [pytest.approx(12.0)]  # 5 a minute


# --- the request shape against Iterable's Swagger document ---------------------------------------


def _resolve(node, definitions, seen=()):
    """Inline "#/definitions/..." references (Swagger 2.0) so the schema stands alone."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            assert name not in seen, f"recursive definition {name}"
            return _resolve(definitions[name], definitions, (*seen, name))
        return {k: _resolve(v, definitions, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, definitions, seen) for v in node]
    return node


def _closed(schema):
    """The same schema, refusing properties it does not declare (except free-form objects):
    the spec leaves objects open, which would let a misspelt key through."""
    schema = copy.deepcopy(schema)
    if schema.get("type") == "object" and schema.get("properties"):
        schema["additionalProperties"] = False
        schema["properties"] = {k: _closed(v) for k, v in schema["properties"].items()}
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        schema["items"] = _closed(schema["items"])
    return schema


@pytest.fixture(scope="module")
def bulk_update_schema():
    spec = json.loads(SPEC.read_text())
    operation = spec["paths"]["/api/users/bulkUpdate"]["post"]
    (body,) = [p for p in operation["parameters"] if p["in"] == "body"]
    assert body["schema"] == {"$ref": "#/definitions/BulkUpdateUsersRequest"}
    return _closed(_resolve(body["schema"], spec["definitions"]))


def test_the_schema_helper_catches_a_wrong_shape(bulk_update_schema):
    validator = jsonschema.Draft4Validator(bulk_update_schema)
    assert not list(validator.iter_errors({"users": [{"email": "a@b.c", "dataFields": {}}]}))
    assert list(validator.iter_errors({"users": [{"email": "a@b.c", "fields": {}}]}))
    assert list(validator.iter_errors({"users": [{"email": 5}]}))
    assert list(validator.iter_errors({"people": []}))
    assert list(validator.iter_errors({"users": [], "createNewFields": "yes"}))


def test_bulk_update_body_matches_the_spec(client, bulk_update_schema):
    records = [
        rec(1, "ann@example.com", firstName="Ann", signupDate=datetime(2024, 1, 1), tags=["a"]),
        ContactRecord(2, "userId", "u-2", {"userId": "u-2", "score": 1.5, "nested": {"x": 1}}),
    ]
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        return 200, {}, json.dumps({"successCount": 2, "failCount": 0})

    with strict() as rsps:
        rsps.add_callback("POST", f"{US}/api/users/bulkUpdate", callback=answer)
        client.upsert_contacts(records, True)
    (body,) = bodies
    jsonschema.Draft4Validator(bulk_update_schema).validate(body)
    for user in body["users"]:
        # "Provide an email or a userId (but not both)".
        assert ("email" in user) != ("userId" in user)


def test_connection_probe_body_matches_the_spec(client, bulk_update_schema):
    bodies = []

    def answer(request):
        bodies.append(json.loads(request.body))
        return 200, {}, json.dumps(BULK_OK)

    with strict() as rsps:
        rsps.get(f"{US}/api/lists", json={"lists": []})
        rsps.add_callback("POST", f"{US}/api/users/bulkUpdate", callback=answer)
        client.test_connection()
    (body,) = bodies
    jsonschema.Draft4Validator(bulk_update_schema).validate(body)


def test_responses_used_here_match_the_spec():
    """The bulkUpdate answers these tests feed the client are shaped like the spec's response."""
    spec = json.loads(SPEC.read_text())
    schema = _closed(
        _resolve({"$ref": "#/definitions/UserBulkUpdateListResponse"}, spec["definitions"])
    )
    validator = jsonschema.Draft4Validator(schema)
    validator.validate(
        {
            "successCount": 2,
            "failCount": 4,
            "invalidEmails": ["bad-address@example.com"],
            "filteredOutFields": ["zeta"],
            "failedUpdates": {
                "invalidEmails": ["bad-address@example.com"],
                "forgottenEmails": ["GONE@example.com"],
                "invalidDataEmails": ["typed@example.com"],
                "conflictEmails": ["taken@example.com"],
            },
        }
    )
    assert list(validator.iter_errors({"successCount": 1}))  # failCount is required


# --- privacy: export and delete one user -----------------------------------------------------------


def test_export_contact_by_email(client):
    user = {"email": "ann@example.com", "dataFields": {"firstName": "Ann"}}
    with strict() as rsps:
        rsps.get(
            f"{US}/api/users/getByEmail",
            match=[AUTH, matchers.query_param_matcher({"email": "ann@example.com"})],
            json={"user": user},
        )
        assert client.export_contact("ann@example.com") == {"found": True, "user": user}


def test_export_contact_unknown_user_is_not_found(client):
    with strict() as rsps:
        rsps.get(f"{US}/api/users/getByEmail", json={})  # UserResponse's user is optional
        assert client.export_contact("nobody@example.com") == {"found": False, "user": {}}


def test_export_contact_by_user_id(client):
    with strict() as rsps:
        rsps.get(f"{US}/api/users/byUserId/u%2F7", match=[AUTH], json={"user": {"userId": "u/7"}})
        assert client.export_contact("u/7")["user"] == {"userId": "u/7"}


def test_delete_contact_by_email_and_by_user_id(client):
    ok = {"code": "Success", "msg": "", "params": None}
    with strict(registry=OrderedRegistry) as rsps:
        rsps.delete(f"{US}/api/users/ann@example.com", match=[AUTH], json=ok)
        rsps.delete(f"{US}/api/users/byUserId/u%2F7", match=[AUTH], json=ok)
        client.delete_contact("ann@example.com")
        client.delete_contact("u/7")


def test_delete_paths_are_in_the_spec():
    spec = json.loads(SPEC.read_text())
    assert "delete" in spec["paths"]["/api/users/{email}"]
    assert "delete" in spec["paths"]["/api/users/byUserId/{userId}"]
    assert "get" in spec["paths"]["/api/users/getByEmail"]
