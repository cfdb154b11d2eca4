"""Mailchimp end to end: the console's services against the sandbox over real HTTP."""

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

SLUG = "mailchimp"
ACCOUNT = "sandbox-audience-us6"
KEY = "sandbox0mailchimp0key0000000000aa-us6"
KEY21 = "sandbox0mailchimp0key0000000000bb-us21"
VIEWER = "sandbox0mailchimp0viewer000000000cc-us6"
MAPPINGS = (
    *get_platform(SLUG).suggested_mappings,
    ("attributes.interest", "INTEREST", "", False),
    ("created_at", "timestamp_signup", "", False),
)

SUBSCRIBED = 28


@pytest.fixture
def integration(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)  # the audience's merge fields and segments
    return make_integration(SLUG, base_url=base_url, region="auto", mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def test_second_data_centre(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG, base_url=base_url, region="auto",
        credentials={"api_key": KEY21, "list_id": "sandbox21b"},
    )  # fmt: skip
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert report.region == "us21"
    assert ApiCall.objects.filter(integration=integration).count() == 2


def test_wrong_key_is_refused(make_integration, base_url, e2e_clock):
    credentials = {"api_key": "wrongwrongwrong-us6", "list_id": "sandbox6a"}
    integration = make_integration(SLUG, base_url=base_url, credentials=credentials)
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the API key" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "wrongwrongwrong" not in str(integration.connection_report)


def test_data_centre_set_wrong_names_the_right_one(make_integration, base_url, e2e_clock):
    integration = make_integration(SLUG, base_url=base_url, region="us21")
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.region == "us6"
    assert "Choose us6" in report.detail


def test_viewer_is_refused_and_cannot_sync(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    registry.seed(SLUG)
    integration = make_integration(
        SLUG, base_url=base_url, credentials={"api_key": VIEWER, "list_id": "sandbox6a"}
    )
    report = connection.test_connection(integration)
    assert report.ok is False and report.can_write is False
    assert "viewer role" in report.detail
    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 5
    assert VIEWER not in run.error
    assert not SandboxContact.objects.exists()


def test_unsubscribing_a_synced_reader_is_sent(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    run_sync(integration)
    leaving = subscribers[3]
    leaving.status = SubscriberStatus.UNSUBSCRIBED
    leaving.save()
    run = run_sync(integration)
    assert run.updated == 1
    assert stored()[leaving.email.lower()]["status"] == "unsubscribed"


def test_compliance_rejection_stays_pending_and_is_retried(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    held = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=held.email.lower(),
        attributes={"email_address": held.email, "status": "cleaned"}, suppressed=True,
    )  # fmt: skip

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_compliance) == (SUBSCRIBED - 1, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        held.pk,
        Outcome.REJECTED_COMPLIANCE,
        "ERROR_GENERIC",
    )
    assert "compliance state" in record.message
    assert "signup form" in record.hint
    assert states(integration)[held.pk] == SyncStateStatus.PENDING

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (held.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    # The reader re-subscribed through a Mailchimp form: the next run updates them.
    SandboxContact.objects.filter(identifier=held.email.lower()).update(
        suppressed=False, attributes={"email_address": held.email, "status": "subscribed"}
    )
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.updated == 1
    assert stored()[held.email.lower()]["merge_fields"]["FNAME"] == held.first_name
    assert states(integration)[held.pk] == SyncStateStatus.SYNCED


def test_keep_existing_leaves_members_untouched(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(5, unsubscribed=())
    there = subscribers[0]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=there.email.lower(),
        attributes={"email_address": there.email, "status": "subscribed",
                    "merge_fields": {"FNAME": "Kept"}},
    )  # fmt: skip
    integration.update_existing = False
    integration.save()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.created, run.unchanged) == (4, 1)
    assert stored()[there.email.lower()]["merge_fields"] == {"FNAME": "Kept"}


def test_export_then_permanent_delete(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    reader = subscribers[1]
    exported = client.export_contact(reader.email)
    assert exported["member"]["email_address"] == reader.email
    assert exported["member"]["merge_fields"]["FNAME"] == reader.first_name
    assert [t["name"] for t in exported["tags"]] == ["All readers"]
    client.delete_contact(reader.email)
    assert client.export_contact(reader.email) == {}
    client.delete_contact(reader.email)  # gone already: no error
    row = SandboxContact.objects.get(identifier=reader.email.lower())
    assert row.suppressed and row.attributes == {"permanently_deleted": True}
