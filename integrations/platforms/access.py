"""Credentials, hosts and auth: what one integration's client sends with each call."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

import requests

from integrations.platforms import urlpolicy
from integrations.platforms.auth import BearerAuth
from integrations.platforms.errors import (
    ConfigurationError,
)
from integrations.platforms.runtime import TokenSource


class Access:
    """Credentials, hosts and auth of one integration's client (mixed into PlatformClient)."""

    def credential(self, key: str) -> str:
        value = self._secrets.get(key)
        if not value:
            field = next((f for f in self.credential_fields if f.key == key), None)
            label = field.label if field else key
            raise ConfigurationError(f"{self.label}: the {label} is missing.")
        return str(value)

    def auth_for(self, surface: str) -> requests.auth.AuthBase | None:
        """The requests auth object for an API surface: the OAuth token when connected that
        way; platforms with API keys override (and call oauth_auth() when uses_oauth())."""
        return self.oauth_auth() if self.uses_oauth() else None

    def uses_oauth(self) -> bool:
        """True when this integration is connected with OAuth (not an API key)."""
        return self.oauth is not None and self.tokens().connected()

    def tokens(self) -> TokenSource:
        """The integration's OAuth tokens, as the console hands them in (read once)."""
        if self._tokens is None:
            self._tokens = self.runtime.tokens_for(self.integration, type(self))
        return self._tokens

    def oauth_auth(self) -> requests.auth.AuthBase:
        """Bearer auth with an access token that is fresh (refreshed ahead of expiry)."""
        self._oauth_token = self.tokens().access_token()
        return BearerAuth(self._oauth_token)

    def headers_for(self, surface: str) -> dict[str, str]:
        return {}

    def base_url(self, surface: str, region: str | None = None) -> str:
        region = region or self.region
        try:
            default = self.hosts[surface][region]
        except KeyError:
            raise ConfigurationError(f"{self.label} has no region '{region}'.") from None
        override = self.integration.api_base_url.strip()
        if not override:
            return default
        if urlpolicy.is_sandbox_url(override, self.slug):
            # The sandbox serves every real host under its own path, so regions still differ.
            return f"{override.rstrip('/')}/{urlsplit(default).netloc}"
        self.check_base_url(override)
        override_host = urlsplit(override).netloc
        if any(urlsplit(u).netloc == override_host for u in self.hosts[surface].values()):
            return override.rstrip("/")
        return default

    def rate_scope(self) -> str:
        """Whose budget a call counts against, as the platform counts it.

        A platform that counts per credential (an API key, a plugin token) names those
        credentials in `rate_limited_by`: integrations holding the same values then share one
        budget (a digest of the values names it; the values are never stored). Otherwise
        each integration has its own.
        """
        values = [self._secrets.get(key, "") for key in self.rate_limited_by]
        if not any(values):
            return str(self.integration.pk)
        digest = hashlib.sha256("\x1f".join(values).encode()).hexdigest()[:20]
        return f"credential-{digest}"

    def rate_key(self, rate_name: str) -> str:
        """The shared limiter's row for one of this client's rates."""
        return f"{self.slug}:{self.rate_scope()}:{rate_name}"
