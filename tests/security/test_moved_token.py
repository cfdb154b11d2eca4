"""A stored OAuth token never goes to a new endpoint: moving the integration drops it."""

from __future__ import annotations

import pytest
from django.urls import reverse

from integrations.models import (
    AuditAction,
    AuditEntry,
    Integration,
    IntegrationStatus,
    OAuthConnection,
)
from integrations.platforms.types import ConnectionReport
from integrations.services import setup
from tests.integrations.oauth_fixtures import SLUG

pytestmark = pytest.mark.django_db
SANDBOX = "http://127.0.0.1:8000/sandbox"
PASSED = ConnectionReport(ok=True, can_write=True, account="acct-1", detail="ok")


@pytest.fixture
def connected(urls_loaded, oauth_platform, make_integration, settings):
    settings.SANDBOX_BASE_URL = SANDBOX
    integration = make_integration(
        SLUG,
        base_url=f"{SANDBOX}/{SLUG}",
        region="us",
        credentials={},
        mappings=[("email", "email", "", True)],
        status=IntegrationStatus.CONNECTED,
    )
    OAuthConnection.objects.create(
        integration=integration, access_token="stored-access", refresh_token="stored-refresh"
    )
    return integration


def admin_data(integration, **overrides):
    data = {
        "name": integration.name,
        "enabled": "on",
        "sync_frequency": integration.sync_frequency,
        "update_existing": "on",
        "region": integration.region,
        "api_base_url": integration.api_base_url,
        "field_mappings-TOTAL_FORMS": "0",
        "field_mappings-INITIAL_FORMS": "0",
        "field_mappings-MIN_NUM_FORMS": "0",
        "field_mappings-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_the_admin_keeps_the_token_while_the_endpoint_stays(admin_client, connected):
    url = reverse("admin:integrations_integration_change", args=[connected.pk])
    response = admin_client.post(url, admin_data(connected, sync_frequency="daily"))
    assert response.status_code == 302
    assert OAuthConnection.objects.filter(integration=connected).exists()


def test_moving_in_the_admin_drops_the_token_and_asks_to_reconnect(
    admin_client, admin_user, connected
):
    url = reverse("admin:integrations_integration_change", args=[connected.pk])
    response = admin_client.post(url, admin_data(connected, api_base_url=""), follow=True)
    assert response.status_code == 200
    assert not OAuthConnection.objects.filter(integration=connected).exists()
    connected.refresh_from_db()
    assert connected.api_base_url == ""
    assert connected.status == IntegrationStatus.NEEDS_ATTENTION
    assert "reconnect" in connected.last_error.lower()
    assert any("reconnect" in str(m) for m in response.context["messages"])
    page = admin_client.get(reverse("integrations:integration", args=[connected.pk]))
    assert b"Reconnect with OAuth platform" in page.content
    assert b"never sent to another host" in page.content
    entry = AuditEntry.objects.get(action=AuditAction.OAUTH_DISCONNECTED)
    assert (entry.actor, entry.target_id) == (admin_user, str(connected.pk))


def test_the_wizard_asks_to_connect_again_when_the_endpoint_moves(admin_client, connected):
    prefix = f"integration_wizard_edit_{connected.pk}"
    url = reverse("integrations:edit", args=[connected.pk])
    admin_client.get(url)

    def credentials(base_url):
        return admin_client.post(
            url,
            {
                f"{prefix}-current_step": "credentials",
                "credentials-name": connected.name,
                "credentials-region": "us",
                "credentials-api_base_url": base_url,
            },
        )

    moved = credentials("")
    assert moved.status_code == 200
    assert b"connect with OAuth platform again" in moved.content
    assert OAuthConnection.objects.filter(integration=connected).exists()  # nothing saved yet
    kept = credentials(f"{SANDBOX}/{SLUG}")
    assert b"connect with OAuth platform again" not in kept.content


def test_a_moved_draft_is_tested_without_the_stored_token(connected):
    same = setup.Draft(
        platform=SLUG, name=connected.name, region="us", api_base_url=f"{SANDBOX}/{SLUG}"
    )
    assert same.integration(connected).pk == connected.pk  # reads the stored token
    moved = setup.Draft(platform=SLUG, name=connected.name, region="us", api_base_url="")
    assert moved.integration(connected).pk is None  # cannot read it


def test_saving_a_moved_wizard_draft_replaces_the_old_token(admin_user, connected):
    draft = setup.Draft(
        platform=SLUG,
        name=connected.name,
        region="us",
        api_base_url="",
        mappings=[{"source": "email", "target": "email", "is_identifier": True}],
        oauth_token={"access_token": "new-access", "refresh_token": "new-refresh"},
    )
    setup.save_integration(
        draft, Integration.objects.get(pk=connected.pk), report=PASSED, actor=admin_user
    )
    assert OAuthConnection.objects.get(integration=connected).access_token == "new-access"
    actions = list(AuditEntry.objects.order_by("id").values_list("action", flat=True))
    assert actions == [
        AuditAction.INTEGRATION_CHANGED,
        AuditAction.OAUTH_DISCONNECTED,
        AuditAction.OAUTH_CONNECTED,
    ]


def test_saving_a_moved_draft_without_a_token_drops_the_stored_one(connected):
    draft = setup.Draft(
        platform=SLUG,
        name=connected.name,
        region="us",
        api_base_url="",
        mappings=[{"source": "email", "target": "email", "is_identifier": True}],
    )
    setup.save_integration(draft, Integration.objects.get(pk=connected.pk), report=PASSED)
    assert not OAuthConnection.objects.filter(integration=connected).exists()


def test_a_token_from_the_consent_screen_is_dropped_when_the_wizard_moves(
    admin_client, oauth_platform, settings, monkeypatch
):
    import orjson

    from integrations.services import connection
    from integrations.views.storage import encrypt

    settings.SANDBOX_BASE_URL = SANDBOX
    tested = []
    monkeypatch.setattr(
        connection, "judge_connection", lambda integration: tested.append(integration) or PASSED
    )
    prefix = "integration_wizard_new"
    url = reverse("integrations:connect")
    admin_client.post(url, {f"{prefix}-current_step": "platform", "platform-platform": SLUG})
    token = {"access_token": "consented", "for_endpoint": [f"{SANDBOX}/{SLUG}", "us"]}
    session = admin_client.session
    session["oauth_tokens"] = {prefix: encrypt(orjson.dumps(token).decode())}
    session.save()

    def credentials(base_url):
        return admin_client.post(
            url,
            {
                f"{prefix}-current_step": "credentials",
                "credentials-name": "Consented",
                "credentials-region": "us",
                "credentials-api_base_url": base_url,
            },
        )

    moved = credentials("")
    assert b"connect with OAuth platform again" in moved.content
    assert tested == []
    kept = credentials(f"{SANDBOX}/{SLUG}")
    assert b"connect with OAuth platform again" not in kept.content
    assert tested and tested[-1].token_source.connection.access_token == "consented"
