"""Crisp client against strict `responses` mocks shaped like ../shared/platforms/crisp.md
(Crisp publishes no OpenAPI document, so shapes come from the fact sheet and the official
wrappers it cites)."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations import ratelimit
from integrations.platforms.crisp import CrispClient
from integrations.platforms.errors import RateLimited
from integrations.platforms.types import ContactRecord, Outcome, RemoteSegment, TargetField
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("steady_retries")

API = "https://api.crisp.chat/v1"
SITE = f"{API}/website/site-1"
CREDENTIALS = {"identifier": "test-ident", "key": "test-key-not-real", "website_id": "site-1"}
BASIC = "Basic " + base64.b64encode(b"test-ident:test-key-not-real").decode()
AUTH = matchers.header_matcher({"Authorization": BASIC, "X-Crisp-Tier": "plugin"})


def ok(data=None, reason="resolved"):
    return {"json": {"error": False, "reason": reason, "data": data or {}}}


def fail(status, reason):
    return {
        "status": status,
        "json": {"error": True, "reason": reason, "data": {"message": reason}},
    }


@pytest.fixture
def client(make_integration):
    return CrispClient(make_integration("crisp", credentials=dict(CREDENTIALS)))


def rec(key, email, **fields):
    return ContactRecord(key, "email", email, {"email": email, **fields})


def people(route, email="ann@example.com"):
    return f"{SITE}/people/{route}/{email}"


# --- test_connection -----------------------------------------------------------------------------


def probe(rsps, status=404, reason="people_not_found"):
    return rsps.patch(
        people("profile", "connection-check@sharpsend.invalid"),
        match=[AUTH, matchers.json_params_matcher({})],
        **fail(status, reason),
    )


def test_connection_ok_reports_the_quota(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{API}/plugin/connect/account", match=[AUTH], **ok({"plugin_id": "p-1"}))
        rsps.get(SITE, match=[AUTH], **ok({"name": "Acme", "domain": "acme.test"}))
        rsps.get(
            f"{SITE}/people/profiles/1",
            match=[AUTH, matchers.query_param_matcher({"per_page": "20"})],
            **ok([]),
        )
        probe(rsps)
        report = client.test_connection()
    assert report.ok and report.can_write
    assert report.account == "Acme"
    assert "plugin p-1" in report.detail
    assert "Daily quota: 5,000 requests" in report.detail
    assert report.permissions["upsert_contacts"] is True


def test_connection_bad_token(client):
    with strict() as rsps:
        rsps.get(f"{API}/plugin/connect/account", **fail(401, "invalid_session"))
        report = client.test_connection()
    assert report.ok is False
    assert "refused the plugin token" in report.detail
    assert "test-key-not-real" not in report.detail


def test_connection_website_without_the_plugin(client):
    with strict() as rsps:
        rsps.get(f"{API}/plugin/connect/account", **ok({"plugin_id": "p-1"}))
        rsps.get(SITE, **fail(403, "not_allowed"))
        report = client.test_connection()
    assert report.ok is False
    assert "site-1" in report.detail and "installed the plugin" in report.detail


def test_connection_read_only_token(client):
    with strict() as rsps:
        rsps.get(f"{API}/plugin/connect/account", **ok({"plugin_id": "p-1"}))
        rsps.get(SITE, **ok({"name": "Acme"}))
        rsps.get(f"{SITE}/people/profiles/1", **ok([]))
        probe(rsps, 403, "not_allowed")
        report = client.test_connection()
    assert report.ok is False and report.can_write is False
    assert "may not write people" in report.detail
    assert report.permissions["list_segments"] is True


def test_a_raised_quota_changes_the_rate_and_the_report(make_integration):
    integration = make_integration("crisp", credentials={**CREDENTIALS, "daily_quota": "20,000"})
    client = CrispClient(integration)
    assert client.quota == 20_000
    assert client.limits.rates["api"].count + client.limits.rates["api"].burst == 20_000
    nonsense = CrispClient(
        make_integration("crisp", name="x", credentials={**CREDENTIALS, "daily_quota": "lots"})
    )
    assert nonsense.quota == 5000


# --- fields ---------------------------------------------------------------------------------------


def test_list_fields_adds_the_suggested_data_keys(client):
    with strict() as rsps:
        rsps.get(
            f"{SITE}/people/suggest/data/1",
            match=[AUTH, matchers.query_param_matcher({"per_page": "50"})],
            **ok([{"key": "plan", "count": 12}, {"key": "email", "count": 1}]),
        )
        fields = client.list_fields()
    keys = [f.key for f in fields]
    assert keys[:2] == ["email", "nickname"]
    assert "email_subscribed" in keys
    assert fields[-1] == TargetField("plan", "plan (custom data)", "string")
    assert keys.count("email") == 1


# --- upsert ---------------------------------------------------------------------------------------


def test_new_person_profile_data_and_ms_timestamps(client):
    record = rec(
        1,
        "ann@example.com",
        first_name="Ann",
        last_name="Lee",
        email_subscribed=True,
        plan="pro",
        signup=datetime(2024, 1, 1, tzinfo=UTC),
        segments="growth",
    )
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("subscription"), match=[AUTH], **fail(404, "people_not_found"))
        rsps.post(
            f"{SITE}/people/profile",
            match=[
                AUTH,
                matchers.json_params_matcher(
                    {
                        "email": "ann@example.com",
                        "person": {"nickname": "Ann Lee"},
                        "segments": ["growth"],
                    }
                ),
            ],
            status=201,
            **ok({"people_id": "p-1"}, "added"),
        )
        rsps.patch(
            people("data"),
            match=[
                AUTH,
                matchers.json_params_matcher({"data": {"plan": "pro", "signup": 1704067200000}}),
            ],
            **ok(reason="updated"),
        )
        (result,) = client.upsert_contacts([record], update_existing=True)
    assert result.outcome == Outcome.CREATED
    assert any("5,000 requests a day" in w for w in client.warnings)


def test_existing_person_is_patched(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("subscription"), **ok({"email": True}))
        rsps.patch(
            people("profile"),
            match=[matchers.json_params_matcher({"person": {"nickname": "Ann"}})],
            **ok(reason="updated"),
        )
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], True)
    assert result.outcome == Outcome.UPDATED


def test_unsubscribing_patches_the_subscription(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("subscription"), **ok({"email": True}))
        rsps.patch(
            people("subscription"),
            match=[matchers.json_params_matcher({"email": False})],
            **ok(reason="updated"),
        )
        (result,) = client.upsert_contacts(
            [rec(1, "ann@example.com", email_subscribed=False)], True
        )
    assert result.outcome == Outcome.UPDATED


def test_unsubscribed_in_crisp_is_a_compliance_rejection(client):
    with strict() as rsps:
        rsps.get(people("subscription"), **ok({"email": False}))
        (result,) = client.upsert_contacts(
            [rec(1, "ann@example.com", first_name="Ann", email_subscribed=True)], True
        )
    assert (result.outcome, result.code) == (Outcome.REJECTED_COMPLIANCE, "unsubscribed")
    assert "resubscribe" in result.hint


def test_keep_existing(client):
    with strict() as rsps:
        rsps.get(people("subscription"), **ok({"email": True}))
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], False)
    assert (result.outcome, result.code) == (Outcome.UNCHANGED, "exists")


def test_created_meanwhile_is_updated(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("subscription"), **fail(404, "people_not_found"))
        rsps.post(f"{SITE}/people/profile", **fail(409, "people_exists"))
        rsps.patch(people("profile"), **ok(reason="updated"))
        (result,) = client.upsert_contacts([rec(1, "ann@example.com", first_name="Ann")], True)
    assert result.outcome == Outcome.UPDATED


def test_data_errors_reject_one_record(client):
    bob = "bob@example.com"
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("subscription"), **fail(404, "people_not_found"))
        rsps.post(f"{SITE}/people/profile", **fail(400, "invalid_data"))
        rsps.get(people("subscription", bob), **fail(404, "people_not_found"))
        rsps.post(f"{SITE}/people/profile", status=201, **ok({"people_id": "p-2"}))
        results = client.upsert_contacts(
            [
                rec(1, "ann@example.com", first_name="Ann"),
                rec(2, bob),
                rec(3, "carl@example.com", tags=["a", "b"]),  # a list: refused unsent
            ],
            True,
        )
    by_key = {r.key: r for r in results}
    assert (by_key[1].outcome, by_key[1].code) == (Outcome.REJECTED_DATA, "invalid_data")
    assert by_key[2].outcome == Outcome.CREATED
    assert (by_key[3].outcome, by_key[3].code) == (Outcome.REJECTED_DATA, "invalid_data")
    assert "tags" in by_key[3].message


def test_a_refused_token_stops_the_rest(client):
    with strict() as rsps:
        first = rsps.get(people("subscription"), **fail(401, "invalid_session"))
        results = client.upsert_contacts(
            [rec(1, "ann@example.com"), rec(2, "bob@example.com")], True
        )
    assert first.call_count == 1
    assert [r.outcome for r in results] == [Outcome.REJECTED_AUTH] * 2


@pytest.mark.parametrize("status", [429, 420])
def test_a_spent_quota_holds_everyone_off(client, settings, fake_clock, status):
    settings.PLATFORM_MAX_RETRY_AFTER = 5
    with strict() as rsps:
        refused = rsps.get(people("subscription"), **fail(status, "quota_limited"))
        results = client.upsert_contacts(
            [rec(1, "ann@example.com"), rec(2, "bob@example.com")], True
        )
    assert refused.call_count == 1
    assert [r.outcome for r in results] == [Outcome.THROTTLED] * 2
    assert any("daily quota" in w for w in client.warnings)
    # The shared limiter is paused: nobody may call Crisp for the next hour or so.
    with pytest.raises(ratelimit.RateLimitWaitTooLong):
        ratelimit.acquire(client.rate_key("api"), client.limits.rates["api"], 60)


def test_bursts_are_free_and_the_day_is_spread(client, fake_clock):
    with strict() as rsps:
        rsps.get(people("subscription"), **ok({"email": True}))
        client.upsert_contacts([rec(i, "ann@example.com") for i in range(3)], False)
    assert fake_clock.sleeps == []


# --- segments -------------------------------------------------------------------------------------


def test_list_segments_pages_until_a_short_page(client):
    first = [{"segment": f"s{i}", "count": i} for i in range(50)]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{SITE}/people/suggest/segments/1", match=[AUTH], **ok(first))
        rsps.get(f"{SITE}/people/suggest/segments/2", **ok([{"segment": "vip", "count": 3}]))
        segments = client.list_segments()
    assert len(segments) == 51
    assert segments[-1] == RemoteSegment("vip", "vip", kind="segment", member_count=3)


def test_segment_member_count(client):
    with strict() as rsps:
        rsps.get(f"{SITE}/people/suggest/segments/1", **ok([{"segment": "vip", "count": 3}]))
        assert client.segment_member_count("vip") == 3
        assert client.segment_member_count("gone") == 0


# --- one person -----------------------------------------------------------------------------------


def test_delete_contact(client):
    with strict() as rsps:
        rsps.delete(people("profile"), match=[AUTH], **ok(reason="deleted"))
        client.delete_contact("ann@example.com")
        rsps.delete(people("profile", "x@example.com"), **fail(404, "people_not_found"))
        client.delete_contact("x@example.com")


def test_export_contact(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(people("profile"), **ok({"people_id": "p-1", "email": "ann@example.com"}))
        rsps.get(people("data"), **ok({"data": {"plan": "pro"}}))
        rsps.get(people("subscription"), **ok({"email": True}))
        exported = client.export_contact("ann@example.com")
        rsps.get(people("profile", "x@example.com"), **fail(404, "people_not_found"))
        missing = client.export_contact("x@example.com")
    assert exported == {
        "found": True,
        "profile": {"people_id": "p-1", "email": "ann@example.com"},
        "data": {"plan": "pro"},
        "subscription": {"email": True},
    }
    assert missing["found"] is False


def test_errors_read_crisp_reasons(client):
    with strict() as rsps:
        rsps.get(f"{API}/plugin/connect/account", **fail(400, "invalid_data"))
        with pytest.raises(Exception) as caught:
            client.request("GET", "api", "/v1/plugin/connect/account")
    assert caught.value.code == "invalid_data"
    assert not isinstance(caught.value, RateLimited)
