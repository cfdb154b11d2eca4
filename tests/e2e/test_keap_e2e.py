"""Keap end to end: connected through the sandbox's OAuth server, synced over real HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import (
    ApiCall,
    IntegrationStatus,
    OAuthConnection,
    Outcome,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import keap as emulator
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact, SandboxOAuthToken
from integrations.services import connection
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "keap"
ACCOUNT = "sandbox-keap-app"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed


@pytest.fixture
def integration(oauth_integration, base_url, e2e_clock):
    registry.seed(SLUG)  # the custom fields (interest …) and tags
    return oauth_integration(SLUG, base_url=base_url, mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    rows = SandboxContact.objects.filter(platform=SLUG, account=ACCOUNT)
    return {row.attributes.get("email", "").lower(): row.attributes for row in rows}


def test_connection_refused_without_a_connection(make_integration, base_url, e2e_clock):
    integration = make_integration(SLUG, base_url=base_url, credentials={})
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "Connect with Keap" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


def test_connection_refused_when_the_app_was_disconnected(integration):
    SandboxOAuthToken.objects.filter(platform=SLUG).delete()  # access and refresh revoked
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "reconnect" in report.detail.lower()
    token = OAuthConnection.objects.get(integration=integration)
    assert token.access_token not in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert token.refresh_failures == 1


def test_an_unsubscribed_address_stays_pending_until_the_reader_opts_in(
    integration, make_subscribers, run_sync
):
    subscribers = make_subscribers()
    gone = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG,
        account=ACCOUNT,
        identifier="5000",
        attributes={"email": gone.email.lower(), "email_status": "LIST_UNSUBSCRIBE"},
    )

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.updated, first.rejected_compliance) == (SUBSCRIBED - 1, 0, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        gone.pk,
        Outcome.REJECTED_COMPLIANCE,
        "LIST_UNSUBSCRIBE",
    )
    assert "Keap form" in record.hint
    assert states(integration)[gone.pk] == SyncStateStatus.PENDING
    # The contact was matched by email (not duplicated) and its data written.
    row = SandboxContact.objects.get(platform=SLUG, identifier="5000")
    assert row.attributes["given_name"] == gone.first_name
    assert row.attributes["email_status"] == "LIST_UNSUBSCRIBE"

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    emulator.set_email_status(ACCOUNT, gone.email, "DOUBLE_OPT_IN")  # opted in on a Keap form
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.updated == 1
    assert states(integration)[gone.pk] == SyncStateStatus.SYNCED


def test_an_unsubscribe_opts_the_address_out_and_back_in(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(5, unsubscribed=())
    run_sync(integration)
    reader = subscribers[2]
    reader.status = "unsubscribed"
    reader.save()
    out = run_sync(integration)
    assert (out.status, out.updated) == (SyncStatus.SUCCEEDED, 1)
    assert stored()[reader.email.lower()]["email_status"] == "MANUAL"  # "Opt-Out: Manual"

    reader.status = "subscribed"
    reader.save()
    back = run_sync(integration)
    assert (back.status, back.updated) == (SyncStatus.SUCCEEDED, 1)
    assert stored()[reader.email.lower()]["email_status"] == "SINGLE_OPT_IN"


def test_an_expired_token_is_refreshed_with_basic_auth_during_a_sync(
    integration, make_subscribers, run_sync
):
    make_subscribers(5, unsubscribed=())
    before = OAuthConnection.objects.get(integration=integration)
    OAuthConnection.objects.filter(pk=before.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 5
    after = OAuthConnection.objects.get(integration=integration)
    assert after.access_token != before.access_token
    assert after.refresh_token != before.refresh_token  # Keap rotates refresh tokens
    assert SandboxOAuthToken.objects.get(refresh_token=before.refresh_token).refresh_revoked


def test_quota_headers_pace_the_sync_without_429s(
    integration, make_subscribers, run_sync, monkeypatch, e2e_clock
):
    monkeypatch.setattr(emulator.auth, "THROTTLE", (10, 60.0))  # a tiny minute allowance
    make_subscribers()
    started = e2e_clock.now()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == SUBSCRIBED
    assert ApiCall.objects.filter(integration=integration, status_code=429).count() == 0
    # 29 calls at 10 a minute: the client held off (on the fake clock) when the headers said
    # the minute was spent.
    assert e2e_clock.now() - started >= 2 * 60


def test_export_and_delete_a_reader(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    email = subscribers[0].email
    exported = client.export_contact(email)
    [one] = exported["contacts"]
    assert one["given_name"] == subscribers[0].first_name
    assert {t["tag"]["name"] for t in one["tags"]} == {"Growth Investors", "All readers"}
    assert exported["email_status"]["status"] == "SINGLE_OPT_IN"

    client.delete_contact(email)
    assert email.lower() not in stored()
    assert len(stored()) == 2
    client.delete_contact(email)  # already gone: nothing to do
