"""Drift end to end: connected through the sandbox's OAuth server, synced over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import ApiCall, IntegrationStatus, Outcome, SyncStateStatus, SyncStatus
from integrations.platforms.errors import UnsupportedCapability
from integrations.sandbox import registry, store
from integrations.sandbox.models import SandboxContact, SandboxOAuthToken
from integrations.services import connection, oauth
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "drift"
ACCOUNT = "sandbox-drift-org"
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed


@pytest.fixture
def integration(oauth_integration, base_url, e2e_clock):
    registry.seed(SLUG)
    return oauth_integration(SLUG, base_url=base_url)


def stored() -> dict[str, dict]:
    rows = SandboxContact.objects.filter(platform=SLUG, account=ACCOUNT)
    return {row.attributes["email"].lower(): row.attributes for row in rows}


def connected_as(make_integration, base_url, account, name):
    """An integration holding a token of another sandbox org (its grant has other scopes)."""
    integration = make_integration(SLUG, base_url=base_url, credentials={}, name=name)
    SandboxOAuthToken.objects.create(
        platform=SLUG,
        account=account,
        access_token=f"sbx-at-{account}",
        refresh_token=f"sbx-rt-{account}",
        access_expires_at=timezone.now() + timedelta(hours=1),
    )
    oauth.save_connection(
        integration,
        {"access_token": f"sbx-at-{account}", "refresh_token": f"sbx-rt-{account}",
         "expires_in": 3600},
    )  # fmt: skip
    return integration


def test_connection_refused_without_a_connection(make_integration, base_url, e2e_clock):
    integration = make_integration(SLUG, base_url=base_url, credentials={})
    report = connection.test_connection(integration)
    assert report.ok is False and "Connect with Drift" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


def test_a_grant_without_contact_write_is_refused(make_integration, base_url, e2e_clock):
    integration = connected_as(make_integration, base_url, "sandbox-drift-readonly", "ro")
    report = connection.test_connection(integration)
    assert report.ok is False and report.can_write is False
    assert "contact_write" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


def test_a_grant_without_the_elevated_scope_still_syncs(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = connected_as(make_integration, base_url, "sandbox-drift-basic", "basic")
    report = connection.test_connection(integration)
    assert report.ok is True and report.permissions["list_fields"] is False
    fields = [f.key for f in integration.client().list_fields()]
    assert fields[:2] == ["email", "name"]  # the standard attributes only
    make_subscribers(4, unsubscribed=())
    run = run_sync(integration)
    assert (run.status, run.created) == (SyncStatus.SUCCEEDED, 4)


def test_a_refused_contact_stays_pending_and_is_sent_again(
    integration, make_subscribers, run_sync, monkeypatch
):
    # Drift documents no compliance refusal; its refusals are data ones (validation_error).
    subscribers = make_subscribers()
    refused = subscribers[4].email
    accepts = store.looks_like_email
    monkeypatch.setattr(
        store, "looks_like_email", lambda value: accepts(value) and value != refused
    )

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_data) == (SUBSCRIBED - 1, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        subscribers[4].pk,
        Outcome.REJECTED_DATA,
        "validation_error",
    )
    assert "valid email" in record.message
    assert states(integration)[subscribers[4].pk] == SyncStateStatus.PENDING

    monkeypatch.setattr(store, "looks_like_email", accepts)
    second = run_sync(integration)
    assert second.status == SyncStatus.SUCCEEDED
    assert (second.created, second.unchanged) == (1, SUBSCRIBED - 1)
    assert refused.lower() in stored()


def test_an_expired_token_is_refreshed_during_a_sync(integration, make_subscribers, run_sync):
    from integrations.models import OAuthConnection

    make_subscribers(3, unsubscribed=())
    before = OAuthConnection.objects.get(integration=integration)
    OAuthConnection.objects.filter(pk=before.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    run = run_sync(integration)
    assert (run.status, run.created) == (SyncStatus.SUCCEEDED, 3)
    after = OAuthConnection.objects.get(integration=integration)
    assert after.refresh_token != before.refresh_token


def test_no_segments_and_no_gdpr_calls(integration):
    client = integration.client()
    for call in (client.list_segments, lambda: client.delete_contact("a@example.com")):
        with pytest.raises(UnsupportedCapability):
            call()
    assert not ApiCall.objects.filter(integration=integration).exists()
