"""Cancelling an assignment its platforms hold for later: each schedule taken back on its
platform (strict `responses` mocks of Braze's schedule delete), or the cancel refused before any
call, and what a refusal half-way leaves."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from responses import matchers

from campaigns.models import Assignment, AssignmentStatus, CampaignSend, SendState
from campaigns.services import workflow
from integrations.models import Segment
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_braze import KEY, US

CAMPAIGN = "c4a1d7e0-5e11-4d2b-9a10-000000000001"
CANVAS = "ca7a5000-1d2e-4f3a-8b4c-000000000001"
DELETE = f"{US}/campaigns/trigger/schedule/delete"
CANVAS_DELETE = f"{US}/canvas/trigger/schedule/delete"


@pytest.fixture
def braze(make_integration):
    return make_integration("braze", region="us-01", credentials={"api_key": KEY})


def held(make_assignment, *targets, status=AssignmentStatus.SENT, hours=3):
    """An assignment sent to `targets` (integration, method, remote, schedule id) and held by
    their platforms until `hours` from now."""
    assignment = make_assignment(*[(i, seg, m, remote) for i, seg, m, remote, _ in targets])
    Assignment.objects.filter(pk=assignment.pk).update(
        status=status, scheduled_at=timezone.now() + timedelta(hours=hours)
    )
    for target, (_, _, _, _, schedule_id) in zip(assignment.targets.all(), targets, strict=True):
        CampaignSend.objects.create(
            target=target,
            idempotency_key=f"ss-{target.pk}",
            state=SendState.SENT,
            remote_id=f"ss-{target.pk}",
            remote_send_id=schedule_id,
            remote_state="scheduled",
        )
    return Assignment.objects.get(pk=assignment.pk)


def deleted(rsps, url, key, remote, schedule_id, status=201):
    answer = {"message": "success"} if status < 400 else {"message": "Invalid schedule_id"}
    return rsps.post(
        url,
        match=[matchers.json_params_matcher({key: remote, "schedule_id": schedule_id})],
        status=status,
        json=answer,
    )


def test_each_schedule_is_taken_back_then_the_assignment_is_cancelled(
    braze, make_assignment, approver
):
    assignment = held(
        make_assignment,
        (braze, "", "api_triggered_campaign", CAMPAIGN, "sch-1"),
        (braze, "", "api_triggered_canvas", CANVAS, "sch-2"),
    )
    with strict() as rsps:
        deleted(rsps, DELETE, "campaign_id", CAMPAIGN, "sch-1")
        deleted(rsps, CANVAS_DELETE, "canvas_id", CANVAS, "sch-2")
        workflow.cancel(assignment, approver, "Held back")
    assert assignment.status == AssignmentStatus.CANCELLED
    assert {(s.state, s.remote_state) for s in CampaignSend.objects.all()} == {
        (SendState.CANCELLED, "unscheduled")
    }
    event = assignment.events.last()
    assert (event.actor, event.from_status, event.note) == (approver, "sent", "Held back")


def test_a_platform_that_cannot_unschedule_stops_the_cancel_before_any_call(
    braze, make_integration, make_assignment, approver
):
    kit = make_integration("kit")
    Segment.objects.create(
        integration=kit, remote_id="3", name="All", imported_at="2026-01-01T00:00Z"
    )
    assignment = held(
        make_assignment,
        (braze, "", "api_triggered_campaign", CAMPAIGN, "sch-1"),
        (kit, "3", "broadcast", "", ""),
    )
    with strict(), pytest.raises(workflow.WorkflowError) as refused:
        workflow.cancel(assignment, approver)
    assert "The console does not take back a scheduled Kit send" in str(refused.value)
    assert "unschedule it in Kit" in str(refused.value)
    assert set(CampaignSend.objects.values_list("state", flat=True)) == {SendState.SENT}
    assert Assignment.objects.get().status == AssignmentStatus.SENT


def test_a_refusal_half_way_says_what_was_taken_back_and_a_retry_finishes(
    braze, make_assignment, approver
):
    assignment = held(
        make_assignment,
        (braze, "", "api_triggered_campaign", CAMPAIGN, "sch-1"),
        (braze, "", "api_triggered_canvas", CANVAS, "sch-2"),
    )
    with strict() as rsps:
        deleted(rsps, DELETE, "campaign_id", CAMPAIGN, "sch-1")
        deleted(rsps, CANVAS_DELETE, "canvas_id", CANVAS, "sch-2", status=400)
        with pytest.raises(workflow.WorkflowError, match=r"could not be unscheduled.*taken back"):
            workflow.cancel(assignment, approver)
    first, second = CampaignSend.objects.order_by("pk")
    assert first.state == SendState.CANCELLED
    assert second.state == SendState.SENT and "Invalid schedule_id" in second.error
    assert Assignment.objects.get().status == AssignmentStatus.SENT
    with strict() as rsps:  # the one taken back is not asked again
        deleted(rsps, CANVAS_DELETE, "canvas_id", CANVAS, "sch-2")
        workflow.cancel(assignment, approver)
    assert Assignment.objects.get().status == AssignmentStatus.CANCELLED


def test_once_the_time_has_come_the_cancel_is_refused(braze, make_assignment, approver):
    assignment = held(
        make_assignment, (braze, "", "api_triggered_campaign", CAMPAIGN, "sch-1"), hours=-1
    )
    with strict(), pytest.raises(workflow.WorkflowError, match="still to come"):
        workflow.cancel(assignment, approver)
    assert CampaignSend.objects.get().state == SendState.SENT


def test_a_send_that_went_out_at_once_cannot_be_cancelled(braze, make_assignment, approver):
    assignment = held(make_assignment, (braze, "", "api_triggered_campaign", CAMPAIGN, "d1"))
    CampaignSend.objects.update(remote_state="sent")
    with strict(), pytest.raises(workflow.WorkflowError, match="not scheduled on the platform"):
        workflow.cancel(assignment, approver)
