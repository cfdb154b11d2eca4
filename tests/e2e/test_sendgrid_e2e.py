"""SendGrid end to end: the console's services against the sandbox over real HTTP, the
asynchronous upsert job included (submitted, checkpointed, polled, its errors file read)."""

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
from integrations.platforms.sendgrid import SendGridClient
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact
from integrations.sandbox.sendgrid import ALL_READERS
from integrations.services import connection, sync
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "sendgrid"
ACCOUNT = "sandbox-sendgrid-global"
KEY = "SG.sandbox-sendgrid-full-key"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed
CONTACTS = "/v3/marketing/contacts"


@pytest.fixture
def integration(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)
    return make_integration(SLUG, base_url=base_url, mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def calls(integration, method="PUT", **filters) -> int:
    """API calls of one method; to the contacts path unless another path filter is given."""
    if not any(name.startswith("path") for name in filters):
        filters["path"] = CONTACTS
    return ApiCall.objects.filter(integration=integration, method=method, **filters).count()


@pytest.mark.parametrize(
    ("key", "words"),
    [
        ("SG.sandbox-sendgrid-readonly-key", "may not write contacts"),
        ("SG.sandbox-sendgrid-mail-only-key", "no Marketing access"),
    ],
    ids=["read-only", "mail-only"],
)
def test_restricted_keys_are_refused(make_integration, base_url, e2e_clock, key, words):
    registry.seed(SLUG)
    integration = make_integration(SLUG, base_url=base_url, credentials={"api_key": key})
    report = connection.test_connection(integration)
    assert report.ok is False and report.can_write is False
    assert words in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR


def test_wrong_key_and_wrong_host(make_integration, base_url, e2e_clock):
    wrong = make_integration(SLUG, base_url=base_url, credentials={"api_key": "SG.wrong-key-1"})
    report = connection.test_connection(wrong)
    assert report.ok is False and "refused the API key" in report.detail
    assert "SG.wrong-key-1" not in str(wrong.connection_report)

    eu_key = make_integration(
        SLUG,
        name="eu key",
        base_url=base_url,
        region="global",
        credentials={"api_key": "SG.sandbox-sendgrid-eu-key"},
    )
    report = connection.test_connection(eu_key)
    assert report.ok is False and report.region == "eu"
    assert "Choose EU" in report.detail


def test_suppressed_contact_stays_pending_and_is_retried(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()
    gone = subscribers[5]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=gone.email.lower(), suppressed=True
    )
    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_compliance) == (SUBSCRIBED - 1, 1)
    [record] = first.records.all()
    assert (record.subscriber_id, record.outcome) == (gone.pk, Outcome.REJECTED_COMPLIANCE)
    assert "suppressed" in record.message
    # The rejection came from the job's errors file, fetched without the key.
    assert calls(integration, "GET", path__endswith="/errors") == 1
    assert states(integration)[gone.pk] == SyncStateStatus.PENDING

    second = run_sync(integration)
    assert second.status == SyncStatus.PARTIAL
    assert second.unchanged == SUBSCRIBED - 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (gone.pk, Outcome.REJECTED_COMPLIANCE)
    ]

    SandboxContact.objects.filter(identifier=gone.email.lower()).update(suppressed=False)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert states(integration)[gone.pk] == SyncStateStatus.SYNCED


def test_invalid_email_is_rejected_alone(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(10, unsubscribed=())
    bad = subscribers[3]
    bad.email = "not-an-email"
    bad.save()
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_data) == (9, 1)
    [record] = run.records.all()
    assert record.subscriber_id == bad.pk
    assert "contacts[3].email" in record.message
    assert calls(integration) == 2  # refused with a 400 naming the contact, then resent
    assert len(stored()) == 9


class Killed(BaseException):
    """The worker dies (not an error the sync could catch and record)."""


def test_interrupted_job_is_resumed_by_polling(
    integration, make_subscribers, run_sync, monkeypatch
):
    make_subscribers()
    original = SendGridClient.collect_job

    def die(self, job, records):
        raise Killed

    monkeypatch.setattr(SendGridClient, "collect_job", die)
    run, _ = sync.start_sync(integration, "command")
    with pytest.raises(Killed):
        sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING
    assert run.job_state == "submitted"
    job_id = run.pending_job["job"]["job_id"]
    assert len(run.pending_job["records"]) == SUBSCRIBED
    run.status = SyncStatus.INTERRUPTED  # what mark_stale_runs does once the heartbeat is old
    run.save()

    monkeypatch.setattr(SendGridClient, "collect_job", original)
    resumed = run_sync(integration)
    assert resumed.resumed_from_id == run.pk
    assert resumed.status == SyncStatus.SUCCEEDED
    assert resumed.created == SUBSCRIBED
    assert calls(integration) == 1  # the job was not submitted again
    assert calls(integration, "GET", path=f"{CONTACTS}/imports/{job_id}") == 2
    assert set(states(integration).values()) == {SyncStateStatus.SYNCED}


def test_export_and_delete_a_contact(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    email = subscribers[1].email
    exported = client.export_contact(email)
    assert exported["found"] is True
    assert exported["contact"]["email"] == email.lower()
    assert exported["contact"]["list_ids"] == [ALL_READERS]
    client.delete_contact(email)
    assert email.lower() not in stored()
    assert len(stored()) == 2
    assert client.export_contact(email) == {"found": False, "contact": {}}
