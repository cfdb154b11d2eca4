"""Shared fixtures: a fake clock (no real sleeps), integrations, the sandbox."""

from __future__ import annotations

import pytest

from integrations import clock
from integrations.models import FieldMapping, Integration
from integrations.sandbox import accounts
from integrations.sandbox.emulation import reset_limits

# Assignments and their authors and approvers, for the campaigns tests and their e2e tests.
pytest_plugins = ["tests.campaigns.fixtures", "tests.integrations.privacy_fixtures"]


class FakeClock:
    """Stands in for integrations.clock: sleeping advances time instantly."""

    def __init__(self, start: float = 1_800_000_000.0):
        self.time = start
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self.time

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.sleeps.append(seconds)
            self.time += seconds


@pytest.fixture
def fake_clock(monkeypatch) -> FakeClock:
    fake = FakeClock()
    monkeypatch.setattr(clock, "now", fake.now)
    monkeypatch.setattr(clock, "sleep", fake.sleep)
    return fake


@pytest.fixture(autouse=True)
def _fresh_cache():
    # With REDIS_URL the cache outlives a test (the cached field lists, for one).
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture(autouse=True)
def _fresh_sandbox_limits():
    reset_limits()
    yield
    reset_limits()


@pytest.fixture(autouse=True)
def _sandbox_at_the_live_server(request, settings):
    # The URL policy lets clients call only the sandbox at SANDBOX_BASE_URL: where a test
    # serves the sandbox with live_server, that is where it is.
    if "live_server" in request.fixturenames:
        live_server = request.getfixturevalue("live_server")
        settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
        # The signed content URLs (campaigns/content.py) point at the same server.
        settings.CONSOLE_BASE_URL = live_server.url
    yield


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # live_server serves /static/ through the finders, which know no hashed names.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def _integration(platform, base_url="", region="", credentials=None, mappings=None, **fields):
    account = accounts.demo_account(platform)
    integration = Integration.objects.create(
        platform=platform,
        name=fields.pop("name", f"{platform} test"),
        api_base_url=base_url,
        region=region or account.region,
        credentials=credentials if credentials is not None else dict(account.credentials),
        **fields,
    )
    from integrations.platforms.registry import get_platform

    rows = mappings if mappings is not None else get_platform(platform).suggested_mappings
    for source, target, transform, identifier in rows:
        FieldMapping.objects.create(
            integration=integration,
            source=source,
            target=target,
            transform=transform,
            is_identifier=identifier,
        )
    return integration


@pytest.fixture
def make_integration(db):
    """make_integration("iterable", base_url=..., credentials=..., mappings=[...])."""
    return _integration


@pytest.fixture
def sandbox_url(live_server):
    """The live server's sandbox root: f"{sandbox_url}/<slug>" is an integration's base URL."""
    return f"{live_server.url}/sandbox"


@pytest.fixture
def oauth_integration(db):
    """oauth_integration("keap", base_url=f"{sandbox_url}/keap") → an integration connected
    through the sandbox's OAuth server over real HTTP (consent "Allow", code exchange)."""
    from urllib.parse import parse_qs, urlsplit

    import requests

    from integrations.services import oauth

    def connect(platform: str, base_url: str, **fields):
        mappings = fields.pop("mappings", None)
        integration = _integration(platform, base_url, credentials={}, mappings=mappings, **fields)
        redirect_uri = "http://localhost/console/oauth/callback/"
        authorization = oauth.authorization(integration, redirect_uri)
        consent = requests.post(
            authorization.url, data={"decision": "allow"}, allow_redirects=False
        )
        assert consent.status_code == 302, consent.text
        code = parse_qs(urlsplit(consent.headers["Location"]).query)["code"][0]
        token = oauth.exchange_code(integration, code, redirect_uri, authorization.code_verifier)
        oauth.save_connection(integration, token)
        return integration

    return connect
