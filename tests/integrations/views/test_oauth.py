"""The OAuth screens: connect in the wizard, reconnect, and states that must be refused."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.contrib.auth.models import User
from django.urls import reverse

from integrations.models import Integration, IntegrationStatus, OAuthConnection
from tests.integrations.oauth_fixtures import SLUG

pytestmark = pytest.mark.django_db(transaction=True)
PREFIX = "integration_wizard_new"


def consent(authorize_url: str) -> str:
    """Press Allow on the sandbox's consent page; return our callback URL it redirects to."""
    answer = requests.post(authorize_url, data={"decision": "allow"}, allow_redirects=False)
    assert answer.status_code == 302
    return answer.headers["Location"]


def start_wizard_connect(client, sandbox_url) -> str:
    client.post(
        reverse("integrations:connect"),
        {f"{PREFIX}-current_step": "platform", "platform-platform": SLUG},
    )
    response = client.post(
        reverse("integrations:connect"),
        {
            f"{PREFIX}-current_step": "credentials",
            "credentials-name": "CRM via OAuth",
            "credentials-region": "us",
            "credentials-api_base_url": f"{sandbox_url}/{SLUG}",
            "oauth_connect": "1",
        },
    )
    assert response.status_code == 302, response.content[:500]
    assert response["Location"].startswith(f"{sandbox_url}/oauth/{SLUG}/authorize?")
    return response["Location"]


def local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


def test_the_wizard_connects_through_the_consent_screen_and_keeps_the_token_until_saved(
    oauth_platform, admin_client, sandbox_url
):
    callback = consent(start_wizard_connect(admin_client, sandbox_url))
    assert urlsplit(callback).path == reverse("integrations:oauth-callback")
    back = admin_client.get(local(callback))
    assert back.status_code == 302 and back["Location"].startswith(reverse("integrations:connect"))
    page = admin_client.get(back["Location"])
    assert b"granted access" in page.content
    assert not OAuthConnection.objects.exists()  # nothing stored before the last step
    session = str(dict(admin_client.session.items()))
    assert "sbx-at-" not in session and "sbx-rt-" not in session  # encrypted in the session
    # The credentials step now passes without any API key, and the token is what is tested.
    response = admin_client.post(
        reverse("integrations:connect"),
        {
            f"{PREFIX}-current_step": "credentials",
            "credentials-name": "CRM via OAuth",
            "credentials-region": "us",
            "credentials-api_base_url": f"{sandbox_url}/{SLUG}",
        },
    )
    assert b"<h2>Test connection</h2>" in response.content


def test_a_forged_state_is_refused(oauth_platform, admin_client):
    response = admin_client.get(
        reverse("integrations:oauth-callback"), {"state": "made-up", "code": "x"}
    )
    assert response.status_code == 400
    assert not OAuthConnection.objects.exists()


def test_a_replayed_state_is_refused(oauth_platform, admin_client, sandbox_url):
    callback = local(consent(start_wizard_connect(admin_client, sandbox_url)))
    assert admin_client.get(callback).status_code == 302
    assert admin_client.get(callback).status_code == 400


def test_another_users_state_is_refused(oauth_platform, admin_client, client, sandbox_url):
    callback = local(consent(start_wizard_connect(admin_client, sandbox_url)))
    other = User.objects.create_superuser("other", password="other-pw-123")
    client.force_login(other)
    assert client.get(callback).status_code == 400


def test_reconnect_renews_a_connection_that_needs_attention(oauth_connected, admin_client):
    Integration.objects.filter(pk=oauth_connected.pk).update(
        status=IntegrationStatus.NEEDS_ATTENTION, last_error="renew"
    )
    old = OAuthConnection.objects.get(integration=oauth_connected).access_token
    response = admin_client.post(reverse("integrations:reconnect", args=[oauth_connected.pk]))
    callback = local(consent(response["Location"]))
    assert parse_qs(urlsplit(callback).query)["code"]
    landed = admin_client.get(callback)
    assert landed["Location"] == reverse("integrations:integration", args=[oauth_connected.pk])
    oauth_connected.refresh_from_db()
    assert (
        oauth_connected.status == IntegrationStatus.CONNECTED and oauth_connected.last_error == ""
    )
    assert OAuthConnection.objects.get(integration=oauth_connected).access_token != old


def test_tokens_never_appear_in_pages(oauth_connected, admin_client):
    stored = OAuthConnection.objects.get(integration=oauth_connected)
    pages = [
        reverse("integrations:integration", args=[oauth_connected.pk]),
        reverse("admin:integrations_integration_change", args=[oauth_connected.pk]),
        reverse("admin:integrations_integration_changelist"),
    ]
    for url in pages:
        content = admin_client.get(url).content
        assert stored.access_token.encode() not in content
        assert stored.refresh_token.encode() not in content
    detail = admin_client.get(pages[0]).content
    assert b"access token expires" in detail and b"Reconnect with OAuth platform" in detail
