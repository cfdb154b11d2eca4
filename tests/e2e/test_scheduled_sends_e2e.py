"""Scheduled sends end to end: the platform is told the time, its emulator holds the send and
delivers it when that time comes (integrations/sandbox/scheduled.py), exactly once; cancelling
the assignment before then takes the schedule back on the platform and nothing goes out."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Assignment, AssignmentStatus, CampaignSend, SendState
from campaigns.services import metrics, sending, workflow
from integrations.models import Segment
from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, registry, scheduled
from integrations.sandbox.models import SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import approved

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "campaign_monitor"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))


@pytest.fixture
def integration(make_integration, sandbox_url, e2e_clock, make_subscribers, run_sync):
    registry.seed(SLUG)
    integration = make_integration(
        SLUG,
        base_url=f"{sandbox_url}/{SLUG}",
        mappings=MAPPINGS,
        credentials=accounts.demo_account(SLUG).credentials,
    )
    make_subscribers()
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    return integration


def scheduled_assignment(integration, make_assignment, author, approver, at):
    segment = Segment.objects.get(integration=integration, name="Growth Investors")
    return approved(
        make_assignment,
        (integration, segment.remote_id, "campaign", ""),
        author=author,
        approver=approver,
        scheduled_at=at,
    )


def at_next_minute(hours: int):
    return (timezone.now() + timedelta(hours=hours)).replace(second=0, microsecond=0)


def test_a_scheduled_campaign_is_delivered_once_at_its_time(
    integration, make_assignment, author, approver
):
    at = at_next_minute(3)
    assignment = scheduled_assignment(integration, make_assignment, author, approver, at)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)  # a rerun asks, finds it scheduled
    (campaign,) = SandboxSend.objects.filter(platform=SLUG, kind="campaign")
    assert (campaign.status, campaign.sends, campaign.recipients) == ("scheduled", 0, 0)
    assert scheduled.due_at(campaign) == at
    send = CampaignSend.objects.get()
    assert (send.state, send.remote_state) == (SendState.SENT, "scheduled")

    assert scheduled.deliver_due(at - timedelta(minutes=1)) == 0
    assert not metrics.due_sends(at - timedelta(minutes=1)).exists()  # no figures before it
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sends, campaign.recipients) == ("sent", 1, 10)
    assert campaign.sent_at == at
    assert list(metrics.due_sends(at + timedelta(minutes=1))) == [send]


def test_cancelling_before_the_time_unschedules_it_and_nothing_goes_out(
    integration, make_assignment, author, approver
):
    at = at_next_minute(3)
    assignment = scheduled_assignment(integration, make_assignment, author, approver, at)
    sending.send_assignment(assignment.pk)
    workflow.cancel(assignment, approver, "Held back")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.CANCELLED
    send = CampaignSend.objects.get()
    assert (send.state, send.remote_state) == (SendState.CANCELLED, "unscheduled")
    (campaign,) = SandboxSend.objects.filter(platform=SLUG, kind="campaign")
    assert campaign.status == "draft"
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sends) == ("draft", 0)


def test_a_cancel_after_the_time_is_refused(integration, make_assignment, author, approver):
    at = at_next_minute(3)
    assignment = scheduled_assignment(integration, make_assignment, author, approver, at)
    sending.send_assignment(assignment.pk)
    Assignment.objects.filter(pk=assignment.pk).update(
        scheduled_at=timezone.now() - timedelta(minutes=1)
    )
    with pytest.raises(workflow.WorkflowError, match="not scheduled for a time still to come"):
        workflow.cancel(assignment, approver)
    assert CampaignSend.objects.get().state == SendState.SENT


# --- Braze: scheduled API-triggered campaigns and Canvases --------------------------------------

BRAZE = {
    "api_triggered_campaign": ("c4a1d7e0-5e11-4d2b-9a10-000000000001", "campaign_trigger"),
    "api_triggered_canvas": ("ca7a5000-1d2e-4f3a-8b4c-000000000001", "canvas_trigger"),
}


@pytest.fixture(params=sorted(BRAZE))
def braze_target(request, make_integration, sandbox_url, e2e_clock):
    from tests.e2e.test_campaign_triggers_e2e import connect, readers

    readers("braze")
    integration = connect(make_integration, sandbox_url, "braze")
    remote, kind = BRAZE[request.param]
    return (integration, "", request.param, remote), kind


def test_a_braze_trigger_scheduled_is_delivered_once_at_its_time(
    braze_target, make_assignment, author, approver
):
    target, kind = braze_target
    at = at_next_minute(2)
    assignment = approved(
        make_assignment, target, author=author, approver=approver, scheduled_at=at
    )
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (trigger,) = SandboxSend.objects.filter(platform="braze", kind=kind)
    assert (trigger.status, trigger.sends, scheduled.due_at(trigger)) == ("scheduled", 0, at)
    send = CampaignSend.objects.get()
    assert send.remote_send_id == trigger.content["schedule_id"]
    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(days=1)) == 0
    trigger.refresh_from_db()
    assert (trigger.status, trigger.sends, trigger.recipients) == ("sent", 1, 3)


def test_a_braze_schedule_is_deleted_when_the_assignment_is_cancelled(
    braze_target, make_assignment, author, approver
):
    target, kind = braze_target
    at = at_next_minute(2)
    assignment = approved(
        make_assignment, target, author=author, approver=approver, scheduled_at=at
    )
    sending.send_assignment(assignment.pk)
    workflow.cancel(assignment, approver)
    assert CampaignSend.objects.get().state == SendState.CANCELLED
    (trigger,) = SandboxSend.objects.filter(platform="braze", kind=kind)
    assert trigger.status == "deleted"
    assert scheduled.deliver_due(at + timedelta(days=1)) == 0
    trigger.refresh_from_db()
    assert trigger.sends == 0


# --- Mailchimp, SendGrid, Iterable blasts: scheduled, then taken back on cancel -------------------

# platform → (send method, extra credentials, the kind the emulator records, its state once
# scheduled, its state once taken back)
TAKEN_BACK = {
    "mailchimp": ("campaign", {}, "campaign", "schedule", "save"),
    "sendgrid": (
        "single_send",
        {"sender_id": "1", "suppression_group_id": "5"},
        "single_send",
        "scheduled",
        "draft",
    ),
    "iterable": ("blast_campaign", {}, "campaign", "Scheduled", "Cancelled"),
}


def _target_on(slug: str, table: dict, make_integration, sandbox_url):
    """(slug, target, the states `table` expects) for a send to the platform's first segment."""
    method, extra, *states = table[slug]
    registry.seed(slug)
    credentials = {**accounts.demo_account(slug).credentials, **extra}
    integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}", credentials=credentials)
    import_segments(integration)
    segment = Segment.objects.filter(integration=integration).order_by("name").first()
    return slug, (integration, segment.remote_id, method, ""), states


@pytest.fixture(params=sorted(TAKEN_BACK))
def held_elsewhere(request, make_integration, sandbox_url, e2e_clock):
    return _target_on(request.param, TAKEN_BACK, make_integration, sandbox_url)


def test_cancelling_takes_the_schedule_back_on_the_platform(
    held_elsewhere, make_assignment, author, approver
):
    slug, target, (kind, scheduled_state, taken_back) = held_elsewhere
    at = at_next_minute(3)
    at = at.replace(minute=at.minute - at.minute % 15)  # Mailchimp: quarter hours
    assignment = approved(
        make_assignment, target, author=author, approver=approver, scheduled_at=at
    )
    sending.send_assignment(assignment.pk)
    (held,) = SandboxSend.objects.filter(platform=slug, kind=kind)
    assert held.status == scheduled_state
    workflow.cancel(assignment, approver)
    held.refresh_from_db()
    assert held.status == taken_back
    assert CampaignSend.objects.get().state == SendState.CANCELLED
    assert Assignment.objects.get().status == AssignmentStatus.CANCELLED


# --- Mailchimp, SendGrid, Iterable blasts and Kit broadcasts: held, then delivered at the time -

# platform → (send method, extra credentials, the kind the emulator records, its state once
# scheduled, its state once delivered)
DELIVERED = {
    "mailchimp": ("campaign", {}, "campaign", "schedule", "sent"),
    "sendgrid": (
        "single_send",
        {"sender_id": "1", "suppression_group_id": "5"},
        "single_send",
        "scheduled",
        "triggered",
    ),
    "iterable": ("blast_campaign", {}, "campaign", "Scheduled", "Finished"),
    "kit": ("broadcast", {}, "broadcast", "scheduled", "completed"),
}


@pytest.fixture(params=sorted(DELIVERED))
def held_for_later(request, make_integration, sandbox_url, e2e_clock):
    return _target_on(request.param, DELIVERED, make_integration, sandbox_url)


def test_a_scheduled_send_elsewhere_is_delivered_once_at_its_time(
    held_for_later, make_assignment, author, approver
):
    slug, target, (kind, scheduled_state, delivered_state) = held_for_later
    at = at_next_minute(3)
    at = at.replace(minute=at.minute - at.minute % 15)  # Mailchimp: quarter hours
    assignment = approved(
        make_assignment, target, author=author, approver=approver, scheduled_at=at
    )
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)  # a rerun finds it scheduled
    (held,) = SandboxSend.objects.filter(platform=slug, kind=kind)
    assert (held.status, held.sends, held.sent_at) == (scheduled_state, 0, None)
    assert scheduled.due_at(held) == at
    send = CampaignSend.objects.get()
    assert send.state == SendState.SENT

    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert not metrics.due_sends(at - timedelta(minutes=1)).exists()
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.sent_at) == (delivered_state, 1, at)
    assert scheduled.due_at(held) is None
    assert list(metrics.due_sends(at + timedelta(minutes=1))) == [send]
