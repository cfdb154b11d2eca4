"""Journeys triggered by event over real HTTP (Customer.io journeys, Klaviyo flows): every
subscribed reader of the segment gets `sharpsend_assignment_approved` once, however the sender is
interrupted (each platform drops an event whose id it already holds)."""

from __future__ import annotations

import pytest

from audience.models import SubscriberStatus
from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import metrics, sending, workflow
from integrations.models import Segment
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.journeys import JOURNEY_EVENT
from integrations.platforms.klaviyo import KlaviyoClient
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxEvent
from integrations.services.membership import refresh_members
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_after

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# platform → its client (batches of 4 readers here, so a crash can fall between batches)
PLATFORMS = {"customerio": CustomerIoClient, "klaviyo": KlaviyoClient}


@pytest.fixture(params=sorted(PLATFORMS))
def journey(
    request, make_integration, make_subscribers, run_sync, sandbox_url, e2e_clock, monkeypatch
):
    slug = request.param
    monkeypatch.setattr(PLATFORMS[slug], "journey_batch_max", 4)
    registry.seed(slug)
    integration = make_integration(
        slug,
        base_url=f"{sandbox_url}/{slug}",
        credentials=dict(accounts.demo_account(slug).credentials),
    )
    readers = make_subscribers(14, unsubscribed=(3,))
    run_sync(integration)
    import_segments(integration)
    segment = Segment.objects.get(integration=integration, name="All readers")
    refresh_members(segment)
    return integration, segment, readers


def target(journey):
    integration, segment, _ = journey
    return integration, segment.remote_id, "journey_event", ""


def events(journey):
    return SandboxEvent.objects.filter(platform=journey[0].platform, name=JOURNEY_EVENT)


def test_every_subscribed_reader_gets_the_event_once(make_assignment, journey, author, approver):
    _, segment, readers = journey
    assignment = approved(make_assignment, target(journey), author=author, approver=approver)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)  # a rerun sends nothing more
    send = CampaignSend.objects.get()
    assert send.state == SendState.SENT
    subscribed = {r.email.lower() for r in readers if r.status == SubscriberStatus.SUBSCRIBED}
    assert segment.members.count() == len(readers) - 1 == 13  # the unsubscribed one is out
    assert send.readers_sent == 13 and send.readers_refused == 0
    assert sorted(e.identifier for e in events(journey)) == sorted(subscribed)
    assert {e.data["subject"] for e in events(journey)} == {"Markets this week"}
    assert {e.data["sharpsend_send"] for e in events(journey)} == {send.idempotency_key}
    assert assignment.__class__.objects.get().status == AssignmentStatus.SENT
    # A journey's figures are its campaign's, not this send's: not read (and not a failure).
    result = metrics.refresh_metrics([send])
    assert (result.read, result.failed, result.unsupported) == (0, [], 1)


def test_a_batch_repeated_after_a_crash_triggers_nobody_twice(
    make_assignment, journey, author, approver, monkeypatch, settings
):
    settings.SEND_LEASE_SECONDS = 0.0  # the dead worker's lease has lapsed at once
    assignment = approved(make_assignment, target(journey), author=author, approver=approver)
    # It dies once the platform took the second batch, before the cursor was committed.
    client_class = PLATFORMS[journey[0].platform]
    second_batch = crash_after(monkeypatch, client_class, "trigger_journey", times=2)
    with second_batch, pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    send = CampaignSend.objects.get()
    assert send.state == SendState.SENDING and send.readers_sent == 4
    sending.send_assignment(assignment.pk)
    send.refresh_from_db()
    assert send.state == SendState.SENT and send.readers_sent == 13
    assert events(journey).count() == 13  # one each
    assert sum(e.duplicates for e in events(journey)) == 4  # the repeated batch, dropped by id


def test_without_imported_members_approval_says_what_to_do(
    make_assignment, journey, author, approver
):
    _, segment, _ = journey
    segment.members.all().delete()
    assignment = make_assignment(target(journey))
    workflow.submit(assignment, author)
    with pytest.raises(workflow.WorkflowError, match="refresh its members first"):
        workflow.approve(assignment, approver, queue_send=False)
