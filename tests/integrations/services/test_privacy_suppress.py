"""The "do not sell / suppress" requests through the privacy engine, and the platform ids recorded
for a request's subject. Platform calls go to strict `responses` mocks (the sandbox e2e test
is tests/e2e/test_privacy_suppress_e2e.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from responses import matchers

from audience.models import (
    AudienceSegment,
    EngagementEvent,
    Subscriber,
    SubscriberStatus,
    Suppression,
)
from audience.suppression import (
    DELETION_REQUEST,
    SUPPRESS_REQUEST,
    is_suppressed,
    suppression_hash,
)
from integrations.models import (
    PrivacyKind,
    PrivacyStatus,
    SegmentPush,
    SegmentPushMember,
    SyncRun,
    SyncStatus,
    SyncTrigger,
    TaskState,
)
from integrations.services import privacy
from tests.integrations.platforms.support import strict

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_queue", "fake_clock")]

EMAIL = "ann@example.com"
KIT = "https://api.kit.com/v4"


@pytest.fixture
def ann(db):
    return Subscriber.objects.create(
        email="Ann@Example.com", first_name="Ann", attributes={"plan": "pro"}
    )


def event(integration, subscriber, platform_id, minutes_ago, kind="opened"):
    return EngagementEvent.objects.create(
        subscriber=subscriber,
        integration=integration,
        kind=kind,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
        source="webhook",
        dedupe_key=f"{integration.pk}-{platform_id}-{minutes_ago}",
        data={"platform_id": platform_id},
    )


def pushed(integration, subscriber, remote_key, identifier=EMAIL):
    segment, _ = AudienceSegment.objects.get_or_create(name="VIPs", slug="vips")
    push = SegmentPush.objects.create(segment=segment, integration=integration, remote_id="5")
    SegmentPushMember.objects.create(
        push=push, subscriber=subscriber, identifier=identifier, remote_key=remote_key
    )
    return push


def test_suppress_keeps_the_reader_but_unsubscribes_and_suppresses_them(ann):
    request = privacy.run_until_settled(privacy.open_request("suppress", " ANN@example.com "))
    assert request.kind == PrivacyKind.SUPPRESSION
    assert request.status == PrivacyStatus.COMPLETE
    ann.refresh_from_db()  # the data stays
    assert (ann.first_name, ann.attributes) == ("Ann", {"plan": "pro"})
    assert ann.status == SubscriberStatus.UNSUBSCRIBED
    entry = Suppression.objects.get(email_hash=suppression_hash(EMAIL))
    assert entry.reason == SUPPRESS_REQUEST
    assert request.local_result == {
        "found": True,
        "suppressed": True,
        "unsubscribed": 1,
        "detail": "Suppressed in SharpSend (data kept; nothing is sent to the reader).",
    }
    assert request.subject_email == ""  # only the keyed hash stays once complete
    assert request.bundle is None


def test_a_later_deletion_keeps_the_entry_and_says_the_reader_was_forgotten(ann):
    privacy.run_until_settled(privacy.open_request("suppress", EMAIL))
    privacy.run_until_settled(privacy.open_request("deletion", EMAIL))
    assert not Subscriber.objects.filter(email__iexact=EMAIL).exists()
    assert Suppression.objects.get().reason == DELETION_REQUEST
    # …and a suppression after a deletion does not downgrade it.
    privacy.run_until_settled(privacy.open_request("suppress", EMAIL))
    assert Suppression.objects.get().reason == DELETION_REQUEST


def test_an_unknown_email_is_suppressed_all_the_same(db):
    request = privacy.run_until_settled(privacy.open_request("suppress", "nobody@example.com"))
    assert request.status == PrivacyStatus.COMPLETE
    assert request.local_result["found"] is False
    assert is_suppressed("nobody@example.com")


def test_tasks_follow_each_platforms_support(make_integration):
    make_integration("kit", name="Kit", credentials={"api_key": "kit-test-v4-key-000"})
    make_integration("front", name="Front")
    make_integration("iterable", name="Iterable")
    tasks = {t.integration_name: t for t in privacy.open_request("suppress", EMAIL).tasks.all()}
    assert tasks["Kit"].state == TaskState.PENDING
    assert tasks["Front"].state == TaskState.NOT_SUPPORTED
    assert tasks["Front"].reason.startswith("Front cannot suppress contact: Front has no email")
    assert tasks["Iterable"].state == TaskState.NOT_SUPPORTED
    assert "POST /api/users/forget" in tasks["Iterable"].reason


def test_platform_ids_are_recorded_when_the_request_is_received(make_integration, ann):
    kit = make_integration("kit", name="Kit")
    klaviyo = make_integration("klaviyo", name="Klaviyo")
    keap = make_integration("keap", name="Keap")
    front = make_integration("front", name="Front")
    event(kit, ann, "111", minutes_ago=60)
    event(kit, ann, "4242", minutes_ago=5)  # the latest event wins
    event(klaviyo, ann, "from-a-webhook", minutes_ago=1)
    pushed(klaviyo, None, "01HPROFILE", identifier="ANN@example.com")  # a push wins
    event(keap, ann, "", minutes_ago=1)  # an event without an id names none
    other = Subscriber.objects.create(email="bob@example.com")
    event(front, other, "bob-id", minutes_ago=1)  # someone else's id is not Ann's

    assert privacy.platform_ids(EMAIL) == {
        kit.pk: ("4242", "webhook event (opened)"),
        klaviyo.pk: ("01HPROFILE", f"segment push #{SegmentPush.objects.get().pk}"),
    }
    request = privacy.open_request("deletion", EMAIL)
    tasks = {t.integration_name: t for t in request.tasks.all()}
    assert (tasks["Kit"].platform_id, tasks["Kit"].platform_id_source) == (
        "4242",
        "webhook event (opened)",
    )
    assert tasks["Klaviyo"].platform_id == "01HPROFILE"
    assert tasks["Keap"].platform_id == tasks["Front"].platform_id == ""


def test_the_known_id_is_what_the_platform_is_called_with(make_integration, ann):
    kit = make_integration("kit", name="Kit", credentials={"api_key": "kit-test-v4-key-000"})
    event(kit, ann, "4242", minutes_ago=5)
    with strict() as rsps:
        rsps.post(
            f"{KIT}/subscribers/4242/unsubscribe",
            match=[matchers.header_matcher({"X-Kit-Api-Key": "kit-test-v4-key-000"})],
            status=204,
        )
        request = privacy.run_until_settled(privacy.open_request("suppress", EMAIL))
        assert len(rsps.calls) == 1  # no look-up by email
    task = request.tasks.get()
    assert task.state == TaskState.DONE, task.reason
    assert task.job_id == "4242"
    assert "found by the id the console knew" in task.reason
    assert request.status == PrivacyStatus.COMPLETE


def test_a_suppression_waits_for_a_running_sync_of_that_integration(make_integration, ann):
    kit = make_integration("kit", name="Kit", credentials={"api_key": "kit-test-v4-key-000"})
    running = SyncRun.objects.create(
        integration=kit, trigger=SyncTrigger.COMMAND, status=SyncStatus.RUNNING
    )
    with strict() as rsps:  # nothing may be sent while the sync runs
        request = privacy.run_until_settled(privacy.open_request("suppress", EMAIL), timeout=0)
        assert len(rsps.calls) == 0
    task = request.tasks.get()
    assert task.state == TaskState.WAITING
    assert task.reason == f"Waiting for sync run #{running.pk} to finish before suppressing."
    # SharpSend's side does not wait: the running sync's next chunk already leaves Ann out.
    assert request.local_done_at is not None and is_suppressed(EMAIL)


def test_a_platform_refusing_the_suppression_fails_the_task(make_integration, ann):
    make_integration(
        "sendgrid",
        name="SendGrid",
        region="global",
        credentials={"api_key": "SG.test-key-0123456789"},
    )
    with strict() as rsps:
        rsps.post(
            "https://api.sendgrid.com/v3/asm/suppressions/global",
            status=403,
            json={"errors": [{"field": None, "message": "access forbidden"}]},
        )
        request = privacy.run_until_settled(privacy.open_request("suppress", EMAIL))
    task = request.tasks.get()
    assert task.state == TaskState.FAILED
    assert task.reason.startswith("SendGrid refused: the key lacks the permission (HTTP 403)")
    assert request.status == PrivacyStatus.ATTENTION


def test_the_capability_matrix_lists_suppression(make_integration):
    make_integration("kit", name="Kit")
    make_integration("iterable", name="Iterable")
    rows = {row["integration"].name: row for row in privacy.capability_matrix()}
    assert rows["Kit"]["suppress"] == {"supported": True, "reason": "", "key_permits": None}
    assert rows["Iterable"]["suppress"]["supported"] is False
    assert "updateSubscriptions" in rows["Iterable"]["suppress"]["reason"]


def test_a_key_the_connection_test_refused_fails_the_suppression_up_front(make_integration):
    make_integration(
        "mailchimp",
        name="Mailchimp",
        connection_report={"ok": False, "permissions": {"suppress_contact": False}},
    )
    with strict() as rsps:  # nothing is asked of the platform
        request = privacy.run_until_settled(privacy.open_request("suppress", EMAIL), timeout=0)
        assert len(rsps.calls) == 0
    task = request.tasks.get()
    assert task.state == TaskState.FAILED and task.attempts == 0
    assert "may not suppress contact" in task.reason
    assert privacy.capability_matrix()[0]["suppress"]["key_permits"] is False
