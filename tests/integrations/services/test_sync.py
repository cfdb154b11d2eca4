"""The sync service's properties, over real HTTP against the sandbox Customer.io."""

from __future__ import annotations

import dataclasses
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus
from integrations.models import (
    Outcome,
    SyncMode,
    SyncRecord,
    SyncRun,
    SyncState,
    SyncStateStatus,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.customerio import CustomerIoClient
from integrations.sandbox.models import SandboxContact
from integrations.services import sync

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerDied(BaseException):
    """Stands for the process being killed: nothing in the service may catch it."""


@pytest.fixture
def audience():
    rows = [
        Subscriber(
            email=f"reader{i:03}@example.com", first_name=f"R{i}", attributes={"plan": "free"}
        )
        for i in range(30)
    ]
    rows.append(
        Subscriber(email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED, first_name="G")
    )
    return Subscriber.objects.bulk_create(rows)


@pytest.fixture
def small_batches(monkeypatch):
    """Customer.io in chunks of 10, so 30 readers make three checkpoints."""
    limits = dataclasses.replace(CustomerIoClient.limits, batch_max_records=10)
    monkeypatch.setattr(CustomerIoClient, "limits", limits)


@pytest.fixture
def cio(make_integration, sandbox_url):
    return make_integration("customerio", base_url=f"{sandbox_url}/customerio")


def run_sync(integration, **kwargs) -> SyncRun:
    run, created = sync.start_sync(integration, SyncTrigger.COMMAND, **kwargs)
    assert created
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    return run


def stored_emails():
    return set(
        SandboxContact.objects.filter(platform="customerio").values_list("identifier", flat=True)
    )


def test_first_sync_creates_every_subscribed_reader_and_excludes_the_unsubscribed(cio, audience):
    run = run_sync(cio)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.seen, run.created, run.updated, run.excluded) == (30, 30, 0, 1)
    assert "gone@example.com" not in stored_emails()
    assert len(stored_emails()) == 30
    cio.refresh_from_db()
    assert cio.last_success_at is not None and cio.status == "connected"


def test_unchanged_subscribers_are_not_sent_again(cio, audience):
    run_sync(cio)
    again = run_sync(cio)
    assert (again.unchanged, again.created, again.updated, again.api_calls) == (30, 0, 0, 0)


def test_a_change_sends_only_that_subscriber(cio, audience):
    run_sync(cio)
    reader = Subscriber.objects.get(email="reader007@example.com")
    reader.first_name = "Renamed"
    reader.save()
    run = run_sync(cio)
    assert (run.updated, run.unchanged) == (1, 29)
    contact = SandboxContact.objects.get(identifier="reader007@example.com")
    assert contact.attributes["first_name"] == "Renamed"


def test_full_mode_sends_everyone_again(cio, audience):
    run_sync(cio)
    run = run_sync(cio, mode=SyncMode.FULL)
    assert (run.updated, run.unchanged) == (30, 0)


def test_a_rejected_record_stays_pending_and_is_retried_though_unchanged(cio, audience):
    SandboxContact.objects.create(
        platform="customerio",
        account="sandbox-site-us",
        identifier="reader003@example.com",
        suppressed=True,
    )
    first = run_sync(cio)
    assert first.status == SyncStatus.PARTIAL
    assert first.rejected_compliance == 1
    record = SyncRecord.objects.get(run=first, outcome=Outcome.REJECTED_COMPLIANCE)
    assert record.email == "reader003@example.com" and record.hint
    state = SyncState.objects.get(integration=cio, subscriber__email="reader003@example.com")
    assert state.status == SyncStateStatus.PENDING

    SandboxContact.objects.filter(identifier="reader003@example.com").update(suppressed=False)
    second = run_sync(cio)
    assert second.status == SyncStatus.SUCCEEDED
    assert (second.created, second.unchanged) == (1, 29)
    state.refresh_from_db()
    assert state.status == SyncStateStatus.SYNCED


def test_a_crash_between_batches_resumes_from_the_checkpoint_without_loss(
    cio, audience, small_batches, monkeypatch
):
    real_upsert = CustomerIoClient.upsert_contacts
    calls = {"n": 0}
    sent = []

    def dies_on_second_batch(self, records, update_existing):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied()
        sent.extend(r.identifier for r in records)
        return real_upsert(self, records, update_existing)

    monkeypatch.setattr(CustomerIoClient, "upsert_contacts", dies_on_second_batch)
    crashed, _ = sync.start_sync(cio, SyncTrigger.SCHEDULE, mode=SyncMode.FULL)
    with pytest.raises(WorkerDied):
        sync.execute_sync(crashed.pk)
    crashed.refresh_from_db()
    assert crashed.status == SyncStatus.RUNNING
    assert crashed.created == 10 and len(stored_emails()) == 10
    checkpoint = crashed.cursor
    assert checkpoint == Subscriber.objects.order_by("id")[9].id

    # No heartbeat for longer than the stale limit: the next sync resumes the dead one.
    SyncRun.objects.filter(pk=crashed.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    resumed, created = sync.start_sync(cio, SyncTrigger.MANUAL)
    assert created
    crashed.refresh_from_db()
    assert crashed.status == SyncStatus.INTERRUPTED
    assert resumed.resumed_from_id == crashed.pk
    assert (resumed.trigger, resumed.mode, resumed.cursor) == (
        SyncTrigger.RESUME,
        SyncMode.FULL,
        checkpoint,
    )
    sync.execute_sync(resumed.pk)
    resumed.refresh_from_db()
    assert resumed.status == SyncStatus.SUCCEEDED
    assert resumed.created == 20
    assert len(stored_emails()) == 30
    # Every reader was sent exactly once across the two runs.
    assert sorted(sent) == sorted(f"reader{i:03}@example.com" for i in range(30))
    assert not SyncRecord.objects.exists()  # nothing was rejected


def test_a_redelivered_task_takes_over_a_run_whose_worker_died(
    cio, audience, small_batches, monkeypatch
):
    real_upsert = CustomerIoClient.upsert_contacts
    calls = {"n": 0}

    def dies_once(self, records, update_existing):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied()
        return real_upsert(self, records, update_existing)

    monkeypatch.setattr(CustomerIoClient, "upsert_contacts", dies_once)
    run, _ = sync.start_sync(cio, SyncTrigger.SCHEDULE)
    with pytest.raises(WorkerDied):
        sync.execute_sync(run.pk)
    # While its heartbeat is fresh, a second delivery of the task leaves it alone.
    assert sync.execute_sync(run.pk).status == SyncStatus.RUNNING
    assert calls["n"] == 2
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED
    assert run.created == 30 and len(stored_emails()) == 30


def test_the_database_allows_one_active_sync_per_integration(cio):
    first, created = sync.start_sync(cio, SyncTrigger.MANUAL)
    assert created
    second, created_again = sync.start_sync(cio, SyncTrigger.SCHEDULE)
    assert (second.pk, created_again) == (first.pk, False)
    with pytest.raises(IntegrityError), transaction.atomic():
        SyncRun.objects.create(integration=cio, trigger=SyncTrigger.MANUAL)


def test_two_workers_starting_at_once_start_one_run(cio):
    barrier = threading.Barrier(2)
    outcomes = []

    def start():
        barrier.wait()
        try:
            outcomes.append(sync.start_sync(cio, SyncTrigger.SCHEDULE)[1])
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == [False, True]
    assert SyncRun.objects.filter(integration=cio).count() == 1


def test_a_dry_run_previews_payloads_and_writes_nothing(cio, audience):
    run = run_sync(cio, dry_run=True)
    assert run.status == SyncStatus.SUCCEEDED
    # The request Customer.io would get: one batch carrying the first 20 subscribers.
    [request] = run.preview
    assert request["method"] == "POST"
    assert request["url"].endswith("/api/v2/batch")
    assert len(request["subscribers"]) == len(request["body"]["batch"]) == 20
    first = request["body"]["batch"][0]
    assert first["identifiers"] == {"email": "reader000@example.com"}
    assert isinstance(first["attributes"]["created_at"], int)  # Unix seconds, as sent
    assert run.api_calls == 0
    assert not SandboxContact.objects.exists()
    assert not SyncState.objects.exists()
    assert not SyncRecord.objects.exists()


def test_keep_existing_leaves_contacts_already_sent_alone(cio, audience):
    run_sync(cio)
    cio.update_existing = False
    cio.save()
    reader = Subscriber.objects.get(email="reader001@example.com")
    reader.first_name = "Changed"
    reader.save()
    Subscriber.objects.create(email="new@example.com", first_name="New")
    run = run_sync(cio)
    assert (run.created, run.updated, run.unchanged) == (1, 0, 30)
    assert (
        SandboxContact.objects.get(identifier="reader001@example.com").attributes["first_name"]
        == "R1"
    )


def test_a_mapping_without_identifier_fails_the_run_before_sending(cio, audience):
    cio.field_mappings.update(is_identifier=False)
    run = run_sync(cio)
    assert run.status == SyncStatus.FAILED
    assert "identifier" in run.error
    assert run.api_calls == 0 and not SandboxContact.objects.exists()
    cio.refresh_from_db()
    assert cio.status == "error" and "identifier" in cio.last_error


def test_a_subscriber_without_identifier_value_is_rejected_not_skipped(
    make_integration, sandbox_url
):
    integration = make_integration(
        "customerio",
        base_url=f"{sandbox_url}/customerio",
        mappings=[("attributes.member_id", "id", "", True), ("email", "email", "", False)],
    )
    Subscriber.objects.create(email="has@example.com", attributes={"member_id": "m-1"})
    Subscriber.objects.create(email="lacks@example.com", attributes={})
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_data) == (1, 1)
    record = SyncRecord.objects.get(run=run, outcome=Outcome.REJECTED_DATA)
    assert (record.email, record.code) == ("lacks@example.com", "missing_identifier")
    assert SandboxContact.objects.filter(identifier="id:m-1").exists()


def test_a_retry_run_sends_only_the_records_still_pending(cio, audience):
    SandboxContact.objects.create(
        platform="customerio", account="sandbox-site-us", identifier="reader005@example.com",
        suppressed=True,
    )  # fmt: skip
    assert run_sync(cio).rejected_compliance == 1
    SandboxContact.objects.filter(identifier="reader005@example.com").update(suppressed=False)
    Subscriber.objects.filter(email="reader006@example.com").update(first_name="Changed")
    retry = run_sync(cio, mode=SyncMode.RETRY)
    assert retry.status == SyncStatus.SUCCEEDED
    assert (retry.total, retry.seen, retry.created, retry.updated) == (1, 1, 1, 0)
    # The changed reader was not part of the retry; the next ordinary run sends it.
    assert run_sync(cio).updated == 1


def test_a_suppressed_reader_left_in_the_audience_is_never_sent(cio, audience):
    from audience.suppression import suppress

    suppress("READER003@example.com")  # e.g. re-added by hand after a deletion request
    run = run_sync(cio)
    assert run.status == SyncStatus.SUCCEEDED
    assert "reader003@example.com" not in stored_emails()
    assert len(stored_emails()) == 29
    assert run.excluded == 2  # the unsubscribed reader and the suppressed one
