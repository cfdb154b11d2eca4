"""Klaviyo end to end: the console's services against the sandbox over real HTTP, bulk import
jobs included (they run on the shared fake clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audience.models import SubscriberStatus
from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    Segment,
    SyncRun,
    SyncStateStatus,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import emulation, registry
from integrations.sandbox import klaviyo as emulator
from integrations.sandbox.models import SandboxContact, SandboxSegment
from integrations.services import connection, segments, sync
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "klaviyo"
ACCOUNT = "sandbox-klaviyo-account"
KEY = "pk_sandbox-klaviyo-private-key"
READ_ONLY_KEY = "pk_sandbox-klaviyo-readonly-key"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
SUBSCRIBED = 28  # make_subscribers(): 30, of whom 2 unsubscribed
JOBS = "/api/profile-bulk-import-jobs"


class WorkerDied(BaseException):
    """The q cluster process running the sync was killed."""


@pytest.fixture(autouse=True)
def _fresh_jobs():
    emulator.reset_jobs()
    yield
    emulator.reset_jobs()


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def submissions(integration) -> int:
    return ApiCall.objects.filter(integration=integration, path=JOBS, method="POST").count()


def test_connection_ok(integration):
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert report.can_write is True
    assert report.account == "SharpSend demo account"
    assert report.permissions["upsert_contacts"] is True
    assert report.permissions["list_segments"] is True
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    # The write probe (an empty import job) is refused as invalid: nothing is stored.
    assert not SandboxContact.objects.exists()


def test_wrong_key(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG, base_url=base_url, credentials={"private_api_key": "pk_wrong-key-123"}
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the private API key" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "pk_wrong-key-123" not in str(integration.connection_report)


def test_read_only_key_is_refused(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(
        SLUG, base_url=base_url, credentials={"private_api_key": READ_ONLY_KEY}
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.can_write is False
    assert "cannot write profiles" in report.detail
    assert report.permissions["list_segments"] is True
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR

    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 5
    assert READ_ONLY_KEY not in run.error
    assert not SandboxContact.objects.exists()


def test_sync_then_nothing_then_only_the_change(integration, make_subscribers, run_sync):
    subscribers = make_subscribers()

    first = run_sync(integration)
    assert first.status == SyncStatus.SUCCEEDED, first.error
    assert first.created == SUBSCRIBED
    assert (first.updated, first.unchanged, first.failed, first.excluded) == (0, 0, 0, 2)
    assert submissions(integration) == 1  # one job for the chunk
    # one submission, then polls until complete (queued → processing → complete)
    assert first.api_calls == 1 + 3
    assert first.job_state == ""
    profiles = stored()
    assert len(profiles) == SUBSCRIBED
    for subscriber in subscribers:
        key = subscriber.email.lower()
        if subscriber.status != SubscriberStatus.SUBSCRIBED:
            assert key not in profiles
            continue
        profile = profiles[key]
        assert profile["email"] == subscriber.email
        assert profile["first_name"] == subscriber.first_name
        assert profile["last_name"] == subscriber.last_name
        properties = profile["properties"]
        assert properties["sharpsend_status"] == "subscribed"
        assert properties["sharpsend_signup_date"] == subscriber.created_at.isoformat()
        assert properties.get("interest") == (subscriber.attributes.get("interest") or None)
    assert set(states(integration).values()) == {SyncStateStatus.SYNCED}

    calls_before = ApiCall.objects.count()
    second = run_sync(integration)
    assert second.status == SyncStatus.SUCCEEDED
    assert second.unchanged == SUBSCRIBED
    assert (second.created, second.updated, second.failed, second.api_calls) == (0, 0, 0, 0)
    assert ApiCall.objects.count() == calls_before

    changed = subscribers[10]
    changed.last_name = "Changed"
    changed.save()
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert (third.created, third.updated, third.unchanged) == (0, 1, SUBSCRIBED - 1)
    assert submissions(integration) == 2
    profile = stored()[changed.email.lower()]
    assert profile["last_name"] == "Changed"
    # Klaviyo merges properties: those not sent again are kept.
    assert profile["properties"]["sharpsend_status"] == "subscribed"


def test_import_errors_map_to_their_subscribers(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(10, unsubscribed=())
    suppressed, broken = subscribers[2], subscribers[6]
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier=suppressed.email.lower(), attributes={},
        suppressed=True,
    )  # fmt: skip
    broken.email = "not-an-address"
    broken.save()

    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_compliance, first.rejected_data) == (8, 1, 1)
    records = {r.subscriber_id: r for r in first.records.all()}
    assert records[suppressed.pk].outcome == Outcome.REJECTED_COMPLIANCE
    assert records[suppressed.pk].code == "suppressed"
    assert records[broken.pk].outcome == Outcome.REJECTED_DATA
    assert "Invalid email address" in records[broken.pk].message
    assert "email" in records[broken.pk].hint
    assert states(integration)[suppressed.pk] == SyncStateStatus.PENDING
    assert stored()[suppressed.email.lower()] == {}

    # Both stay pending and are sent again; the suppression lifted, that one goes through.
    SandboxContact.objects.filter(identifier=suppressed.email.lower()).update(suppressed=False)
    second = run_sync(integration)
    assert second.unchanged == 8
    assert second.created == 1
    assert list(second.records.values_list("subscriber_id", "outcome")) == [
        (broken.pk, Outcome.REJECTED_DATA)
    ]
    assert states(integration)[suppressed.pk] == SyncStateStatus.SYNCED


def test_a_run_interrupted_while_its_job_runs_resumes_by_polling_it(
    integration, make_subscribers, run_sync, monkeypatch
):
    make_subscribers()

    def dies(self, state):
        raise WorkerDied()

    real_progress = sync._Runner.job_progress
    monkeypatch.setattr(sync._Runner, "job_progress", dies)
    run, _ = sync.start_sync(integration, SyncTrigger.MANUAL)
    with pytest.raises(WorkerDied):
        sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING
    [job] = run.pending_job["job"]["jobs"]
    assert len(job["keys"]) == SUBSCRIBED
    assert submissions(integration) == 1
    assert not stored()  # the job has not run yet

    monkeypatch.setattr(sync._Runner, "job_progress", real_progress)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    resumed = run_sync(integration)
    assert resumed.resumed_from_id == run.pk
    assert resumed.status == SyncStatus.SUCCEEDED, resumed.error
    assert resumed.created == SUBSCRIBED
    assert submissions(integration) == 1  # polled, never sent again
    assert len(stored()) == SUBSCRIBED
    assert set(states(integration).values()) == {SyncStateStatus.SYNCED}


def test_several_jobs_when_the_bytes_demand_it(
    integration, make_subscribers, run_sync, monkeypatch
):
    import dataclasses

    cls = get_platform(SLUG)
    monkeypatch.setattr(cls, "limits", dataclasses.replace(cls.limits, batch_max_bytes=3_000))
    make_subscribers()
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == SUBSCRIBED
    assert submissions(integration) > 1
    assert len(stored()) == SUBSCRIBED


def test_429_storm_loses_nothing(integration, make_subscribers, run_sync, settings):
    make_subscribers()
    emulation.set_faults(SLUG, throttle_next=1000, retry_after=1)
    stormy = run_sync(integration)
    assert stormy.throttled == SUBSCRIBED
    assert not stored()
    assert set(states(integration).values()) == {SyncStateStatus.PENDING}

    emulation.set_faults(SLUG, throttle_next=0)
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert after.created == SUBSCRIBED


def test_segment_import_counts_follow_the_sandbox(integration, make_subscribers, run_sync):
    registry.seed(SLUG)
    make_subscribers()
    run_sync(integration)

    result = segments.import_segments(integration)
    assert (result.imported, result.counted, result.counts_pending) == (3, 3, [])
    rows = {s.name: s for s in Segment.objects.filter(integration=integration)}
    assert {name: (s.kind, s.member_count) for name, s in rows.items()} == {
        "Growth Investors": ("segment", 10),
        "Dividend Income": ("segment", 8),
        "All readers": ("list", SUBSCRIBED),
    }
    for remote in SandboxSegment.objects.filter(platform=SLUG, account=ACCOUNT):
        segment = rows[remote.name]
        assert segment.remote_id == f"{remote.kind}:{emulator.group_id(remote.remote_id)}"
        assert segment.member_count == remote.members().count()
    counts = ApiCall.objects.filter(integration=integration, path__startswith="/api/segments/")
    counts = (
        counts.count()
        + ApiCall.objects.filter(integration=integration, path__startswith="/api/lists/").count()
    )
    assert counts == 3
    assert not ApiCall.objects.filter(integration=integration, status_code=429).exists()


def test_export_then_delete(integration, make_subscribers, run_sync):
    subscribers = make_subscribers(3, unsubscribed=())
    run_sync(integration)
    client = integration.client()
    email = subscribers[0].email

    [profile] = client.export_contact(email)["profiles"]
    assert profile["attributes"]["email"] == email
    assert profile["attributes"]["properties"]["interest"] == "growth"

    client.delete_contact(email)
    assert email.lower() not in stored()
    assert len(stored()) == 2
    assert client.export_contact(email)["profiles"] == []
