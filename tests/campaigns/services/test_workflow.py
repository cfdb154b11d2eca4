"""The review rules: who may submit, approve and cancel, and what each records."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending, workflow
from integrations.models import Segment


@pytest.fixture
def mailchimp(make_integration):
    integration = make_integration("mailchimp")
    Segment.objects.create(
        integration=integration, remote_id="3", name="All", imported_at="2026-01-01T00:00Z"
    )
    return integration


@pytest.fixture
def in_review(make_assignment, mailchimp, author, mailchimp_answers):
    assignment = make_assignment((mailchimp, "3", "campaign", ""))
    return workflow.submit(assignment, author)


def test_submit_needs_a_target(make_assignment, author):
    with pytest.raises(workflow.WorkflowError, match="no targets"):
        workflow.submit(make_assignment(), author)


def test_approval_needs_the_permission(in_review, author, approver):
    with pytest.raises(PermissionDenied, match="may not approve"):
        workflow.approve(in_review, author, queue_send=False)
    assert workflow.approve(in_review, approver, queue_send=False).status == "approved"


def test_an_author_cannot_approve_their_own_unless_allowed(in_review, author, settings):
    from django.contrib.auth.models import Permission, User

    author.user_permissions.add(Permission.objects.get(codename="approve_assignment"))
    author = User.objects.get(pk=author.pk)
    with pytest.raises(PermissionDenied, match="own assignments"):
        workflow.approve(in_review, author, queue_send=False)
    settings.ALLOW_SELF_APPROVAL = True
    assert workflow.approve(in_review, author, queue_send=False).status == "approved"


def test_approval_creates_one_send_per_target_and_queues_it(in_review, approver, monkeypatch):
    queued = []
    monkeypatch.setattr(
        "integrations.services.queue.enqueue", lambda func, *args: queued.append((func, args))
    )
    workflow.approve(in_review, approver)
    (send,) = CampaignSend.objects.all()
    assert send.state == SendState.PENDING and send.idempotency_key.startswith("ss-")
    assert queued == [("campaigns.tasks.send_assignment", (in_review.pk,))]
    event = in_review.events.last()
    assert (event.actor, event.from_status, event.to_status) == (approver, "in_review", "approved")


def test_preflight_problems_stop_approval(in_review, approver):
    in_review.reply_to = ""
    in_review.save()
    with pytest.raises(workflow.WorkflowError, match="needs a reply-to address"):
        workflow.approve(in_review, approver, queue_send=False)
    assert not CampaignSend.objects.exists()


def test_cancel_before_sending_cancels_the_sends(in_review, approver, author):
    workflow.approve(in_review, approver, queue_send=False)
    workflow.cancel(in_review, author)
    assert in_review.status == AssignmentStatus.CANCELLED
    assert CampaignSend.objects.get().state == SendState.CANCELLED
    with pytest.raises(workflow.WorkflowError, match="not approved"):
        sending.send_assignment(in_review.pk)


def test_a_send_held_by_another_worker_is_left_alone(in_review, approver, fake_clock, settings):
    workflow.approve(in_review, approver, queue_send=False)
    send = CampaignSend.objects.get()
    assert sending.claim(send.pk, "worker-a") is not None
    assert sending.claim(send.pk, "worker-b") is None
    fake_clock.sleep(settings.SEND_LEASE_SECONDS + 1)  # worker-a died: its lease lapses
    assert sending.claim(send.pk, "worker-b") is not None


def test_settled_status():
    def sends(*states):
        return [CampaignSend(state=s) for s in states]

    assert sending.settled_status(sends("sent", "sent")) == "sent"
    assert sending.settled_status(sends("sent", "failed")) == "partly_sent"
    assert sending.settled_status(sends("failed", "failed")) == "failed"
    assert sending.settled_status(sends("unknown", "failed")) == "partly_sent"
    assert sending.settled_status(sends("sent", "created")) is None


def test_a_batched_send_that_failed_after_some_batches_is_partly_sent():
    stopped = CampaignSend(state="failed", batches={"done_through": "5", "sent": 2, "batches": 1})
    assert sending.settled_status([stopped]) == "partly_sent"
    assert sending.settled_status([CampaignSend(state="failed", batches={})]) == "failed"
