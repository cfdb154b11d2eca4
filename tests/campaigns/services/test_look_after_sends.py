"""Housekeeping resumes sends left unfinished (and leaves held, fresh or finished ones)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending


@pytest.fixture
def send(make_assignment, make_integration):
    assignment = make_assignment(
        (make_integration("mailchimp"), None, "campaign", ""), status=AssignmentStatus.SENDING
    )
    row = CampaignSend.objects.create(
        target=assignment.targets.get(), idempotency_key="k-1", state=SendState.SENDING
    )
    CampaignSend.objects.filter(pk=row.pk).update(updated_at=timezone.now() - timedelta(hours=1))
    return CampaignSend.objects.get(pk=row.pk)


def test_a_stalled_send_is_queued_again(send, monkeypatch):
    queued = []
    monkeypatch.setattr("integrations.services.queue.enqueue", lambda *args: queued.append(args))
    assert sending.look_after_sends() == 1
    assert queued == [("campaigns.tasks.send_assignment", send.target.assignment_id)]


@pytest.mark.parametrize(
    "change",
    [
        {"state": SendState.SENT},  # finished
        {"lease_until": 10**12},  # a worker holds it
        {"updated_at": timezone.now()},  # it moved a moment ago
    ],
)
def test_held_fresh_or_finished_sends_are_left_alone(send, change):
    CampaignSend.objects.filter(pk=send.pk).update(**change)
    assert sending.stalled_assignments() == []


def test_a_cancelled_assignment_is_left_alone(send):
    send.target.assignment.__class__.objects.update(status=AssignmentStatus.CANCELLED)
    assert sending.stalled_assignments() == []
