"""OAuth 2.0 connections: authorization, code exchange, and refresh under a database lock.

Refresh tokens that rotate (Keap, Kit, …) make a concurrent refresh fatal: the platform
revokes the refresh token the first refresh used, so a second one fails. So a worker first
claims a lease on the connection's row (one atomic UPDATE: the database decides who wins),
refreshes, then stores the new access and refresh tokens together in one statement and
releases the lease; a worker that did not win waits for the lease and then uses the fresh
token. No database transaction is held across the call to the platform: SQLite has one
write lock for the whole database, and holding it for an HTTP round trip would stall every
other writer (and deadlock with the sandbox's own token endpoint).
"""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from oauthlib.oauth2 import OAuth2Error
from oauthlib.oauth2.rfc6749.clients.base import Client as OAuthClient
from requests.auth import HTTPBasicAuth
from requests_oauthlib import OAuth2Session

from integrations import clock
from integrations.models import Integration, IntegrationStatus, OAuthConnection
from integrations.platforms.errors import AuthError, ConfigurationError, TransientError
from integrations.platforms.urlpolicy import guarded_session, is_sandbox_url

logger = logging.getLogger(__name__)

# Refresh an access token this long before it expires.
REFRESH_MARGIN = timedelta(minutes=5)
# How long one worker may hold the right to refresh (longer than a token call can take).
REFRESH_LEASE = timedelta(seconds=45)
TOKEN_TIMEOUT = 20


@dataclass(frozen=True)
class Endpoints:
    authorize_url: str
    token_url: str
    client_id: str
    client_secret: str


def endpoints(integration: Integration) -> Endpoints:
    """The platform's OAuth endpoints and this app's client credentials for it.

    A sandbox integration talks to the sandbox's authorization server, with its fixed
    (obviously fake) client; a real one needs OAUTH_<SLUG>_CLIENT_ID and _CLIENT_SECRET.
    """
    platform = integration.platform_class
    spec = platform.oauth
    if spec is None:
        raise ConfigurationError(f"{platform.label} does not connect with OAuth.")
    slug = platform.slug
    if is_sandbox_url(integration.api_base_url, slug):
        root = integration.api_base_url.rstrip("/")[: -len(slug)].rstrip("/")
        os.environ.setdefault("OAUTHLIB_INSECURE_TRANSPORT", "1")  # the sandbox is plain http
        return Endpoints(
            f"{root}/oauth/{slug}/authorize",
            f"{root}/oauth/{slug}/token",
            f"sandbox-{slug}-client-id",
            f"sandbox-{slug}-client-secret",
        )
    client = settings.OAUTH_CLIENTS.get(slug) or {}
    if not client.get("client_id") or not client.get("client_secret"):
        name = slug.upper()
        raise ConfigurationError(
            f"{platform.label} OAuth is not configured: set OAUTH_{name}_CLIENT_ID and "
            f"OAUTH_{name}_CLIENT_SECRET (the console's app registered with {platform.label})."
        )
    return Endpoints(
        spec.authorize_url, spec.token_url, client["client_id"], client["client_secret"]
    )


@dataclass(frozen=True)
class Authorization:
    url: str
    state: str
    code_verifier: str


def authorization(integration: Integration, redirect_uri: str) -> Authorization:
    """Where to send the user to allow access: the URL, its state and the PKCE verifier."""
    spec = integration.platform_class.oauth
    ends = endpoints(integration)
    state = secrets.token_urlsafe(32)
    params = dict(spec.extra_authorize_params)
    verifier = ""
    if spec.pkce:
        helper = OAuthClient(ends.client_id)
        verifier = helper.create_code_verifier(64)
        params.update(
            code_challenge=helper.create_code_challenge(verifier, "S256"),
            code_challenge_method="S256",
        )
    session = OAuth2Session(
        ends.client_id, redirect_uri=redirect_uri, scope=spec.scope or None, state=state
    )
    url, _ = session.authorization_url(ends.authorize_url, **params)
    return Authorization(url, state, verifier)


def _client_auth(mode: str | None, ends: Endpoints) -> dict:
    if mode == "basic":
        return {"auth": HTTPBasicAuth(ends.client_id, ends.client_secret)}
    return {"client_secret": ends.client_secret, "include_client_id": True}


def exchange_code(
    integration: Integration, code: str, redirect_uri: str, code_verifier: str = ""
) -> dict:
    """Trade the authorization code for tokens; AuthError with the platform's reason if refused."""
    spec = integration.platform_class.oauth
    ends = endpoints(integration)
    session = guarded_session(OAuth2Session(ends.client_id, redirect_uri=redirect_uri))
    extra = {"code_verifier": code_verifier} if code_verifier else {}
    try:
        return dict(
            session.fetch_token(
                ends.token_url,
                code=code,
                timeout=TOKEN_TIMEOUT,
                **_client_auth(spec.client_auth, ends),
                **extra,
            )
        )
    except OAuth2Error as exc:
        raise AuthError(
            f"The platform refused the authorization: {exc.description or exc.error}."
        ) from None


def token_fields(token: dict, platform=None) -> dict:
    """OAuthConnection fields from a token response (expiry made absolute at receipt)."""
    expires_at = None
    if token.get("expires_at"):
        stamp = float(token["expires_at"])
        stamp = stamp / 1000 if stamp > 1e11 else stamp  # some platforms send milliseconds
        expires_at = datetime.fromtimestamp(stamp, tz=UTC)
    elif token.get("expires_in"):
        expires_at = timezone.now() + timedelta(seconds=float(token["expires_in"]))
    scope = token.get("scope", "")
    if isinstance(scope, list | tuple):
        scope = " ".join(scope)
    return {
        "access_token": token["access_token"],
        "refresh_token": token.get("refresh_token") or None,
        "token_type": token.get("token_type", "Bearer") or "Bearer",
        "expires_at": expires_at,
        "scope": str(scope)[:500],
        "account_key": (
            platform.account_key_from_token(token)
            if platform
            else str(token.get("account_key") or "")
        )[:200],
    }


def pending_connection(token: dict) -> OAuthConnection:
    """An unsaved connection for an integration that is not saved yet (the wizard)."""
    return OAuthConnection(**token_fields(token))


def save_connection(integration: Integration, token: dict) -> OAuthConnection:
    connection, _ = OAuthConnection.objects.update_or_create(
        integration=integration,
        defaults={
            **token_fields(token, integration.platform_class),
            "refresh_failures": 0,
            "last_refresh_error": "",
            "last_refreshed_at": timezone.now(),
        },
    )
    return connection


def _connection(integration: Integration) -> OAuthConnection:
    try:
        return OAuthConnection.objects.get(integration_id=integration.pk)
    except OAuthConnection.DoesNotExist:
        raise AuthError(f"{integration.name} has no OAuth connection: connect it again.") from None


def _expiring(connection: OAuthConnection, margin: timedelta = REFRESH_MARGIN) -> bool:
    return connection.expires_at is not None and connection.expires_at - timezone.now() < margin


def fresh_connection(
    integration: Integration, connection: OAuthConnection | None = None
) -> OAuthConnection:
    """The connection to use now (`connection` if the caller holds one), refreshed first when
    its access token is about to expire."""
    connection = connection or _connection(integration)
    return refresh(integration) if _expiring(connection) else connection


class StoredTokens:
    """A saved integration's OAuth connection as a client's token source: read once, renewed
    ahead of expiry, and renewed under the lease when the platform refuses it."""

    def __init__(self, integration: Integration):
        self.integration = integration
        self._connection: OAuthConnection | None = None
        self._read = False

    def connection(self) -> OAuthConnection | None:
        if not self._read:
            self._read = True
            if self.integration.pk is not None:
                self._connection = OAuthConnection.objects.filter(
                    integration_id=self.integration.pk
                ).first()
        return self._connection

    def connected(self) -> bool:
        return self.connection() is not None

    def access_token(self) -> str:
        self._connection = fresh_connection(self.integration, self.connection())
        return self._connection.access_token

    def refreshed(self, refused_token: str | None) -> str:
        self._connection = refresh(self.integration, stale_token=refused_token)
        return self._connection.access_token


class PendingTokens:
    """Tokens from the consent screen for an integration not saved yet (the setup wizard's).

    No other worker can see them, so they are renewed in place, without a lease; the wizard
    keeps what `connection` holds after a renewal (rotating refresh tokens).
    """

    def __init__(self, integration: Integration, token: dict):
        self.integration = integration
        self.connection = pending_connection(token)

    def connected(self) -> bool:
        return True

    def access_token(self) -> str:
        if _expiring(self.connection):
            _refresh_tokens(self.integration, self.connection)
        return self.connection.access_token

    def refreshed(self, refused_token: str | None) -> str:
        _refresh_tokens(self.integration, self.connection)
        return self.connection.access_token


def refresh(
    integration: Integration, stale_token: str | None = None, margin: timedelta = REFRESH_MARGIN
) -> OAuthConnection:
    """Refresh the integration's tokens unless another worker just did (or is doing it).

    `stale_token` is the access token a platform refused: if the stored one differs, another
    worker has refreshed meanwhile and that token is used instead. A refresh the platform
    refuses for good (invalid_grant) puts the integration in "needs attention".
    """
    owner = secrets.token_hex(16)
    waited = 0.0
    while True:
        connection = OAuthConnection.objects.get(integration_id=integration.pk)
        if _usable(connection, stale_token, margin):
            return connection
        now = timezone.now()
        claimed = (
            OAuthConnection.objects.filter(pk=connection.pk)
            .filter(Q(refresh_lease_until__isnull=True) | Q(refresh_lease_until__lt=now))
            .update(refresh_lease_until=now + REFRESH_LEASE, refresh_lease_owner=owner)
        )
        if claimed:
            break
        if waited >= REFRESH_LEASE.total_seconds():
            raise TransientError(f"{integration.name}: another worker is renewing the connection.")
        clock.sleep(0.2)
        waited += 0.2
    connection = OAuthConnection.objects.get(pk=connection.pk)  # as the last holder left it
    if _usable(connection, stale_token, margin):
        _release(connection)
        return connection
    try:
        _refresh_tokens(integration, connection)
    except AuthError as exc:
        connection.refresh_failures += 1
        connection.last_refresh_error = exc.message[:300]
        connection.refresh_lease_until, connection.refresh_lease_owner = None, ""
        connection.save(
            update_fields=[
                "refresh_failures", "last_refresh_error", "refresh_lease_until",
                "refresh_lease_owner",
            ]
        )  # fmt: skip
        needs_attention(integration, exc.message)
        raise
    connection.refresh_failures = 0
    connection.last_refresh_error = ""
    connection.last_refreshed_at = timezone.now()
    connection.refresh_lease_until, connection.refresh_lease_owner = None, ""
    connection.save()  # the new access and refresh tokens in one statement, lease released
    return connection


def _usable(connection: OAuthConnection, stale_token: str | None, margin: timedelta) -> bool:
    return not _expiring(connection, margin) and (
        stale_token is None or connection.access_token != stale_token
    )


def _release(connection: OAuthConnection) -> None:
    OAuthConnection.objects.filter(pk=connection.pk).update(
        refresh_lease_until=None, refresh_lease_owner=""
    )


def _refresh_tokens(integration: Integration, connection: OAuthConnection) -> None:
    spec = integration.platform_class.oauth
    if not connection.refresh_token:
        raise AuthError(
            f"The {integration.name} access token has expired and there is no refresh token: "
            "reconnect."
        )
    ends = endpoints(integration)
    session = guarded_session(
        OAuth2Session(ends.client_id, token={"access_token": connection.access_token})
    )
    try:
        token = session.refresh_token(
            ends.token_url,
            refresh_token=connection.refresh_token,
            timeout=TOKEN_TIMEOUT,
            **_refresh_auth(spec.refresh_client_auth or spec.client_auth, ends),
        )
    except OAuth2Error as exc:
        raise AuthError(
            f"{integration.platform_class.label} refused to renew the connection "
            f"({exc.error}): reconnect {integration.name}."
        ) from None
    fields = token_fields(dict(token))
    if not fields["refresh_token"] and not spec.rotates_refresh_token:
        fields["refresh_token"] = connection.refresh_token  # the old one stays valid
    fields.pop("account_key")
    for name, value in fields.items():
        setattr(connection, name, value)


def _refresh_auth(mode: str, ends: Endpoints) -> dict:
    if mode == "basic":
        return {"auth": HTTPBasicAuth(ends.client_id, ends.client_secret)}
    return {"client_id": ends.client_id, "client_secret": ends.client_secret}


def needs_attention(integration: Integration, message: str) -> None:
    """The connection must be renewed by a person; scheduled syncs pause until then."""
    Integration.objects.filter(pk=integration.pk).update(
        status=IntegrationStatus.NEEDS_ATTENTION,
        last_error=f"{message} Use Reconnect on the integration's page.",
        updated_at=timezone.now(),
    )
    logger.warning("OAuth connection of %s needs attention: %s", integration, message)


def refresh_due(within: timedelta = timedelta(minutes=20)) -> dict[str, int]:
    """Refresh every connection that would expire before the next run of the scheduled task
    (every 15 minutes) and a margin."""
    due = OAuthConnection.objects.filter(
        expires_at__lt=timezone.now() + within, integration__enabled=True
    ).exclude(integration__status=IntegrationStatus.NEEDS_ATTENTION)
    counts = {"refreshed": 0, "failed": 0}
    for connection in due.select_related("integration"):
        try:
            refresh(connection.integration, margin=within)
            counts["refreshed"] += 1
        except AuthError:
            counts["failed"] += 1
    return counts
