"""Privacy requests over real HTTP against the sandbox (Front, Crisp, SendGrid), with the
django-q2 queue run inline."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import pytest
from django.utils import timezone

from audience.models import EngagementEvent, Subscriber
from audience.suppression import is_suppressed, suppression_hash
from integrations.models import (
    ApiCall,
    PrivacyKind,
    PrivacyStatus,
    PrivacyTask,
    SyncRecord,
    SyncRun,
    SyncState,
    SyncStatus,
    SyncTrigger,
    TaskState,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact
from integrations.services import privacy, sync
from integrations.services.privacy_local import REDACTED_EMAIL

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("inline_queue")]

EMAIL = "ann@example.com"
FRONT_MAPPINGS = (*get_platform("front").suggested_mappings,)


@pytest.fixture
def front(make_integration, sandbox_url):
    registry.seed("front")
    return make_integration("front", base_url=f"{sandbox_url}/front", name="Front")


@pytest.fixture
def crisp(make_integration, sandbox_url):
    return make_integration("crisp", base_url=f"{sandbox_url}/crisp", name="Crisp")


@pytest.fixture
def ann(db):
    return Subscriber.objects.create(email="Ann@Example.com", first_name="Ann")


def synced(integration):
    run, created = sync.start_sync(integration, SyncTrigger.COMMAND, mode="full")
    assert created
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED, run.error
    return run


def held(platform: str) -> set[str]:
    rows = SandboxContact.objects.filter(platform=platform)
    return {str(r.identifier).lower() for r in rows if EMAIL in str(r.identifier).lower()} | {
        str(r.attributes).lower() for r in rows if EMAIL in str(r.attributes).lower()
    }


def test_opening_makes_one_task_per_integration_with_reasons_where_not_supported(
    make_integration,
):
    make_integration("kit", name="Kit")
    make_integration("drift", name="Drift")
    make_integration("front", name="Front")
    request = privacy.open_request("deletion", " Ann@Example.com ", via="test")
    assert request.subject_email == EMAIL
    assert request.subject_hash == suppression_hash(EMAIL)
    assert request.deadline - request.received_at == timedelta(days=30)
    tasks = {t.integration_name: t for t in request.tasks.all()}
    assert tasks["Front"].state == TaskState.PENDING
    assert tasks["Kit"].state == TaskState.NOT_SUPPORTED
    assert "no way to delete a subscriber" in tasks["Kit"].reason
    assert tasks["Drift"].state == TaskState.NOT_SUPPORTED
    assert "not to third-party apps" in tasks["Drift"].reason


def test_the_deadline_follows_the_setting(settings, make_integration):
    settings.PRIVACY_DEADLINE_DAYS = 45  # CCPA
    request = privacy.open_request("access", EMAIL)
    assert request.deadline - request.received_at == timedelta(days=45)


def test_not_an_email_is_refused():
    with pytest.raises(privacy.PrivacyInputError):
        privacy.open_request("deletion", "not-an-email")


def test_deletion_erases_everywhere_suppresses_and_scrubs(front, crisp, ann):
    synced(front)
    synced(crisp)
    EngagementEvent.objects.create(
        subscriber=ann, kind="opened", occurred_at=timezone.now(), source="test", dedupe_key="e1"
    )
    SyncRecord.objects.create(run=SyncRun.objects.first(), email=EMAIL, outcome="rejected_data")
    assert held("front") and held("crisp")

    request = privacy.open_request(PrivacyKind.DELETION, EMAIL)
    request = privacy.advance(request)  # the queue runs inline here

    assert request.status == PrivacyStatus.COMPLETE
    assert request.subject_email == ""
    assert request.local_result["erased"]["subscriber"] == 1
    assert {t.state for t in request.tasks.all()} == {TaskState.DONE}
    assert not Subscriber.objects.filter(email=EMAIL).exists()
    assert not EngagementEvent.objects.exists()
    assert not SyncState.objects.filter(subscriber_id=ann.pk).exists()
    assert not SyncRecord.objects.filter(email=EMAIL).exists()
    assert is_suppressed(EMAIL)
    assert not held("front") and not held("crisp")
    for form in (EMAIL, quote(EMAIL, safe=""), quote(EMAIL)):
        assert not ApiCall.objects.filter(path__icontains=form).exists()
    assert ApiCall.objects.filter(path__contains=REDACTED_EMAIL).exists()

    # A full sync afterwards recreates nothing.
    synced(front)
    synced(crisp)
    assert not held("front") and not held("crisp")


def test_an_unknown_email_completes_with_nothing_held(front, crisp):
    request = privacy.advance(privacy.open_request("access", "nobody@example.com"))
    assert request.status == PrivacyStatus.COMPLETE
    assert request.bundle["sharpsend"]["found"] is False
    assert {p["detail"] for p in request.bundle["platforms"]} == {privacy.NOTHING_HELD}


def test_access_bundle_holds_sharpsend_and_each_platform_then_expires(front, crisp, ann):
    synced(front)
    synced(crisp)
    request = privacy.advance(privacy.open_request("access", EMAIL))
    assert request.status == PrivacyStatus.COMPLETE
    assert request.bundle_available
    assert request.bundle["sharpsend"]["subscriber"]["first_name"] == "Ann"
    by_name = {p["integration"]: p for p in request.bundle["platforms"]}
    assert by_name["Front"]["data"]["found"] is True
    assert by_name["Crisp"]["data"]["found"] is True
    assert by_name["Crisp"]["detail"] == "exported"
    assert Subscriber.objects.filter(email=EMAIL).exists()  # access changes nothing
    assert request.tasks.filter(result__isnull=False).count() == 0  # only the bundle holds it

    request.bundle_expires_at = timezone.now() - timedelta(seconds=1)
    request.save()
    assert privacy.purge_expired_bundles() == 1
    request.refresh_from_db()
    assert request.bundle is None and not request.bundle_available


def test_a_platform_refusing_fails_the_task_and_the_request_is_not_complete(
    front, ann, make_integration, sandbox_url
):
    synced(front)
    front.credentials = {"api_token": "sandbox-front-readonly-token"}
    front.save()
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.FAILED
    assert "refused" in task.reason and "403" in task.reason
    assert "contacts:write" in task.reason
    assert request.status == PrivacyStatus.ATTENTION
    assert request.subject_email == EMAIL  # kept while open
    assert held("front")

    front.credentials = {"api_token": "sandbox-front-api-token"}
    front.save()
    assert privacy.retry_failed(request, via="test") == 1
    request.refresh_from_db()
    assert request.status == PrivacyStatus.COMPLETE
    assert not held("front")


def test_a_task_left_running_by_a_dead_worker_is_taken_up_again(front, ann):
    synced(front)
    request = privacy.open_request("deletion", EMAIL)
    request.tasks.update(
        state=TaskState.RUNNING, started_at=timezone.now() - timedelta(hours=1), attempts=1
    )
    request = privacy.advance(request)
    task = request.tasks.get()
    assert (task.state, task.attempts) == (TaskState.DONE, 2)
    assert request.status == PrivacyStatus.COMPLETE
    assert not held("front")


def test_a_recently_started_task_is_not_run_twice(front):
    request = privacy.open_request("deletion", EMAIL)
    request.tasks.update(state=TaskState.RUNNING, started_at=timezone.now())
    assert privacy.run_task(request.tasks.get().pk) is None
    assert privacy.advance(request).status == PrivacyStatus.OPEN


def test_a_deletion_waits_for_a_running_sync_of_that_integration(front, ann):
    synced(front)
    running = SyncRun.objects.create(
        integration=front, trigger=SyncTrigger.COMMAND, status=SyncStatus.RUNNING
    )
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.WAITING
    assert f"sync run #{running.pk}" in task.reason
    assert request.status == PrivacyStatus.OPEN
    assert held("front")
    # SharpSend suppresses at once (the sync's next chunk leaves Ann out) and erases the row
    # once the sync is over (no outcome is recorded for a subscriber that is gone).
    assert is_suppressed(EMAIL)
    assert Subscriber.objects.filter(email=EMAIL).exists()
    assert request.local_done_at is None

    running.status = SyncStatus.SUCCEEDED
    running.save()
    request = privacy.run_until_settled(request)
    assert request.status == PrivacyStatus.COMPLETE
    assert not held("front")
    assert not Subscriber.objects.filter(email=EMAIL).exists()


def test_an_asynchronous_deletion_job_is_followed_to_its_end(
    make_integration, sandbox_url, ann, settings
):
    settings.PRIVACY_POLL_SECONDS = 0  # run_until_settled polls again at once
    registry.seed("sendgrid")  # the list and fields SendGrid needs
    sendgrid = make_integration("sendgrid", base_url=f"{sandbox_url}/sendgrid", name="SendGrid")
    synced(sendgrid)
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.WAITING and task.job_id  # the job's first poll: pending
    assert request.status == PrivacyStatus.OPEN

    request = privacy.run_until_settled(request)
    task.refresh_from_db()
    assert task.state == TaskState.DONE
    assert "completed" in task.reason and "1 deleted" in task.reason
    assert request.status == PrivacyStatus.COMPLETE
    assert not SandboxContact.objects.filter(platform="sendgrid", identifier=EMAIL).exists()


def test_a_deletion_job_that_never_finishes_is_given_up_then_retried_afresh(
    make_integration, sandbox_url, ann, settings
):
    registry.seed("sendgrid")
    sendgrid = make_integration("sendgrid", base_url=f"{sandbox_url}/sendgrid", name="SendGrid")
    synced(sendgrid)
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    job = task.job_id
    assert task.state == TaskState.WAITING and job
    PrivacyTask.objects.filter(pk=task.pk).update(
        created_at=timezone.now() - timedelta(days=settings.PRIVACY_JOB_GIVE_UP_DAYS, minutes=1)
    )
    privacy.run_task(task.pk, force=True)
    task.refresh_from_db()
    request.refresh_from_db()
    assert task.state == TaskState.FAILED
    assert task.reason == (
        f"SendGrid's deletion job {job} has not finished in 14 days: check it on the platform; "
        "retrying the task asks for the deletion again."
    )
    assert request.status != PrivacyStatus.COMPLETE  # nothing reported complete that is not
    settings.PRIVACY_POLL_SECONDS = 0
    assert privacy.retry_failed(request) == 1
    task.refresh_from_db()
    assert task.job_id != job  # asked again, not given up on again at once
    request = privacy.run_until_settled(request)
    assert request.status == PrivacyStatus.COMPLETE


def test_overdue_requests_are_flagged(make_integration):
    request = privacy.open_request("access", EMAIL)
    assert not request.overdue
    request.deadline = timezone.now() - timedelta(minutes=1)
    request.save()
    request.refresh_from_db()
    assert request.overdue
    assert list(privacy.overdue_requests()) == [request]


def test_capability_matrix_says_why_not(make_integration):
    make_integration("kit", name="Kit")
    make_integration("sendgrid", name="SendGrid")
    rows = {row["integration"].name: row for row in privacy.capability_matrix()}
    assert rows["Kit"]["access"]["supported"] is True
    assert rows["Kit"]["deletion"]["supported"] is False
    assert "Kit app" in rows["Kit"]["deletion"]["reason"]
    assert rows["SendGrid"]["deletion_mode"] == "async"


def test_a_key_the_connection_test_refused_fails_up_front(make_integration):
    make_integration(
        "mailchimp",
        name="Mailchimp",
        connection_report={"ok": True, "permissions": {"delete_contact": False}},
    )
    request = privacy.open_request("deletion", EMAIL)
    task = request.tasks.get()
    assert task.state == TaskState.FAILED and task.attempts == 0
    assert "may not delete contact" in task.reason
    assert privacy.capability_matrix()[0]["deletion"]["key_permits"] is False


def test_a_transient_failure_waits_and_is_tried_again(crisp, ann, settings):
    from integrations.sandbox.models import SandboxFault

    synced(crisp)
    settings.PLATFORM_MAX_ATTEMPTS = 1  # the transport gives up at once
    settings.PRIVACY_POLL_SECONDS = 0
    outage = SandboxFault.objects.create(platform="crisp", error_rate=1.0, error_status=503)
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.WAITING and "tried again later" in task.reason
    assert request.status == PrivacyStatus.OPEN

    outage.delete()
    request = privacy.run_until_settled(request)
    task.refresh_from_db()
    assert (task.state, task.attempts) == (TaskState.DONE, 2)
    assert not held("crisp")


def test_a_transient_failure_fails_after_the_last_attempt(crisp, settings):
    from integrations.sandbox.models import SandboxFault

    settings.PLATFORM_MAX_ATTEMPTS = 1
    settings.PRIVACY_POLL_SECONDS = 0
    settings.PRIVACY_TASK_MAX_ATTEMPTS = 2
    SandboxFault.objects.create(platform="crisp", error_rate=1.0, error_status=503)
    request = privacy.run_until_settled(privacy.open_request("access", EMAIL))
    task = request.tasks.get()
    assert (task.state, task.attempts) == (TaskState.FAILED, 2)
    assert "HTTP 503" in task.reason
    assert request.status == PrivacyStatus.ATTENTION


def test_a_soft_deletion_says_what_the_platform_keeps(make_integration, sandbox_url, ann):
    registry.seed("campaign_monitor")
    cm = make_integration(
        "campaign_monitor", base_url=f"{sandbox_url}/campaign_monitor", name="Campaign Monitor"
    )
    synced(cm)
    request = privacy.advance(privacy.open_request("deletion", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.DONE
    assert "keeps the subscriber in its Deleted state" in task.reason
    row = {r["integration"].name: r for r in privacy.capability_matrix()}["Campaign Monitor"]
    assert "erase them permanently" in row["deletion_note"]


def test_closing_redacts_the_email_from_task_reasons(make_integration):
    make_integration("kit", name="Kit")
    request = privacy.open_request("deletion", EMAIL)
    request.tasks.update(reason=f"Kit said: no subscriber {EMAIL.upper()} here")
    request = privacy.advance(request)
    assert request.status == PrivacyStatus.COMPLETE
    assert request.tasks.get().reason == f"Kit said: no subscriber {REDACTED_EMAIL} here"
