"""Kit end to end: the console's services against the sandbox over real HTTP."""

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
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact
from integrations.services import connection
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "kit"
ACCOUNT = "sandbox-kit-creator"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28


@pytest.fixture
def integration(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)  # custom fields, tags, segment
    return make_integration(SLUG, base_url=base_url, mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def writes(integration, **filters) -> int:
    return ApiCall.objects.filter(
        integration=integration, path="/v4/subscribers", method="POST", **filters
    ).count()


def test_wrong_key_is_refused(make_integration, base_url, e2e_clock):
    integration = make_integration(SLUG, base_url=base_url, credentials={"api_key": "nope-123"})
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the API key" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "nope-123" not in str(integration.connection_report)


def test_unsubscribing_a_synced_reader_unsubscribes_them(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(5, unsubscribed=())
    run_sync(integration)
    leaving = subscribers[2]
    leaving.status = SubscriberStatus.UNSUBSCRIBED
    leaving.save()
    run = run_sync(integration)
    assert (run.updated, run.failed) == (1, 0)
    assert stored()[leaving.email.lower()]["state"] == "cancelled"
    assert (
        ApiCall.objects.filter(integration=integration, path__endswith="/unsubscribe").count() == 1
    )


def test_compliance_rejection_stays_pending_and_is_retried(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    gone = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=gone.email.lower(),
        attributes={"email_address": gone.email, "state": "cancelled", "fields": {}},
    )  # fmt: skip

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_compliance) == (SUBSCRIBED - 1, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        gone.pk,
        Outcome.REJECTED_COMPLIANCE,
        "cancelled",
    )
    assert states(integration)[gone.pk] == SyncStateStatus.PENDING
    assert stored()[gone.email.lower()]["state"] == "cancelled"  # Kit kept them unsubscribed

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    # The reader signed up again on a Kit form.
    row = SandboxContact.objects.get(identifier=gone.email.lower())
    row.attributes = {**row.attributes, "state": "active"}
    row.save()
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.updated == 1
    assert states(integration)[gone.pk] == SyncStateStatus.SYNCED


def test_client_keeps_to_the_key_rate_limit(integration, make_subscribers, run_sync, e2e_clock):
    make_subscribers(130, unsubscribed=())
    started = e2e_clock.now()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED
    assert run.created == 130
    assert writes(integration, status_code=429) == 0
    # 131 calls at 120 a minute, spaced on the shared fake clock.
    assert e2e_clock.now() - started >= 130 * 0.5 - 1e-6


def test_export(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    reader = subscribers[0]  # interest: growth
    exported = integration.client().export_contact(reader.email)
    assert exported["subscriber"]["email_address"] == reader.email
    assert exported["subscriber"]["fields"]["interest"] == "growth"
    assert [t["name"] for t in exported["tags"]] == ["Growth Investors"]
    assert integration.client().export_contact("nobody@example.com") == {}
