"""Klaviyo end to end: the console's services against the sandbox over real HTTP, bulk import
jobs included (they run on the shared fake clock)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audience.models import Subscriber
from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    Segment,
    SegmentMember,
    SyncRun,
    SyncStateStatus,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.klaviyo import members as klaviyo_members
from integrations.platforms.registry import get_platform
from integrations.sandbox import klaviyo as emulator
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact
from integrations.services import connection, membership, segments, sync
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


def test_a_list_and_a_segment_are_read_in_and_a_refresh_cut_short_resumes(
    integration, make_subscribers, run_sync, monkeypatch
):
    """Members of a list and a segment, 5 a page: matched to subscribers by email, a reader
    Klaviyo holds and SharpSend does not counted (never created), and a refresh stopped after
    two pages continuing from its stored page[cursor] without reading a page twice."""
    monkeypatch.setattr(klaviyo_members, "MEMBERS_PER_PAGE", 5)
    registry.seed(SLUG)
    subscribers = make_subscribers()
    run_sync(integration)
    SandboxContact.objects.create(
        platform=SLUG, account=ACCOUNT, identifier="stranger@example.com",
        attributes={"email": "stranger@example.com", "properties": {"interest": "growth"}},
    )  # fmt: skip
    segments.import_segments(integration)

    everyone = Segment.objects.get(integration=integration, name="All readers")
    assert everyone.remote_id == f"list:{emulator.group_id(3)}"
    pages_read = ApiCall.objects.filter(
        integration=integration,
        method="GET",
        path=f"/api/lists/{emulator.group_id(3)}/profiles",
        status_code=200,
    )
    first = membership.refresh_members(everyone, max_pages=2)  # a worker stopping after 2 pages
    assert not first.complete and (first.pages, first.matched) == (2, 10)
    everyone.refresh_from_db()
    assert everyone.members_refreshing and everyone.members_cursor
    assert pages_read.count() == 2
    rest = membership.refresh_members(everyone)
    # 28 subscribed readers synced and the stranger: ceil(29 / 5) = 6 pages, 4 of them now.
    assert rest.complete and rest.pages == 4 and pages_read.count() == 6
    assert (rest.matched, rest.unmatched) == (SUBSCRIBED, 1)
    listed = SegmentMember.objects.filter(segment=everyone)
    assert set(listed.values_list("subscriber__email", flat=True)) == {
        s.email for s in subscribers if s.status == "subscribed"
    }
    assert not Subscriber.objects.filter(email="stranger@example.com").exists()

    growth = Segment.objects.get(integration=integration, name="Growth Investors")
    assert growth.remote_id == f"segment:{emulator.group_id(1)}"
    read = membership.refresh_members(growth)
    wanted = {
        s.email
        for s in subscribers
        if s.attributes.get("interest") == "growth" and s.status == "subscribed"
    }
    assert read.complete and read.pages == 3  # 10 readers and the stranger, 5 a page
    assert (read.matched, read.unmatched) == (len(wanted), 1)
    members = SegmentMember.objects.filter(segment=growth)
    assert set(members.values_list("subscriber__email", flat=True)) == wanted
    assert (
        ApiCall.objects.filter(
            integration=integration, path=f"/api/segments/{emulator.group_id(1)}/profiles"
        ).count()
        == 3
    )
