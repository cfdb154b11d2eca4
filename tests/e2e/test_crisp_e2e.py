"""Crisp end to end: the console's services against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

from audience.models import SubscriberStatus
from integrations.models import (
    ApiCall,
    Outcome,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import emulation
from integrations.sandbox.models import SandboxContact
from integrations.services import connection
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "crisp"
ACCOUNT = "sbx-website-1"
CREDENTIALS = {
    "identifier": "sandbox-crisp-plugin-identifier",
    "key": "sandbox-crisp-plugin-key",
    "website_id": "sbx-website-1",
}
MAPPINGS = (
    *get_platform(SLUG).suggested_mappings,
    ("attributes.interest", "interest", "", False),
    ("attributes.interest", "segments", "", False),
)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def test_wrong_key_and_wrong_website(make_integration, base_url, e2e_clock):
    wrong = make_integration(
        SLUG, base_url=base_url, name="wrong key", credentials={**CREDENTIALS, "key": "nope-1"}
    )
    report = connection.test_connection(wrong)
    assert report.ok is False
    assert "refused the plugin token" in report.detail
    assert "nope-1" not in str(report.as_dict())

    elsewhere = make_integration(
        SLUG,
        base_url=base_url,
        name="other website",
        credentials={**CREDENTIALS, "website_id": "other-site"},
    )
    report = connection.test_connection(elsewhere)
    assert report.ok is False
    assert "installed the plugin" in report.detail


def test_read_only_token_is_refused(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    credentials = {
        **CREDENTIALS,
        "identifier": "sandbox-crisp-readonly-identifier",
        "key": "sandbox-crisp-readonly-key",
    }
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False and report.can_write is False
    assert "may not write people" in report.detail
    make_subscribers(3, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 3
    assert not SandboxContact.objects.exists()


def test_unsubscribing_reaches_crisp(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    leaving = subscribers[1]
    leaving.status = SubscriberStatus.UNSUBSCRIBED
    leaving.save()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED
    assert run.updated == 1
    assert stored()[leaving.email.lower()]["subscribed"] is False


def test_unsubscribed_in_crisp_stays_pending_and_is_retried(
    integration, make_subscribers, run_sync
):
    subscribers = make_subscribers(4, unsubscribed=())
    run_sync(integration)
    opted_out = subscribers[2]
    row = SandboxContact.objects.get(platform=SLUG, identifier=opted_out.email.lower())
    row.attributes = {**row.attributes, "subscribed": False}
    row.save()
    opted_out.first_name = "Renamed"
    opted_out.save()

    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert run.rejected_compliance == 1
    [record] = run.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        opted_out.pk,
        Outcome.REJECTED_COMPLIANCE,
        "unsubscribed",
    )
    assert "does not resubscribe" in record.hint
    assert states(integration)[opted_out.pk] == SyncStateStatus.PENDING
    assert stored()[opted_out.email.lower()]["subscribed"] is False  # not flipped back

    again = run_sync(integration)
    assert again.rejected_compliance == 1

    row.refresh_from_db()
    row.attributes = {**row.attributes, "subscribed": True}
    row.save()
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert after.updated == 1
    assert states(integration)[opted_out.pk] == SyncStateStatus.SYNCED
    assert stored()[opted_out.email.lower()]["person"]["nickname"].startswith("Renamed")


def test_spent_quota_holds_off_and_loses_nothing(
    integration, make_subscribers, run_sync, settings, e2e_clock
):
    settings.PLATFORM_MAX_RETRY_AFTER = 5
    make_subscribers(4, unsubscribed=())
    # Spend the plugin's quota for the day: Crisp answers 429 with no Retry-After.
    for _ in range(5000):
        emulation.over_limit(f"{SLUG}:{CREDENTIALS['identifier']}:quota", 5000, 86_400.0)
    run = run_sync(integration)
    assert run.throttled == 4
    assert any("daily quota" in w for w in run.warnings)
    assert not stored()
    calls = ApiCall.objects.filter(integration=integration).count()

    # Within the hour nothing is sent: the quota is spent.
    meanwhile = run_sync(integration)
    assert meanwhile.throttled == 4
    assert ApiCall.objects.filter(integration=integration).count() == calls

    e2e_clock.sleep(86_400)  # the next day
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert after.created == 4
