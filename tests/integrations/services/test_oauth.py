"""OAuth connections against the sandbox's authorization server, over real HTTP."""

from __future__ import annotations

import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection as db_connection
from django.utils import timezone

from integrations import tasks
from integrations.models import IntegrationStatus, OAuthConnection
from integrations.platforms.errors import AuthError
from integrations.sandbox.models import SandboxOAuthToken
from integrations.services import oauth
from tests.integrations.oauth_fixtures import SLUG

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_authorization_url_carries_state_and_pkce(
    oauth_platform, make_integration, sandbox_url
):
    integration = make_integration(
        SLUG, base_url=f"{sandbox_url}/{SLUG}", credentials={}, mappings=[]
    )
    authorization = oauth.authorization(integration, "http://localhost/cb")
    query = parse_qs(urlsplit(authorization.url).query)
    assert authorization.url.startswith(f"{sandbox_url}/oauth/{SLUG}/authorize?")
    assert query["state"] == [authorization.state] and len(authorization.state) >= 32
    assert query["code_challenge_method"] == ["S256"] and query["code_challenge"][0]
    assert query["client_id"] == [f"sandbox-{SLUG}-client-id"]
    assert query["scope"] == ["full"] and len(authorization.code_verifier) == 64


def test_a_connection_stores_tokens_encrypted_with_an_absolute_expiry(oauth_connected):
    stored = OAuthConnection.objects.get(integration=oauth_connected)
    assert stored.access_token.startswith("sbx-at-") and stored.refresh_token.startswith("sbx-rt-")
    assert stored.expires_at > timezone.now() + timedelta(minutes=10)
    with db_connection.cursor() as cursor:
        cursor.execute(
            "SELECT access_token, refresh_token FROM integrations_oauthconnection WHERE id = %s",
            [stored.pk],
        )
        raw = cursor.fetchone()
    assert not any(value.startswith("sbx-") for value in raw)  # ciphertext at rest


def test_a_token_about_to_expire_is_refreshed_and_the_rotated_refresh_token_kept(oauth_connected):
    before = OAuthConnection.objects.get(integration=oauth_connected)
    OAuthConnection.objects.filter(pk=before.pk).update(
        expires_at=timezone.now() + timedelta(minutes=1)
    )
    token = oauth.StoredTokens(oauth_connected).access_token()
    after = OAuthConnection.objects.get(pk=before.pk)
    assert token == after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token
    assert after.last_refreshed_at is not None
    # The old refresh token was rotated out: the platform no longer accepts it.
    assert SandboxOAuthToken.objects.get(refresh_token=before.refresh_token).refresh_revoked


def test_two_workers_refreshing_at_once_make_one_refresh_and_share_its_token(oauth_connected):
    stale = OAuthConnection.objects.get(integration=oauth_connected).access_token
    barrier = threading.Barrier(2)
    seen, errors = [], []

    def worker():
        try:
            barrier.wait()
            seen.append(oauth.refresh(oauth_connected, stale_token=stale).access_token)
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            db_connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(set(seen)) == 1 and seen[0] != stale
    assert SandboxOAuthToken.objects.filter(platform=SLUG).count() == 2  # connect + one refresh
    live = SandboxOAuthToken.objects.filter(platform=SLUG, refresh_revoked=False)
    assert live.count() == 1
    assert (
        live.get().access_token
        == OAuthConnection.objects.get(integration=oauth_connected).access_token
    )


def test_a_revoked_refresh_token_needs_attention_and_pauses_scheduled_syncs(oauth_connected):
    SandboxOAuthToken.objects.filter(platform=SLUG).update(refresh_revoked=True)
    OAuthConnection.objects.filter(integration=oauth_connected).update(expires_at=timezone.now())
    with pytest.raises(AuthError) as refused:
        oauth.StoredTokens(oauth_connected).access_token()
    assert "invalid_grant" in refused.value.message
    oauth_connected.refresh_from_db()
    assert oauth_connected.status == IntegrationStatus.NEEDS_ATTENTION
    assert "Reconnect" in oauth_connected.last_error
    stored = OAuthConnection.objects.get(integration=oauth_connected)
    assert stored.refresh_failures == 1 and "invalid_grant" in stored.last_refresh_error
    assert tasks.scheduled_sync(oauth_connected.pk) == "skipped: integration is needs attention"


def test_the_scheduled_task_refreshes_tokens_expiring_before_its_next_run(
    oauth_connected, settings
):
    settings.SANDBOX_OAUTH_ACCESS_TTL = 3600
    OAuthConnection.objects.filter(integration=oauth_connected).update(
        expires_at=timezone.now() + timedelta(minutes=12)
    )
    assert tasks.refresh_oauth_tokens() == {"refreshed": 1, "failed": 0}
    assert OAuthConnection.objects.get(
        integration=oauth_connected
    ).expires_at > timezone.now() + timedelta(minutes=10)
    assert tasks.refresh_oauth_tokens() == {"refreshed": 0, "failed": 0}


def test_a_real_platform_needs_its_client_configured(oauth_platform, make_integration, settings):
    settings.OAUTH_CLIENTS = {}
    integration = make_integration(SLUG, credentials={}, mappings=[])
    with pytest.raises(Exception) as missing:
        oauth.endpoints(integration)
    assert "OAUTH_OAUTHTEST_CLIENT_ID" in str(missing.value)
    settings.OAUTH_CLIENTS = {
        SLUG: {"client_id": "app-id-not-real", "client_secret": "app-secret-not-real"}
    }
    ends = oauth.endpoints(integration)
    assert (ends.token_url, ends.client_id) == (
        "https://auth.example.test/token",
        "app-id-not-real",
    )


def test_an_access_token_is_kept_out_of_errors_and_logs(oauth_connected, caplog):
    import logging

    import responses

    from integrations.platforms.errors import ValidationFailed

    token = OAuthConnection.objects.get(integration=oauth_connected).access_token
    caplog.set_level(logging.DEBUG)
    client = oauth_connected.client()
    with responses.RequestsMock() as rsps:
        rsps.add_passthru(oauth_connected.api_base_url.split("/sandbox")[0])
        rsps.get(
            f"{client.base_url('api')}/echo",
            status=400,
            json={"message": f"bad request for token {token}"},
        )
        with pytest.raises(ValidationFailed) as failed:
            client.request("GET", "api", "/echo")
    assert token not in failed.value.message and "[redacted]" in failed.value.message
    assert token not in caplog.text


def test_a_client_reads_its_oauth_connection_once_not_per_call(oauth_connected):
    import responses
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    client = oauth_connected.client()
    with responses.RequestsMock() as rsps, CaptureQueriesContext(db) as queries:
        rsps.get(f"{client.base_url('api')}/things", json={})
        for _ in range(3):
            client.request("GET", "api", "/things")
        sent = [call.request.headers["Authorization"] for call in rsps.calls]
    reads = [q for q in queries.captured_queries if "oauthconnection" in q["sql"].lower()]
    assert len(reads) == 1
    token = OAuthConnection.objects.get(integration=oauth_connected).access_token
    assert sent == [f"Bearer {token}"] * 3
