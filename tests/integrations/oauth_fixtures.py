"""A test-only OAuth platform, served by the sandbox's real authorization server."""

from __future__ import annotations

import types

import pytest

from integrations.platforms import registry
from integrations.platforms.base import PlatformClient
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    Limits,
    OAuthSpec,
    TimestampFormat,
)
from integrations.ratelimit import Rate
from integrations.sandbox import accounts
from integrations.sandbox import registry as sandbox_registry

SLUG = "oauthtest"


class OAuthPlatform(PlatformClient):
    slug = SLUG
    label = "OAuth platform"
    category = Category.CRM
    capabilities = frozenset({Capability.TEST_CONNECTION})
    auth_methods = (AuthMethod.OAUTH,)
    oauth = OAuthSpec(
        authorize_url="https://auth.example.test/authorize",
        token_url="https://auth.example.test/token",
        client_auth="body",
        refresh_client_auth="basic",
        pkce=True,
        scope="full",
    )
    regions = {"us": "US"}
    hosts = {"api": {"us": "https://api.example.test"}}
    limits = Limits(10, 100_000, 10_000, {"api": Rate(10, 1.0)}, TimestampFormat.ISO8601)


@pytest.fixture
def oauth_platform(monkeypatch):
    monkeypatch.setitem(registry._registry, SLUG, OAuthPlatform)
    emulator = types.SimpleNamespace(
        PLATFORM=SLUG,
        OAUTH={"exchange_auth": "body", "refresh_auth": "basic", "pkce": True, "rotates": True},
        ACCOUNTS=(accounts.SandboxAccount(SLUG, "acct-1", "us", {}, "Test CRM account"),),
    )
    monkeypatch.setitem(sandbox_registry.emulators(), SLUG, emulator)
    return OAuthPlatform


@pytest.fixture
def oauth_connected(oauth_platform, oauth_integration, sandbox_url):
    return oauth_integration(SLUG, f"{sandbox_url}/{SLUG}", mappings=[("email", "email", "", True)])
