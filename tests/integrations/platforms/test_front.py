"""Front client against strict `responses` mocks shaped like ../shared/platforms/front.md, with
request bodies checked against Front's own OpenAPI document (core-api.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import RateLimited
from integrations.platforms.front import FrontClient
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

API = "https://api2.frontapp.com"
TOKEN = "test-front-token-not-real"
SPEC = SPECS / "front/core-api.json"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {TOKEN}"})
ANN = f"{API}/contacts/alt:email:ann%40example.com"


@pytest.fixture
def client(make_integration):
    return FrontClient(make_integration("front", credentials={"api_token": TOKEN}))


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def contact(email="ann@example.com", **extra):
    return {
        "id": "crd_1",
        "name": "",
        "handles": [{"handle": email, "source": "email"}],
        "custom_fields": {},
        **extra,
    }


def not_found():
    return {"status": 404, "json": {"_error": {"status": 404, "title": "Not found"}}}


# --- the spec ------------------------------------------------------------------------------------


def _resolve(node, components, seen=()):
    if isinstance(node, dict):
        ref = node.get("$ref")
        if ref:
            name = ref.rsplit("/", 1)[-1]
            assert name not in seen
            return _resolve(components[name], components, (*seen, name))
        return {k: _resolve(v, components, seen) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve(v, components, seen) for v in node]
    return node


@pytest.fixture(scope="module")
def spec_body():
    spec = json.loads(SPEC.read_text())
    components = spec["components"]["schemas"]

    def schema(path: str, method: str) -> dict:
        body = spec["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        return _resolve(body, components)

    return schema


def declared(schema: dict) -> set[str]:
    names = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        names |= declared(part)
    return names


def check(schema: dict, body: dict) -> None:
    jsonschema.Draft7Validator(schema).validate(body)
    # The spec leaves objects open; a misspelt property must still fail here.
    assert set(body) <= declared(schema), set(body) - declared(schema)


def test_the_spec_helper_catches_wrong_shapes(spec_body):
    create = spec_body("/contacts", "post")
    check(create, {"handles": [{"source": "email", "handle": "a@b.c"}]})
    with pytest.raises(jsonschema.ValidationError):
        check(create, {"name": "no handles"})
    with pytest.raises(jsonschema.ValidationError):
        check(create, {"handles": [{"source": "mail", "handle": "a@b.c"}]})
    with pytest.raises(AssertionError):
        check(create, {"handles": [{"source": "email", "handle": "a@b.c"}], "nmae": "x"})


# --- test_connection -----------------------------------------------------------------------------


def probe(rsps, status=404):
    return rsps.patch(
        f"{API}/contacts/alt:email:connection-check%40sharpsend.invalid",
        match=[AUTH, matchers.json_params_matcher({})],
        status=status,
        json={"_error": {"status": status}},
    )


def test_connection_ok(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{API}/me", match=[AUTH], json={"id": "cmp_k30", "name": "Dunder Mifflin"})
        rsps.get(f"{API}/contact_lists", match=[AUTH], json={"_results": []})
        rsps.get(f"{API}/contacts/custom_fields", match=[AUTH], json={"_results": []})
        probe(rsps)
        report = client.test_connection()
    assert report.ok and report.can_write
    assert report.account == "Dunder Mifflin"
    assert report.permissions["upsert_contacts"] is True
    assert "API token" in report.detail and "50 a minute" in report.detail


def test_connection_bad_token(client):
    with strict() as rsps:
        rsps.get(f"{API}/me", status=401, json={"_error": {"status": 401}})
        report = client.test_connection()
    assert report.ok is False and report.can_write is None
    assert "refused the API token" in report.detail
    assert TOKEN not in report.detail


def test_connection_token_without_write_scope(client):
    with strict() as rsps:
        rsps.get(f"{API}/me", json={"id": "cmp_k30", "name": "Dunder Mifflin"})
        rsps.get(f"{API}/contact_lists", json={"_results": []})
        rsps.get(
            f"{API}/contacts/custom_fields",
            status=403,
            json={"_error": {"status": 403, "message": "Token lacks custom_fields:read"}},
        )
        probe(rsps, status=403)
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "custom_fields:read" in report.detail and "contacts:write" in report.detail
    assert report.permissions == {
        "list_segments": True,
        "list_fields": False,
        "upsert_contacts": False,
        "delete_contact": None,
        "export_contact": True,
    }


def test_oauth_connection_uses_the_access_token_and_its_bucket(make_integration):
    integration = make_integration("front", credentials={})
    oauth.save_connection(
        integration,
        {
            "access_token": "test-access-not-real",
            "refresh_token": "test-refresh",
            "expires_in": 3600,
        },
    )
    client = FrontClient(integration)
    bearer = matchers.header_matcher({"Authorization": "Bearer test-access-not-real"})
    with strict() as rsps:
        rsps.get(f"{API}/me", match=[bearer], json={"id": "cmp_1", "name": "Acme"})
        rsps.get(f"{API}/contact_lists", match=[bearer], json={"_results": []})
        rsps.get(f"{API}/contacts/custom_fields", match=[bearer], json={"_results": []})
        rsps.patch(
            f"{API}/contacts/alt:email:connection-check%40sharpsend.invalid",
            match=[bearer],
            status=404,
        )
        report = client.test_connection()
    assert report.ok
    assert "OAuth connection" in report.detail and "120 a minute" in report.detail
    assert client.rate == "oauth"


# --- fields ---------------------------------------------------------------------------------------


def test_list_fields(client):
    with strict() as rsps:
        rsps.get(
            f"{API}/contacts/custom_fields",
            match=[AUTH],
            json={
                "_results": [
                    {"id": "fld_1", "name": "Customer plan", "type": "enum", "description": ""},
                    {"id": "fld_2", "name": "Renewal", "type": "datetime", "description": ""},
                    {"id": "fld_3", "name": "Seats", "type": "number", "description": ""},
                ]
            },
        )
        fields = client.list_fields()
    assert fields[:2] == [
        TargetField("email", "Email handle", "email", required=True),
        TargetField("name", "Name (full)", "string"),
    ]
    assert fields[-3:] == [
        TargetField("custom_fields.Customer plan", "Customer plan (custom field)", "string"),
        TargetField("custom_fields.Renewal", "Renewal (custom field)", "date"),
        TargetField("custom_fields.Seats", "Seats (custom field)", "number"),
    ]


# --- upsert ---------------------------------------------------------------------------------------


def test_create_body_matches_the_spec(client, spec_body):
    record = rec(
        1,
        "ann@example.com",
        first_name="Ann",
        last_name="Lee",
        **{"custom_fields.Renewal": datetime(2024, 1, 1, tzinfo=UTC), "custom_fields.Seats": 3},
    )
    expected = {
        "handles": [{"source": "email", "handle": "ann@example.com"}],
        "name": "Ann Lee",
        "custom_fields": {"Renewal": 1704067200, "Seats": 3},
    }
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, match=[AUTH], **not_found())
        rsps.post(
            f"{API}/contacts",
            match=[AUTH, matchers.json_params_matcher(expected)],
            status=201,
            json=contact(),
        )
        (result,) = client.upsert_contacts([record], update_existing=True)
    assert result.outcome == Outcome.CREATED
    check(spec_body("/contacts", "post"), expected)
    assert any("no bulk contact write" in w for w in client.warnings)


def test_update_merges_custom_fields_and_matches_the_spec(client, spec_body):
    """A PATCH replaces all custom fields: those the console does not map are sent back."""
    current = contact(name="Ann", custom_fields={"Customer plan": "pro", "Seats": 1})
    record = rec(1, "ann@example.com", first_name="Ann", **{"custom_fields.Seats": 5})
    expected = {"custom_fields": {"Customer plan": "pro", "Seats": 5}}
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, json=current)
        rsps.patch(ANN, match=[AUTH, matchers.json_params_matcher(expected)], status=204)
        (result,) = client.upsert_contacts([record], True)
    assert result.outcome == Outcome.UPDATED
    check(spec_body("/contacts/{contact_id}", "patch"), expected)


def test_an_identical_contact_is_not_written(client):
    current = contact(name="Ann Lee", custom_fields={"Seats": 5})
    record = rec(
        1, "ann@example.com", first_name="Ann", last_name="Lee", **{"custom_fields.Seats": 5}
    )
    with strict() as rsps:
        rsps.get(ANN, json=current)
        (result,) = client.upsert_contacts([record], True)
    assert result.outcome == Outcome.UNCHANGED


def test_keep_existing_leaves_a_found_contact_alone(client):
    with strict() as rsps:
        rsps.get(ANN, json=contact(name="Someone else"))
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], False)
    assert (result.outcome, result.code) == (Outcome.UNCHANGED, "exists")


def test_a_contact_created_meanwhile_is_updated(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, **not_found())
        rsps.post(f"{API}/contacts", status=409, json={"_error": {"status": 409}})
        rsps.get(ANN, json=contact(name="Old"))
        rsps.patch(ANN, match=[matchers.json_params_matcher({"name": "Ann"})], status=204)
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], True)
    assert result.outcome == Outcome.UPDATED


def test_a_refused_value_rejects_only_its_record(client):
    bob = f"{API}/contacts/alt:email:bob%40example.com"
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, **not_found())
        rsps.post(
            f"{API}/contacts",
            status=400,
            json={
                "_error": {
                    "status": 400,
                    "title": "Bad request",
                    "message": "Invalid value for custom field Seats",
                }
            },
        )
        rsps.get(bob, **not_found())
        rsps.post(f"{API}/contacts", status=201, json=contact("bob@example.com"))
        results = client.upsert_contacts(
            [
                rec(1, "ann@example.com", **{"custom_fields.Seats": "lots"}),
                rec(2, "bob@example.com"),
            ],
            True,
        )
    assert results[0].outcome == Outcome.REJECTED_DATA
    assert results[0].code == "Bad request"
    assert "custom field Seats" in results[0].message
    assert "Custom fields" in results[0].hint
    assert results[1].outcome == Outcome.CREATED


def test_a_refused_token_stops_the_rest(client):
    with strict() as rsps:
        lookup = rsps.get(ANN, status=401, json={"_error": {"status": 401}})
        results = client.upsert_contacts(
            [rec(1, "ann@example.com"), rec(2, "bob@example.com")], True
        )
    assert lookup.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 2


def test_writes_keep_to_fifty_a_minute(client, fake_clock):
    with strict() as rsps:
        rsps.get(ANN, json=contact(name="Ann"))
        client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")] * 3, True)
    assert fake_clock.sleeps == [pytest.approx(1.2)] * 2


def test_429_waits_as_told(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, status=429, headers={"Retry-After": "7"}, json={"_error": {"status": 429}})
        rsps.get(ANN, json=contact(name="Ann"))
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], True)
    assert result.outcome == Outcome.UNCHANGED
    assert sum(fake_clock.sleeps) >= 7


def test_429_too_long_is_throttled(client, settings):
    settings.PLATFORM_MAX_RETRY_AFTER = 5
    with strict() as rsps:
        rsps.get(ANN, status=429, headers={"Retry-After": "60"}, json={"_error": {}})
        (result,) = client.upsert_contacts([rec(1, "ann@example.com")], True)
    assert result.outcome == Outcome.THROTTLED


# --- lists ----------------------------------------------------------------------------------------


def test_list_segments_follows_next_links_on_the_company_host(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{API}/contact_lists",
            match=[AUTH, matchers.query_param_matcher({"limit": "100"})],
            json={
                "_pagination": {
                    "next": "https://acme.api.frontapp.com/contact_lists?limit=100&page_token=p2"
                },
                "_results": [{"id": "grp_1", "name": "VIP"}],
            },
        )
        rsps.get(
            f"{API}/contact_lists",
            match=[matchers.query_param_matcher({"limit": "100", "page_token": "p2"})],
            json={"_pagination": {"next": None}, "_results": [{"id": "grp_2", "name": "Press"}]},
        )
        segments = client.list_segments()
    assert segments == [
        RemoteSegment("grp_1", "VIP", kind="contact list"),
        RemoteSegment("grp_2", "Press", kind="contact list"),
    ]


def test_segment_member_count_pages_through_the_members(client):
    url = f"{API}/contact_lists/grp_1/contacts"
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            url,
            json={
                "_pagination": {"next": f"{url}?limit=100&page_token=x"},
                "_results": [contact()] * 100,
            },
        )
        rsps.get(
            url,
            match=[matchers.query_param_matcher({"limit": "100", "page_token": "x"})],
            json={"_pagination": {"next": None}, "_results": [contact()] * 7},
        )
        assert client.segment_member_count("grp_1") == 107


def test_segment_member_count_max_wait(client):
    with strict() as rsps:
        rsps.get(f"{API}/contact_lists/grp_1/contacts", json={"_results": []})
        client.segment_member_count("grp_1")
        with pytest.raises(RateLimited):
            client.segment_member_count("grp_1", max_wait=0.5)  # next slot in 1.2 s


# --- one person -----------------------------------------------------------------------------------


def test_delete_contact(client):
    with strict() as rsps:
        rsps.delete(ANN, match=[AUTH], status=204)
        client.delete_contact("ann@example.com")
        rsps.delete(f"{API}/contacts/alt:email:gone%40example.com", **not_found())
        client.delete_contact("gone@example.com")  # already gone: fine


def test_export_contact(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(ANN, json={**contact(name="Ann"), "_links": {"self": "x"}})
        rsps.get(
            f"{ANN}/conversations",
            json={
                "_pagination": {"next": None},
                "_results": [
                    {"id": "cnv_1", "subject": "Hi", "status": "archived", "created_at": 1.5}
                ],
            },
        )
        exported = client.export_contact("ann@example.com")
        rsps.get(f"{API}/contacts/alt:email:nobody%40example.com", **not_found())
        missing = client.export_contact("nobody@example.com")
    assert exported["found"] is True
    assert exported["contact"]["name"] == "Ann"
    assert "_links" not in exported["contact"]
    assert exported["conversations"] == [
        {"id": "cnv_1", "subject": "Hi", "status": "archived", "created_at": 1.5}
    ]
    assert missing == {"found": False, "contact": {}, "conversations": []}


def test_oauth_declaration_matches_the_fact_sheet():
    spec = FrontClient.oauth
    assert spec.authorize_url == "https://app.frontapp.com/oauth/authorize"
    assert spec.token_url == "https://app.frontapp.com/oauth/token"
    assert spec.client_auth == "basic" and not spec.pkce and spec.scope == ""
    field = FrontClient.credential_fields[0]
    assert field.secret and not field.required
