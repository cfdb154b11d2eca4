"""Customer.io end to end: the console's services against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

from audience.models import SubscriberStatus
from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts
from integrations.sandbox.models import SandboxContact
from integrations.services import connection
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "customerio"
ACCOUNT = "sandbox-site-us"
US_CREDENTIALS = {
    "site_id": "sandbox-site-us",
    "track_api_key": "sandbox-track-key-us",
    "app_api_key": "sandbox-app-key-us",
}
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def test_eu_workspace(make_integration, base_url, e2e_clock):
    eu = next(a for a in accounts.accounts_for(SLUG) if a.region == "eu")
    integration = make_integration(SLUG, base_url=base_url, region="eu", credentials=eu.credentials)
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert report.account == "SharpSend EU workspace"
    assert report.region == "eu"
    calls = set(ApiCall.objects.filter(integration=integration).values_list("surface", "ok"))
    assert calls == {("track", True), ("app", True)}


def test_unsubscribing_a_synced_reader_is_sent(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    run_sync(integration)
    leaving = subscribers[0]
    leaving.status = SubscriberStatus.UNSUBSCRIBED
    leaving.save()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED
    assert run.updated == 1
    assert run.excluded == 2  # the two never synced stay out
    assert stored()[leaving.email]["unsubscribed"] is True


def test_full_mode_sends_everyone_again(integration, make_subscribers, run_sync):
    make_subscribers()
    run_sync(integration)
    run = run_sync(integration, mode="full")
    assert run.status == SyncStatus.SUCCEEDED
    assert run.updated == SUBSCRIBED
    assert run.unchanged == 0


def test_wrong_track_key(make_integration, base_url, e2e_clock, run_sync, make_subscribers):
    credentials = {**US_CREDENTIALS, "track_api_key": "wrong-track-key"}
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the Site ID and Track API key" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert integration.last_error == report.detail
    assert "wrong-track-key" not in str(integration.connection_report)

    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 5
    assert "wrong-track-key" not in run.error
    assert not stored()


def test_wrong_app_key(make_integration, base_url, e2e_clock):
    credentials = {**US_CREDENTIALS, "app_api_key": "wrong-app-key"}
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "App API key" in report.detail
    assert "wrong-app-key" not in report.detail


@pytest.mark.parametrize(
    ("region", "account", "right"),
    [("eu", "sandbox-site-us", "US"), ("us", "sandbox-site-eu", "EU")],
    ids=["us-workspace-set-to-eu", "eu-workspace-set-to-us"],
)
def test_wrong_region_names_the_right_one(
    make_integration, base_url, e2e_clock, region, account, right
):
    credentials = next(a for a in accounts.accounts_for(SLUG) if a.account == account).credentials
    integration = make_integration(SLUG, base_url=base_url, region=region, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.region == right.lower()
    assert f"{right} region" in report.detail
    assert f"Choose {right}" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert integration.last_error == report.detail


def test_suppressed_person_stays_pending(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    gone = subscribers[3]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=gone.email, attributes={}, suppressed=True
    )

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert first.created == SUBSCRIBED - 1
    assert first.rejected_compliance == 1
    record = first.records.get(outcome=Outcome.REJECTED_COMPLIANCE)
    assert record.subscriber_id == gone.pk
    assert record.code == "suppressed"
    assert record.hint
    assert states(integration)[gone.pk] == SyncStateStatus.PENDING
    assert stored()[gone.email] == {}  # the platform kept nothing of it
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    assert "partial" in integration.last_error

    # Unchanged, but still pending: sent again, and refused again.
    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    SandboxContact.objects.filter(identifier=gone.email).update(suppressed=False)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert states(integration)[gone.pk] == SyncStateStatus.SYNCED
    assert stored()[gone.email]["first_name"] == gone.first_name


def test_calls_are_metered_by_the_feature_that_made_them(integration, make_subscribers, run_sync):
    make_subscribers()
    connection.test_connection(integration)
    run_sync(integration)
    by_feature = set(
        ApiCall.objects.filter(integration=integration).values_list("feature", "surface")
    )
    assert by_feature == {("connection", "track"), ("connection", "app"), ("sync", "track")}


def test_engagement_written_back_reaches_the_profile_in_a_changed_only_sync(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    from datetime import UTC, datetime

    from audience.engagement import Observed, record

    integration = make_integration(
        SLUG,
        base_url=base_url,
        mappings=(
            *get_platform(SLUG).suggested_mappings,
            ("engagement_score", "engagement_score", "", False),
            ("open_rate", "open_rate", "", False),
        ),
    )
    readers = make_subscribers()
    run_sync(integration)
    reader = readers[5]
    at = datetime(2026, 12, 1, 9, tzinfo=UTC)
    record(
        integration,
        [
            Observed(reader.email, "delivered", at, "d1", remote_campaign_id="bc-1"),
            Observed(reader.email, "opened", at, "o1", remote_campaign_id="bc-1"),
        ],
        source="webhook",
    )
    run = run_sync(integration)
    assert (run.created, run.updated) == (0, 1)  # only the reader whose engagement moved
    profile = stored()[reader.email]
    assert (profile["engagement_score"], profile["open_rate"]) == (60, 1.0)
