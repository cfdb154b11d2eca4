"""Journeys triggered by event over real HTTP (Customer.io journeys, Klaviyo flows, Iterable
journeys): every subscribed reader of the segment gets `sharpsend_assignment_approved` once,
however the sender is interrupted (each platform keeps one event per id). Iterable's lists'
members are not read in: its readers are those of a SharpSend segment the console pushed there."""

from __future__ import annotations

import pytest

from audience.models import AudienceSegment, SubscriberStatus
from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import metrics, sending, workflow
from integrations.models import Segment, SegmentPush, SegmentPushMember
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.iterable import IterableClient
from integrations.platforms.journeys import JOURNEY_EVENT
from integrations.platforms.klaviyo import KlaviyoClient
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxEvent
from integrations.services import segment_push
from integrations.services.membership import refresh_members
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_after

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# platform → its client (batches of 4 readers here, so a crash can fall between batches)
PLATFORMS = {"customerio": CustomerIoClient, "klaviyo": KlaviyoClient, "iterable": IterableClient}
PUSHED = ("iterable",)  # readers: a pushed SharpSend segment's (its lists' are not read in)


def pushed_segment(integration) -> Segment:
    """Every subscribed reader, pushed to the platform as a list, then imported as a segment."""
    everyone = AudienceSegment.objects.create(
        name="All readers", slug="all", rules={"field": "status", "op": "eq", "value": "subscribed"}
    )
    run, _ = segment_push.push_segment(everyone, integration, "command")
    run.refresh_from_db()
    assert run.status == "succeeded", run.error
    import_segments(integration)
    push = SegmentPush.objects.get(segment=everyone, integration=integration)
    return Segment.objects.get(integration=integration, remote_id=push.remote_id)


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
    if slug in PUSHED:
        return integration, pushed_segment(integration), readers
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
    integration = journey[0]
    held = (
        SegmentPushMember.objects.filter(push__integration=integration)
        if integration.platform in PUSHED
        else segment.members
    )
    assert held.count() == len(readers) - 1 == 13  # the unsubscribed one is out
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
    SegmentPushMember.objects.all().delete()  # and no list pushed there holds anyone
    assignment = make_assignment(target(journey))
    workflow.submit(assignment, author)
    with pytest.raises(workflow.WorkflowError, match="refresh its members first"):
        workflow.approve(assignment, approver, queue_send=False)
