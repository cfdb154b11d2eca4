"""The base platform client: retries, the shared rate limiter, metering, typed errors,
redaction, batching helpers. Driven through a small platform declared here (not registered),
with `responses` standing in for the network and the fake clock for time (no real sleeps)."""

from __future__ import annotations

import base64
import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone
from email.utils import format_datetime
from urllib.parse import quote, quote_plus

import pytest
import requests
from responses import matchers
from responses.registries import OrderedRegistry

from integrations import ratelimit
from integrations.models import ApiCall, Integration, Outcome, RateLimitState
from integrations.platforms import transport as transport_module
from integrations.platforms.auth import HeaderKeyAuth
from integrations.platforms.base import PlatformClient, failed_results, parse_retry_after
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.types import (
    Category,
    ContactRecord,
    CredentialField,
    Limits,
    PlannedRequest,
    Rate,
    RecordResult,
    TimestampFormat,
    Written,
)
from tests.integrations.platforms.support import strict

SECRET = "demo-secret-key-0123456789abcdef"
US = "https://api.demo.example"
EU = "https://eu.api.demo.example"


class DemoClient(PlatformClient):
    """A platform with one API surface, two regions and an API key header."""

    slug = "demo"
    label = "Demo"
    category = Category.EMAIL
    credential_fields = (CredentialField("api_key", "API key", "The key."),)
    regions = {"us": "United States", "eu": "European Union"}
    hosts = {"api": {"us": US, "eu": EU}}
    limits = Limits(
        batch_max_records=100,
        batch_max_bytes=1000,
        record_max_bytes=1000,
        rates={"api": Rate(5, 1.0), "slow": Rate(1, 60.0)},
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )

    def auth_for(self, surface):
        return HeaderKeyAuth("X-Api-Key", self.credential("api_key"))


@pytest.fixture
def integration(db):
    return Integration.objects.create(
        platform="demo", name="demo", region="us", credentials={"api_key": SECRET}
    )


@pytest.fixture
def client(integration, fake_clock, monkeypatch, settings):
    # Full-jitter backoff made deterministic: always the ceiling.
    monkeypatch.setattr(transport_module.random, "uniform", lambda low, high: high)
    settings.PLATFORM_MAX_ATTEMPTS = 5
    settings.PLATFORM_BACKOFF_BASE = 0.5
    settings.PLATFORM_BACKOFF_MAX = 30.0
    settings.PLATFORM_MAX_RETRY_AFTER = 120.0
    return DemoClient(integration)


def calls_of(integration):
    return list(ApiCall.objects.filter(integration=integration).order_by("id"))


def limiter_key(integration, rate="api"):
    return f"demo:{integration.pk}:{rate}"


# --- retries -------------------------------------------------------------------------------


def test_503_is_retried_after_backoff_then_succeeds(client, integration, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/things", status=503, body="busy")
        rsps.get(f"{US}/things", json={"ok": True})
        response = client.request("GET", "api", "/things")
        assert len(rsps.calls) == 2
    assert response.json() == {"ok": True}
    assert fake_clock.sleeps == [0.5]  # the backoff base; the limiter had nothing to add
    rows = calls_of(integration)
    assert [(r.status_code, r.ok, r.error_kind) for r in rows] == [
        (503, False, "transient"),
        (200, True, ""),
    ]
    assert client.calls == 2


def test_backoff_grows_exponentially(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/things", status=502)
        rsps.get(f"{US}/things", status=500)
        rsps.get(f"{US}/things", status=408)
        rsps.get(f"{US}/things", json={})
        client.request("GET", "api", "/things")
    assert fake_clock.sleeps == [0.5, 1.0, 2.0]


def test_429_with_retry_after_pauses_the_shared_limiter_and_retries(
    client, integration, fake_clock
):
    start = fake_clock.time
    sent_at = []

    def answer(status, headers):
        def callback(request):
            sent_at.append(fake_clock.time)
            return status, headers, "{}"

        return callback

    with strict(registry=OrderedRegistry) as rsps:
        rsps.add_callback("GET", f"{US}/things", callback=answer(429, {"Retry-After": "7"}))
        rsps.add_callback("GET", f"{US}/things", callback=answer(200, {}))
        client.request("GET", "api", "/things")
    assert sent_at == [start, pytest.approx(start + 7)]
    assert fake_clock.sleeps == [pytest.approx(7)]
    state = RateLimitState.objects.get(key=limiter_key(integration))
    # The retry took the slot at start+7; the next one is one interval (0.2 s) later.
    assert state.tat == pytest.approx(start + 7 + 0.2)
    assert [r.status_code for r in calls_of(integration)] == [429, 200]


def test_a_429_holds_off_other_clients_of_the_same_integration(
    client, integration, fake_clock, settings
):
    settings.PLATFORM_MAX_ATTEMPTS = 1
    start = fake_clock.time
    with strict() as rsps:
        rsps.get(f"{US}/things", status=429, headers={"Retry-After": "30"})
        with pytest.raises(RateLimited):
            client.request("GET", "api", "/things")
    assert fake_clock.sleeps == []

    other_worker = DemoClient(Integration.objects.get(pk=integration.pk))
    with strict() as rsps:
        rsps.get(f"{US}/other", json={})
        other_worker.request("GET", "api", "/other")
    assert fake_clock.time == pytest.approx(start + 30)


def test_429_storm_exhausts_the_attempts_and_raises_rate_limited(client, integration, fake_clock):
    with strict() as rsps:
        storm = rsps.get(
            f"{US}/things",
            status=429,
            json={"code": "RateLimitExceeded", "msg": "slow down"},
            headers={"Retry-After": "1"},
        )
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "api", "/things")
    assert storm.call_count == 5
    assert caught.value.status == 429
    assert caught.value.code == "RateLimitExceeded"
    assert caught.value.retry_after == 1.0
    assert fake_clock.sleeps == [pytest.approx(1.0)] * 4
    rows = calls_of(integration)
    assert len(rows) == 5
    assert {(r.status_code, r.ok, r.error_kind) for r in rows} == {(429, False, "rate_limited")}


def test_429_without_retry_after_backs_off_through_the_limiter(client, fake_clock):
    with strict() as rsps:
        storm = rsps.get(f"{US}/things", status=429)
        with pytest.raises(RateLimited):
            client.request("GET", "api", "/things")
    assert storm.call_count == 5
    assert fake_clock.sleeps == [pytest.approx(s) for s in (0.5, 1.0, 2.0, 4.0)]


def test_retry_after_as_http_date(client, fake_clock):
    when = datetime.fromtimestamp(fake_clock.time + 30, tz=UTC)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/things", status=429, headers={"Retry-After": format_datetime(when, usegmt=True)}
        )
        rsps.get(f"{US}/things", json={})
        client.request("GET", "api", "/things")
    assert fake_clock.sleeps == [pytest.approx(30)]


def test_retry_after_longer_than_the_maximum_is_not_waited_out(client, fake_clock, settings):
    settings.PLATFORM_MAX_RETRY_AFTER = 120.0
    with strict() as rsps:
        only = rsps.get(f"{US}/things", status=429, headers={"Retry-After": "600"})
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "api", "/things")
    assert only.call_count == 1
    assert caught.value.retry_after == 600
    assert fake_clock.sleeps == []

    # The pause is shared: the next call (the next batch, another worker) neither sits out
    # the 600 s nor reaches the platform; it is refused at once ...
    with strict(assert_all_requests_are_fired=False) as rsps:
        never = rsps.get(f"{US}/next", json={})
        with pytest.raises(RateLimited) as refused:
            client.request("GET", "api", "/next")
    assert never.call_count == 0
    assert refused.value.retry_after == pytest.approx(600, abs=1)
    assert fake_clock.sleeps == []

    # ... until the pause is over.
    fake_clock.time += 601
    with strict() as rsps:
        rsps.get(f"{US}/next", json={})
        client.request("GET", "api", "/next")


def test_5xx_retry_after_longer_than_the_maximum_is_not_waited_out(client, fake_clock):
    with strict() as rsps:
        only = rsps.get(f"{US}/things", status=503, headers={"Retry-After": "3600"})
        with pytest.raises(TransientError):
            client.request("GET", "api", "/things")
    assert only.call_count == 1
    assert fake_clock.sleeps == []


def test_5xx_retry_after_within_the_maximum_is_honoured(client, fake_clock):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/things", status=503, headers={"Retry-After": "12"})
        rsps.get(f"{US}/things", json={})
        client.request("GET", "api", "/things")
    assert fake_clock.sleeps == [12.0]


@pytest.mark.parametrize(
    "status, error",
    [(400, ValidationFailed), (422, ValidationFailed), (404, NotFound), (409, ValidationFailed)],
)
def test_4xx_validation_errors_are_not_retried(client, integration, fake_clock, status, error):
    with strict() as rsps:
        once = rsps.post(
            f"{US}/things", status=status, json={"code": "BadParams", "msg": "email is invalid"}
        )
        with pytest.raises(error) as caught:
            client.request("POST", "api", "/things", json={"email": "x"})
    assert once.call_count == 1
    assert type(caught.value) is error
    assert caught.value.status == status
    assert caught.value.code == "BadParams"
    assert "email is invalid" in caught.value.message
    assert f"answered {status} to POST /things" in caught.value.message
    assert fake_clock.sleeps == []
    assert [(r.status_code, r.error_kind) for r in calls_of(integration)] == [(status, error.kind)]


def test_401_raises_auth_error_at_once(client, fake_clock):
    with strict() as rsps:
        once = rsps.get(f"{US}/things", status=401, body="")
        with pytest.raises(AuthError) as caught:
            client.request("GET", "api", "/things")
    assert once.call_count == 1
    assert caught.value.kind == "auth"
    assert caught.value.code == "401"
    assert fake_clock.sleeps == []


def test_403_raises_permission_denied_at_once(client):
    with strict() as rsps:
        once = rsps.get(f"{US}/things", status=403, json={"msg": "read-only key"})
        with pytest.raises(PermissionDenied):
            client.request("GET", "api", "/things")
    assert once.call_count == 1


def test_statuses_listed_as_ok_are_returned(client):
    with strict() as rsps:
        rsps.post(f"{US}/batch", status=207, json={"errors": []})
        response = client.request("POST", "api", "/batch", json=[], ok=(200, 207))
    assert response.status_code == 207


def test_connection_errors_are_retried_then_raise_transient(client, integration, fake_clock):
    with strict() as rsps:
        broken = rsps.get(f"{US}/things", body=requests.ConnectionError("refused"))
        with pytest.raises(TransientError) as caught:
            client.request("GET", "api", "/things")
    assert broken.call_count == 5
    assert "could not connect" in caught.value.message
    assert caught.value.status is None
    assert fake_clock.sleeps == [0.5, 1.0, 2.0, 4.0]
    rows = calls_of(integration)
    assert [(r.status_code, r.ok, r.error_kind) for r in rows] == [(None, False, "transient")] * 5


def test_a_timeout_then_success(client, integration):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/things", body=requests.ReadTimeout("slow"))
        rsps.get(f"{US}/things", json={"fine": 1})
        assert client.request("GET", "api", "/things").json() == {"fine": 1}
    assert [r.ok for r in calls_of(integration)] == [False, True]


def test_timeout_message_says_timed_out(client, settings):
    settings.PLATFORM_MAX_ATTEMPTS = 1
    with strict() as rsps:
        rsps.get(f"{US}/things", body=requests.ReadTimeout("slow"))
        with pytest.raises(TransientError, match="timed out"):
            client.request("GET", "api", "/things")


# --- auth, headers, metering ----------------------------------------------------------------


def test_the_request_carries_auth_json_and_headers(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/things",
            match=[
                matchers.header_matcher(
                    {
                        "X-Api-Key": SECRET,
                        "Accept": "application/json",
                        "Content-Type": "application/json",
                    }
                ),
                matchers.json_params_matcher({"name": "Ann", "n": 1}),
                matchers.query_param_matcher({"dry": "1"}),
            ],
            json={},
        )
        client.request("POST", "api", "/things", json={"name": "Ann", "n": 1}, params={"dry": "1"})


def test_every_call_is_metered_without_its_query_string(client, integration):
    body = {"ids": [1, 2, 3]}
    with strict() as rsps:
        rsps.post(f"{US}/v1/things", body=b'{"answer":"' + b"x" * 50 + b'"}')
        client.request("POST", "api", "/v1/things?start=abc&token=zzz", json=body)
    (row,) = calls_of(integration)
    assert row.path == "/v1/things"
    assert row.method == "POST"
    assert row.surface == "api"
    assert row.status_code == 200
    assert row.ok is True
    assert row.error_kind == ""
    assert row.bytes_sent == len(b'{"ids":[1,2,3]}')
    assert row.bytes_received == len(b'{"answer":"' + b"x" * 50 + b'"}')
    assert row.latency_ms >= 0


def test_a_missing_credential_is_a_configuration_error_before_any_call(db, fake_clock):
    integration = Integration.objects.create(platform="demo", name="nokey", region="us")
    client = DemoClient(integration)
    with strict(assert_all_requests_are_fired=False) as rsps:
        with pytest.raises(ConfigurationError, match="API key is missing"):
            client.request("GET", "api", "/things")
        assert len(rsps.calls) == 0


# --- secrets never leak -----------------------------------------------------------------------


def assert_no_secret(text: str) -> None:
    assert SECRET not in text
    # Nor a recognisable piece of it.
    assert SECRET[:12] not in text


@pytest.mark.parametrize(
    "body",
    [
        {"json": {"code": "BadApiKey", "msg": f"Invalid API key: {SECRET}"}},
        {"json": {"error": {"message": f"key {SECRET} revoked"}}},
        {"body": f"<html>bad key {SECRET}</html>"},
        # The platform's message is cut to a few hundred characters: never in mid-secret.
        {"json": {"code": "BadApiKey", "msg": "x" * 290 + SECRET}},
        {"body": "y" * 190 + SECRET},
    ],
)
def test_secrets_echoed_by_the_platform_are_redacted(client, body):
    with strict() as rsps:
        rsps.get(f"{US}/things", status=401, **body)
        with pytest.raises(AuthError) as caught:
            client.request("GET", "api", "/things")
    assert_no_secret(str(caught.value))
    assert_no_secret(caught.value.message)
    assert "[redacted]" in caught.value.message


def test_a_secret_in_the_path_is_redacted_from_connection_errors(client, settings):
    settings.PLATFORM_MAX_ATTEMPTS = 1
    with strict() as rsps:
        rsps.get(f"{US}/things", body=requests.ConnectionError(f"to {US}/things?key={SECRET}"))
        with pytest.raises(TransientError) as caught:
            client.request("GET", "api", f"/things?key={SECRET}")
    assert_no_secret(str(caught.value))


def test_a_secret_in_the_path_is_redacted_from_status_errors(client):
    with strict() as rsps:
        rsps.get(f"{US}/things", status=400, json={"msg": "bad"})
        with pytest.raises(ValidationFailed) as caught:
            client.request("GET", "api", f"/things?key={SECRET}")
    assert_no_secret(str(caught.value))


class BasicDemoClient(DemoClient):
    """The demo platform with HTTP Basic auth (`account:key`), as Customer.io's Track API."""

    credential_fields = (
        CredentialField("account", "Account", "The account.", secret=False),
        CredentialField("api_key", "API key", "The key."),
    )

    def auth_for(self, surface):
        return requests.auth.HTTPBasicAuth(self.credential("account"), self.credential("api_key"))


SPECIAL = "fake/key+with=signs-0123456789"


def test_every_encoding_of_a_secret_echoed_back_is_redacted(db, fake_clock):
    integration = Integration.objects.create(
        platform="demo", name="b", region="us",
        credentials={"account": "acct-42", "api_key": SPECIAL},
    )  # fmt: skip
    client = BasicDemoClient(integration)
    forms = [
        base64.b64encode(f"acct-42:{SPECIAL}".encode()).decode(),  # the Basic header sent
        quote(SPECIAL, safe=""),
        quote_plus(SPECIAL),
        base64.b64encode(SPECIAL.encode()).decode(),
        SPECIAL,
    ]
    echoed = "; ".join(f"echo {form}" for form in forms)
    with strict() as rsps:
        rsps.get(f"{US}/things", status=400, json={"msg": echoed})
        with pytest.raises(ValidationFailed) as caught:
            client.request("GET", "api", "/things")
    message = caught.value.message
    for form in forms:
        assert form not in message and form[:10] not in message, form
    assert message.count("[redacted]") == len(forms), message


def test_redact_replaces_every_credential_but_not_tiny_ones(db):
    integration = Integration.objects.create(
        platform="demo", name="r", region="us", credentials={"api_key": SECRET, "pin": "123"}
    )
    client = DemoClient(integration)
    assert client.redact(f"a {SECRET} b {SECRET}") == "a [redacted] b [redacted]"
    assert client.redact("code 123") == "code 123"


# --- rate limiter through the client -----------------------------------------------------------


def test_requests_are_spaced_by_the_declared_rate(client, fake_clock):
    start = fake_clock.time
    with strict() as rsps:
        endpoint = rsps.get(f"{US}/things", json={})
        for _ in range(6):
            client.request("GET", "api", "/things")
    assert endpoint.call_count == 6
    assert fake_clock.time - start == pytest.approx(5 * 0.2)
    assert fake_clock.sleeps == [pytest.approx(0.2)] * 5


def test_named_rates_are_separate_limits(client, integration, fake_clock):
    with strict() as rsps:
        rsps.get(f"{US}/slow", json={})
        rsps.get(f"{US}/fast", json={})
        client.request("GET", "api", "/slow", rate="slow")
        client.request("GET", "api", "/fast")  # another limit: no wait
        assert fake_clock.sleeps == []
        client.request("GET", "api", "/slow", rate="slow")
    assert fake_clock.sleeps == [pytest.approx(60)]
    assert RateLimitState.objects.filter(key=limiter_key(integration, "slow")).exists()


def test_an_unknown_rate_name_falls_back_to_the_surface(client, integration):
    with strict() as rsps:
        rsps.get(f"{US}/x", json={})
        client.request("GET", "api", "/x", rate="nope")
    assert RateLimitState.objects.filter(key=limiter_key(integration, "api")).exists()
    assert not RateLimitState.objects.filter(key=limiter_key(integration, "nope")).exists()


def test_max_wait_refuses_to_wait_for_a_slot(client, fake_clock):
    with strict() as rsps:
        endpoint = rsps.get(f"{US}/size", body="5")
        client.request("GET", "api", "/size", rate="slow")
        with pytest.raises(RateLimited) as caught:
            client.request("GET", "api", "/size", rate="slow", max_wait=5)
    assert endpoint.call_count == 1
    assert caught.value.retry_after == pytest.approx(60)
    assert caught.value.retryable is False
    assert fake_clock.sleeps == []


# --- URLs and regions ----------------------------------------------------------------------------


def test_region_selects_the_host(db, fake_clock):
    integration = Integration.objects.create(
        platform="demo", name="eu", region="eu", credentials={"api_key": SECRET}
    )
    client = DemoClient(integration)
    assert client.base_url("api") == EU
    assert client.base_url("api", region="us") == US
    with strict() as rsps:
        rsps.get(f"{EU}/things", json={})
        client.request("GET", "api", "/things")


def test_an_unknown_region_is_a_configuration_error(client):
    with pytest.raises(ConfigurationError, match="no region 'mars'"):
        client.base_url("api", region="mars")


def test_empty_region_uses_the_first_declared(db):
    integration = Integration.objects.create(platform="demo", name="n", region="")
    assert DemoClient(integration).region == "us"


def test_base_url_override(integration, settings):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = "http://testserver/sandbox"
    integration.api_base_url = f"{EU}/"
    assert DemoClient(integration).base_url("api") == EU
    integration.api_base_url = "http://testserver/sandbox/demo"
    assert (
        DemoClient(integration).base_url("api") == "http://testserver/sandbox/demo/api.demo.example"
    )
    integration.region = "eu"
    assert (
        DemoClient(integration).base_url("api")
        == "http://testserver/sandbox/demo/eu.api.demo.example"
    )
    integration.api_base_url = "https://proxy.evil.example"
    with pytest.raises(ConfigurationError):
        DemoClient(integration).base_url("api")


def test_check_base_url(settings):
    settings.SANDBOX_ENABLED = True
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    DemoClient.check_base_url("")
    DemoClient.check_base_url(US)
    DemoClient.check_base_url(f"{EU}/v2")
    DemoClient.check_base_url("http://127.0.0.1:8000/sandbox/demo")
    for bad in ("http://api.demo.example", "https://evil.example", "ftp://api.demo.example"):
        with pytest.raises(ConfigurationError, match="must be https"):
            DemoClient.check_base_url(bad)
    settings.SANDBOX_ENABLED = False
    with pytest.raises(ConfigurationError):
        DemoClient.check_base_url("http://127.0.0.1:8000/sandbox/demo")


# --- Retry-After parsing ------------------------------------------------------------------------


def test_parse_retry_after(fake_clock):
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("5") == 5.0
    assert parse_retry_after("2.5") == 2.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("soon") is None
    when = datetime.fromtimestamp(fake_clock.time + 90, tz=UTC)
    assert parse_retry_after(format_datetime(when, usegmt=True)) == pytest.approx(90)
    past = datetime.fromtimestamp(fake_clock.time - 90, tz=UTC)
    assert parse_retry_after(format_datetime(past, usegmt=True)) == 0.0


# --- pack() ---------------------------------------------------------------------------------------


def with_limits(client, **changes):
    client.limits = dataclasses.replace(DemoClient.limits, **changes)
    return client


def items(n, size=10):
    return [(i, b"x" * size) for i in range(n)]


def sizes(groups):
    return [[key for key, _ in group] for group in groups]


def test_pack_fills_a_group_up_to_exactly_the_byte_limit(client):
    # envelope "[]" (2) + 3 items of 10 bytes + 2 commas = 34 bytes.
    with_limits(client, batch_max_bytes=34)
    groups = list(client.pack(items(7), envelope_bytes=2))
    assert sizes(groups) == [[0, 1, 2], [3, 4, 5], [6]]
    for group in groups:
        body = b"[" + b",".join(raw for _, raw in group) + b"]"
        assert len(body) <= 34
    assert len(b"[" + b",".join(raw for _, raw in groups[0]) + b"]") == 34


def test_pack_one_byte_under_the_boundary_starts_a_new_group(client):
    with_limits(client, batch_max_bytes=33)
    assert sizes(client.pack(items(5), envelope_bytes=2)) == [[0, 1], [2, 3], [4]]


def test_pack_respects_the_record_cap_exactly(client):
    with_limits(client, batch_max_records=3, batch_max_bytes=10_000)
    assert sizes(client.pack(items(6), envelope_bytes=2)) == [[0, 1, 2], [3, 4, 5]]
    assert sizes(client.pack(items(7), envelope_bytes=2)) == [[0, 1, 2], [3, 4, 5], [6]]
    assert sizes(client.pack(items(3), envelope_bytes=2)) == [[0, 1, 2]]


def test_pack_counts_the_envelope(client):
    with_limits(client, batch_max_bytes=34)
    # A 5-byte envelope leaves room for two items only (5 + 10 + 1 + 10 = 26; + 11 = 37).
    assert sizes(client.pack(items(3), envelope_bytes=5)) == [[0, 1], [2]]


def test_pack_mixed_sizes(client):
    with_limits(client, batch_max_bytes=100)
    data = [("a", b"x" * 60), ("b", b"x" * 37), ("c", b"x"), ("d", b"x" * 96), ("e", b"x" * 97)]
    # a+b: 2 + 60 + 1 + 37 = 100 (fits exactly); c would make 102.
    # c+d: 2 + 1 + 1 + 96 = 100 (fits exactly); e alone: 2 + 97 = 99.
    assert sizes(client.pack(data, envelope_bytes=2)) == [["a", "b"], ["c", "d"], ["e"]]


def test_pack_oversized_item_goes_alone_and_nothing_is_empty(client):
    with_limits(client, batch_max_bytes=20)
    data = [("small", b"x" * 5), ("huge", b"x" * 50), ("small2", b"x" * 5)]
    groups = sizes(client.pack(data, envelope_bytes=2))
    assert groups == [["small"], ["huge"], ["small2"]]
    assert list(client.pack([], envelope_bytes=2)) == []


# --- send_groups / failed_results ------------------------------------------------------------------


def record(key, email=None):
    return ContactRecord(key, "email", email or f"u{key}@example.com", {})


def planned(*records):
    return PlannedRequest("POST", "api", "/contacts", b"{}", tuple((r, b"{}") for r in records))


def test_send_groups_carries_on_after_a_data_failure_and_stops_after_auth(client):
    groups = [planned(record(i)) for i in range(5)]
    sent = []

    def send(request):
        keys = [r.key for r in request.records]
        sent.append(keys)
        if keys == [1]:
            raise ValidationFailed("bad batch", status=400, code="BadParams")
        if keys == [3]:
            raise AuthError("key revoked", status=401)
        return [RecordResult(k, Written.WRITTEN) for k in keys]

    results = client.send_groups(iter(groups), send)
    assert sent == [[0], [1], [2], [3]]  # group 4 never sent after the auth failure
    assert [(r.key, r.outcome) for r in results] == [
        (0, Written.WRITTEN),
        (1, Outcome.REJECTED_DATA),
        (2, Written.WRITTEN),
        (3, Outcome.REJECTED_AUTH),
        (4, Outcome.REJECTED_AUTH),
    ]
    assert results[1].code == "BadParams"
    assert results[4].message == "key revoked"


def test_send_groups_stops_after_permission_denied(client):
    sent = []

    def send(group):
        sent.append(group)
        raise PermissionDenied("read only", status=403)

    results = client.send_groups([planned(record(0)), planned(record(1))], send)
    assert len(sent) == 1
    assert {r.outcome for r in results} == {Outcome.REJECTED_AUTH}


@pytest.mark.parametrize(
    "exc, outcome",
    [
        (AuthError("x", status=401), Outcome.REJECTED_AUTH),
        (PermissionDenied("x", status=403), Outcome.REJECTED_AUTH),
        (RateLimited("x", status=429), Outcome.THROTTLED),
        (TransientError("x", status=503), Outcome.UNKNOWN),
        (ConfigurationError("x"), Outcome.REJECTED_AUTH),
        (ValidationFailed("x", status=400), Outcome.REJECTED_DATA),
        (NotFound("x", status=404), Outcome.REJECTED_DATA),
        (PlatformError("x"), Outcome.UNKNOWN),
    ],
)
def test_failed_results_outcomes(exc, outcome):
    results = failed_results([record(1), record(2)], exc)
    assert [(r.key, r.outcome) for r in results] == [(1, outcome), (2, outcome)]
    assert all(r.code == (exc.code or exc.kind) and r.message == "x" and r.hint for r in results)


# --- value formatting ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt, expected",
    [
        (TimestampFormat.UNIX_SECONDS, 1704067200),
        (TimestampFormat.UNIX_MILLISECONDS, 1704067200000),
        (TimestampFormat.SPACE_SEPARATED_UTC, "2024-01-01 00:00:00"),
        (TimestampFormat.ISO8601, "2024-01-01T01:00:00+01:00"),
    ],
)
def test_format_value_datetimes(client, fmt, expected):
    with_limits(client, timestamp_format=fmt)
    paris = timezone(timedelta(hours=1))
    assert client.format_value(datetime(2024, 1, 1, 1, 0, tzinfo=paris)) == expected


def test_format_value_naive_datetimes_are_utc_and_others_untouched(client):
    assert client.format_value(datetime(2024, 1, 1)) == 1704067200
    # A plain date is midnight UTC, in the platform's timestamp format (one type per field).
    assert client.format_value(date(2024, 1, 31)) == 1706659200
    assert client.format_value("text") == "text"
    assert client.format_value(5) == 5
    assert client.format_value(None) is None
    assert client.format_fields({"a": datetime(2024, 1, 1), "b": True}) == {
        "a": 1704067200,
        "b": True,
    }


def test_ratelimit_pause_is_what_the_client_uses(client, integration, fake_clock):
    # A pause set by anyone on the integration's key delays this client's next call.
    ratelimit.pause(limiter_key(integration), 15, DemoClient.limits.rates["api"])
    with strict() as rsps:
        rsps.get(f"{US}/things", json={})
        client.request("GET", "api", "/things")
    assert fake_clock.sleeps == [pytest.approx(15)]
