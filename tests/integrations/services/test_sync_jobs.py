"""Platforms whose bulk write is an asynchronous job: checkpointed, polled, resumed."""

from __future__ import annotations

from datetime import timedelta

import pytest
import responses
from django.utils import timezone
from responses import matchers
from responses.registries import OrderedRegistry

from audience.models import Subscriber
from integrations.models import Outcome, SyncRun, SyncStatus, SyncTrigger
from integrations.platforms import registry
from integrations.platforms.base import PlatformClient
from integrations.platforms.types import (
    Capability,
    Category,
    CredentialField,
    Limits,
    RecordResult,
    TimestampFormat,
    Written,
)
from integrations.ratelimit import Rate
from integrations.services import sync

HOST = "https://jobs.example.test"
pytestmark = pytest.mark.django_db


class JobPlatform(PlatformClient):
    """A platform that imports contacts as a job: POST /imports, then GET /imports/<id>."""

    slug = "jobtest"
    label = "Job platform"
    category = Category.EMAIL
    capabilities = frozenset({Capability.UPSERT_CONTACTS})
    credential_fields = (CredentialField("api_key", "API key", "Test key."),)
    regions = {"us": "US"}
    hosts = {"api": {"us": HOST}}
    limits = Limits(10, 1_000_000, 10_000, {"api": Rate(1000, 1.0)}, TimestampFormat.ISO8601)
    accepts_new_fields = True

    def upsert_contacts(self, records, update_existing):
        return self.run_job(records, self._submit)

    def _submit(self, records):
        body = {"contacts": [{"email": r.identifier} for r in records]}
        return {"id": self.request("POST", "api", "/imports", json=body).json()["id"]}

    def collect_job(self, job, records):
        state = {}

        def check():
            state["data"] = self.request("GET", "api", f"/imports/{job['id']}").json()
            return state["data"]["status"] == "done", state["data"]["status"]

        self.poll(check, first_wait=0.5)
        rejected = set(state["data"]["errors"])
        return [
            RecordResult(r.key, Outcome.REJECTED_DATA, code="bad") if r.identifier in rejected
            else RecordResult(r.key, Written.WRITTEN)
            for r in records
        ]  # fmt: skip


class WorkerDied(BaseException):
    pass


@pytest.fixture
def job_integration(monkeypatch, make_integration):
    monkeypatch.setitem(registry._registry, "jobtest", JobPlatform)
    monkeypatch.setattr(registry, "_loaded", True)
    for i in range(3):
        Subscriber.objects.create(email=f"r{i}@example.com")
    integration = make_integration("customerio", mappings=[("email", "email", "", True)])
    integration.platform = "jobtest"
    integration.credentials = {"api_key": "test-key-not-real"}
    integration.save()
    return integration


@responses.activate(registry=OrderedRegistry, assert_all_requests_are_fired=True)
def test_a_job_is_polled_with_backoff_and_its_state_shown(job_integration, fake_clock):
    responses.post(f"{HOST}/imports", json={"id": "job-1"})
    responses.get(f"{HOST}/imports/job-1", json={"status": "queued", "errors": []})
    responses.get(f"{HOST}/imports/job-1", json={"status": "processing", "errors": []})
    responses.get(f"{HOST}/imports/job-1", json={"status": "done", "errors": ["r1@example.com"]})
    run, _ = sync.start_sync(job_integration, SyncTrigger.MANUAL)
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.PARTIAL
    assert (run.created, run.rejected_data, run.api_calls) == (2, 1, 4)
    assert [s for s in fake_clock.sleeps if s >= 0.5] == [0.5, 1.0]  # growing poll waits
    assert run.pending_job == {} and run.job_state == ""


def test_a_run_interrupted_while_its_job_is_pending_polls_that_job_without_resending(
    job_integration, fake_clock, monkeypatch
):
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        submit = rsps.post(f"{HOST}/imports", json={"id": "job-7"})
        rsps.get(f"{HOST}/imports/job-7", json={"status": "processing", "errors": []})

        def dies(self, state):
            raise WorkerDied()

        real_progress = sync._Runner.job_progress
        monkeypatch.setattr(sync._Runner, "job_progress", dies)
        run, _ = sync.start_sync(job_integration, SyncTrigger.MANUAL)
        with pytest.raises(WorkerDied):
            sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.RUNNING
    assert run.pending_job["job"] == {"id": "job-7"}
    assert [r[2] for r in run.pending_job["records"]] == [f"r{i}@example.com" for i in range(3)]
    assert submit.call_count == 1

    monkeypatch.setattr(sync._Runner, "job_progress", real_progress)
    SyncRun.objects.filter(pk=run.pk).update(heartbeat_at=timezone.now() - timedelta(hours=1))
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        rsps.get(
            f"{HOST}/imports/job-7",
            json={"status": "done", "errors": []},
            match=[matchers.header_matcher({"Accept": "application/json"})],
        )
        # No POST /imports is registered: sending the batch again would fail the test.
        resumed, created = sync.start_sync(job_integration, SyncTrigger.MANUAL)
        sync.execute_sync(resumed.pk)
    resumed.refresh_from_db()
    assert resumed.resumed_from_id == run.pk
    assert resumed.status == SyncStatus.SUCCEEDED
    assert resumed.created == 3
    # The resumed run's progress counts the records it took over from the job.
    assert resumed.seen == resumed.total == 3
    assert resumed.progress_percent == 100
    assert resumed.pending_job == {}
