"""Changed-only syncs read what changed since the last complete run, not the whole audience."""

from __future__ import annotations

from datetime import timedelta

import pytest

from audience.models import Subscriber
from integrations.models import FieldMapping, SyncMode, SyncState, SyncStateStatus, SyncStatus
from integrations.services import changes
from tests.integrations.services.test_sync import WorkerDied, run_sync, stored_emails

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_margin(settings):
    settings.SYNC_CHANGE_MARGIN_SECONDS = 0


@pytest.fixture
def audience():
    return Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{i:03}@example.com", first_name=f"R{i}") for i in range(20)
    )


@pytest.fixture
def cio(make_integration, sandbox_url):
    return make_integration("customerio", base_url=f"{sandbox_url}/customerio")


def touch(subscriber: Subscriber, first_name: str) -> None:
    subscriber.first_name = first_name
    subscriber.save()


def test_the_first_run_compares_everyone_and_leaves_a_snapshot(cio, audience):
    run = run_sync(cio)
    assert run.reads_since is None
    assert run.snapshot_at is not None and run.mapping_digest
    assert (run.total, run.created) == (20, 20)


def test_an_unchanged_resync_reads_nobody(cio, audience):
    first = run_sync(cio)
    again = run_sync(cio)
    assert again.reads_since == first.snapshot_at
    assert (again.total, again.seen, again.api_calls) == (0, 0, 0)
    assert again.status == SyncStatus.SUCCEEDED


def test_a_resync_reads_and_sends_only_the_changed_subscriber(cio, audience):
    run_sync(cio)
    touch(audience[7], "Changed")
    again = run_sync(cio)
    assert (again.total, again.seen, again.updated, again.unchanged) == (1, 1, 1, 0)


def test_a_pending_record_older_than_the_snapshot_is_read_again(cio, audience):
    run_sync(cio)
    SyncState.objects.filter(integration=cio, subscriber=audience[3]).update(
        status=SyncStateStatus.PENDING
    )
    again = run_sync(cio)
    assert (again.total, again.updated) == (1, 1)
    assert SyncState.objects.get(integration=cio, subscriber=audience[3]).status == "synced"


def test_the_margin_rereads_a_write_just_before_the_snapshot(cio, audience, settings):
    first = run_sync(cio)
    settings.SYNC_CHANGE_MARGIN_SECONDS = 600
    inside = first.snapshot_at + timedelta(seconds=1)
    before = first.snapshot_at - timedelta(seconds=1)
    Subscriber.objects.filter(pk=audience[0].pk).update(first_name="In", updated_at=inside)
    Subscriber.objects.filter(pk=audience[1].pk).update(first_name="Out", updated_at=before)
    again = run_sync(cio)
    # Read: the one changed since the snapshot; not read: one dated before it.
    assert (again.total, again.updated) == (1, 1)
    assert again.snapshot_at < again.started_at - timedelta(seconds=599)


def test_changed_mappings_make_the_next_run_compare_everyone(cio, audience):
    run_sync(cio)
    FieldMapping.objects.create(integration=cio, source="opens_count", target="opens")
    again = run_sync(cio)
    assert again.reads_since is None
    assert again.total == 20


def test_mappings_changed_and_back_still_compare_everyone(cio, audience):
    """A run with other mappings since the snapshot sent other payloads."""
    run_sync(cio)
    extra = FieldMapping.objects.create(integration=cio, source="opens_count", target="opens")
    run_sync(cio, mode=SyncMode.RETRY)
    extra.delete()
    again = run_sync(cio)
    assert again.reads_since is None


def test_a_failed_run_leaves_no_snapshot_for_the_next(cio, audience, monkeypatch):
    first = run_sync(cio)
    touch(audience[2], "Changed")
    monkeypatch.setattr(
        "integrations.platforms.customerio.CustomerIoClient.upsert_contacts",
        lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")),
    )
    failed = run_sync(cio)
    assert failed.status == SyncStatus.FAILED
    monkeypatch.undo()
    again = run_sync(cio)
    assert again.reads_since == first.snapshot_at
    assert again.updated == 1


def test_a_resumed_run_keeps_what_its_predecessor_read_since(cio, audience, monkeypatch):
    first = run_sync(cio)
    touch(audience[5], "Changed")

    def die(*args, **kwargs):
        raise WorkerDied

    monkeypatch.setattr("integrations.platforms.customerio.CustomerIoClient.upsert_contacts", die)
    from integrations.models import SyncTrigger
    from integrations.services import sync

    run, _ = sync.start_sync(cio, SyncTrigger.COMMAND)
    with pytest.raises(WorkerDied):
        sync.execute_sync(run.pk)
    run.refresh_from_db()
    run.status = SyncStatus.INTERRUPTED
    run.save()
    monkeypatch.undo()
    resumed = run_sync(cio)
    assert resumed.resumed_from_id == run.pk
    assert (resumed.reads_since, resumed.snapshot_at) == (first.snapshot_at, run.snapshot_at)
    assert resumed.updated == 1
    assert "reader005@example.com" in stored_emails()


def test_the_digest_follows_what_decides_the_payloads(cio):
    before = changes.mapping_digest(cio)
    cio.update_existing = not cio.update_existing
    assert changes.mapping_digest(cio) != before
