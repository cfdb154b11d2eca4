"""Braze end to end: the console's services against the sandbox over real HTTP."""

from __future__ import annotations

import pytest

from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox.models import SandboxContact
from integrations.services import connection
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "braze"
ACCOUNT = "sandbox-braze-workspace-us"
US_KEY = "sandbox-braze-rest-key-us01"
RESTRICTED_KEY = "sandbox-braze-restricted-key-us01"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed


def stored(account: str = ACCOUNT) -> dict[str, dict]:
    rows = SandboxContact.objects.filter(platform=SLUG, account=account)
    return {row.identifier: row.attributes for row in rows}


def tracks(integration, **filters) -> int:
    return ApiCall.objects.filter(integration=integration, path="/users/track", **filters).count()


def test_restricted_key_is_refused(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(SLUG, base_url=base_url, credentials={"api_key": RESTRICTED_KEY})
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.can_write is False
    assert "users.track" in report.detail
    assert "users.export.ids" in report.detail
    assert report.permissions["list_segments"] is True
    assert report.permissions["upsert_contacts"] is False
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR

    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 5
    assert RESTRICTED_KEY not in run.error
    assert not SandboxContact.objects.exists()


def test_wrong_key(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG, base_url=base_url, credentials={"api_key": "wrong-key-123"}
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the REST API key on every instance" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "wrong-key-123" not in str(integration.connection_report)
    # Every published instance was asked once.
    assert ApiCall.objects.filter(integration=integration).count() == 12


def test_wrong_instance_names_the_right_one(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG,
        base_url=base_url,
        region="us-01",
        credentials={"api_key": "sandbox-braze-rest-key-eu01"},
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.region == "eu-01"
    assert "Choose EU-01" in report.detail
    assert "dashboard-01.braze.eu" in report.detail


def test_list_fields_reads_what_was_written(integration, make_subscribers, run_sync):
    make_subscribers(6, unsubscribed=())
    run_sync(integration)
    fields = {f.key: f.type for f in integration.client().list_fields()}
    assert fields["email_subscribe"] == "string"
    assert fields["interest"] == "string"
    assert fields["sharpsend_signup_date"] == "date"


def test_mau_contract_sends_fifty_a_call(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(
        SLUG,
        base_url=base_url,
        region="us-03",
        credentials={"api_key": "sandbox-braze-rest-key-mau", "objects_per_request": "50"},
        mappings=MAPPINGS,
    )
    make_subscribers(80, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 80
    # Chunks of 75 (the sync's batch), each sent as calls of at most 50 objects.
    assert tracks(integration) == 3
    assert tracks(integration, status_code=400) == 0
    assert len(stored("sandbox-braze-mau-workspace")) == 80


def test_mau_contract_without_the_setting_is_refused_per_batch(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(
        SLUG,
        base_url=base_url,
        region="us-03",
        credentials={"api_key": "sandbox-braze-rest-key-mau"},
        mappings=MAPPINGS,
    )
    make_subscribers(60, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert run.rejected_data == 60
    assert set(run.records.values_list("code", flat=True)) == {"400"}
    assert "Max Input Length Exceeded" in run.records.first().message


def test_blocklisted_user_stays_pending_and_is_retried(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    blocked = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=blocked.email.lower(), attributes={},
        suppressed=True,
    )  # fmt: skip

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert first.created == SUBSCRIBED - 1
    assert first.rejected_compliance == 1
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome, record.code) == (
        blocked.pk,
        Outcome.REJECTED_COMPLIANCE,
        "blocklisted",
    )
    assert "blacklisted" in record.message
    assert states(integration)[blocked.pk] == SyncStateStatus.PENDING
    assert stored()[blocked.email.lower()] == {}

    second = run_sync(integration)
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (blocked.pk, Outcome.REJECTED_COMPLIANCE)
    ]
    assert second.api_calls == 1

    SandboxContact.objects.filter(identifier=blocked.email.lower()).update(suppressed=False)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert states(integration)[blocked.pk] == SyncStateStatus.SYNCED
    assert stored()[blocked.email.lower()]["first_name"] == blocked.first_name


def test_export_then_delete(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    email = subscribers[0].email

    exported = client.export_contact(email)
    [user] = exported["users"]
    assert user["email"] == email
    assert user["first_name"] == subscribers[0].first_name
    assert user["custom_attributes"]["interest"] == "growth"

    client.delete_contact(email)
    assert email.lower() not in stored()
    assert len(stored()) == 2
    assert client.export_contact(email)["users"] == []
