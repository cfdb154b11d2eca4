"""An assignment's review: submit, approve, cancel; every change recorded as an event.

Approval is its own permission (campaigns.approve_assignment), and an author may not approve
their own assignment unless settings.ALLOW_SELF_APPROVAL. Approval runs the pre-flight of
every target first (so it never fails later for a reason knowable now) and, in the same
transaction as the change of status, creates the send ledger's row of every target; the send
itself is queued once that transaction commits.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction

from campaigns.content import variation_of
from campaigns.models import (
    Assignment,
    AssignmentEvent,
    AssignmentStatus,
    CampaignSend,
    Experiment,
    ExperimentState,
    SendState,
)
from campaigns.services.specs import new_idempotency_key, preflight, variation_problems

APPROVE = "campaigns.approve_assignment"
CHANGE = "campaigns.change_assignment"
EDITABLE = (AssignmentStatus.DRAFT, AssignmentStatus.IN_REVIEW)
CANCELLABLE = (AssignmentStatus.DRAFT, AssignmentStatus.IN_REVIEW, AssignmentStatus.APPROVED)


class WorkflowError(Exception):
    """The assignment cannot make this change now (the message says why)."""

    def __init__(self, message: str, problems: dict | None = None):
        super().__init__(message)
        self.message = message
        self.problems = problems or {}


def record(assignment: Assignment, actor, to_status: str, note: str = "") -> AssignmentEvent:
    """Move `assignment` (a locked row) to `to_status` and record who did it."""
    event = AssignmentEvent.objects.create(
        assignment=assignment,
        actor=actor,
        from_status=assignment.status,
        to_status=to_status,
        note=note,
    )
    assignment.status = to_status
    assignment.save(update_fields=["status", "updated_at"])
    return event


def _locked(assignment_id: int) -> Assignment:
    return Assignment.objects.select_for_update().get(pk=assignment_id)


def _expect(assignment: Assignment, *statuses: str, doing: str) -> None:
    if assignment.status not in statuses:
        raise WorkflowError(
            f"“{assignment}” is {assignment.get_status_display().lower()}: it cannot be {doing}."
        )


def submit(assignment: Assignment, actor, note: str = "") -> Assignment:
    """Draft → in review."""
    if actor is not None and not actor.has_perm(CHANGE):
        raise PermissionDenied("Submitting an assignment needs the change permission.")
    with transaction.atomic():
        locked = _locked(assignment.pk)
        _expect(locked, AssignmentStatus.DRAFT, doing="submitted")
        if not locked.targets.exists():
            raise WorkflowError(f"“{locked}” has no targets: add one before submitting.")
        problems = variation_problems(locked)
        if problems:
            raise WorkflowError(problems_message(problems, "Not submitted: "), problems)
        record(locked, actor, AssignmentStatus.IN_REVIEW, note)
    assignment.refresh_from_db()
    return assignment


def check_approver(assignment: Assignment, actor) -> None:
    """PermissionDenied unless `actor` may approve `assignment` (None: the machine's operator)."""
    if actor is None:
        return
    if not actor.has_perm(APPROVE):
        raise PermissionDenied(f"{actor} may not approve assignments.")
    if actor.pk == assignment.author_id and not settings.ALLOW_SELF_APPROVAL:
        raise PermissionDenied("Authors cannot approve their own assignments.")


def problems_message(problems: dict, lead: str = "Not approved: ") -> str:
    lines = [f"{target}: {problem}" for target, found in problems.items() for problem in found]
    return lead + " ".join(lines)


def approve(assignment: Assignment, actor, note: str = "", *, queue_send: bool = True):
    """In review → approved, one CampaignSend per target; the send is queued on commit."""
    assignment.refresh_from_db()
    check_approver(assignment, actor)
    _expect(assignment, AssignmentStatus.IN_REVIEW, doing="approved")
    problems = preflight(assignment)
    if problems:
        raise WorkflowError(problems_message(problems), problems)
    with transaction.atomic():
        locked = _locked(assignment.pk)
        _expect(locked, AssignmentStatus.IN_REVIEW, doing="approved")
        record(locked, actor, AssignmentStatus.APPROVED, note)
        # An A/B test sends its variants and then the winner through targets of its own
        # (campaigns/services/ab_sending.py); the assignment's targets send nothing themselves.
        testing = Experiment.objects.filter(assignment=locked, state=ExperimentState.DRAFT).exists()
        for target in locked.targets.select_related("segment"):
            if testing:
                continue
            CampaignSend.objects.create(
                target=target,
                idempotency_key=new_idempotency_key(target),
                segment_remote_id=target.segment.remote_id if target.segment_id else "",
                # The content is frozen: the send carries the variation approved with it.
                variation=variation_of(target),
            )
        if queue_send:
            from integrations.services.queue import enqueue

            task = "run_experiment" if testing else "send_assignment"
            enqueue(f"campaigns.tasks.{task}", locked.pk)
    assignment.refresh_from_db()
    return assignment


def cancel(assignment: Assignment, actor, note: str = "") -> Assignment:
    """Draft, in review or approved (nothing started) → cancelled; or sent to platforms that
    hold it for a time still to come → unscheduled there, then cancelled (unscheduling.py)."""
    if actor is not None and not (actor.has_perm(CHANGE) or actor.has_perm(APPROVE)):
        raise PermissionDenied("Cancelling an assignment needs the change or approve permission.")
    from campaigns.services import unscheduling

    assignment.refresh_from_db()
    if assignment.status in unscheduling.HELD and assignment.scheduled_at is not None:
        return unscheduling.cancel_scheduled(assignment, actor, note)
    with transaction.atomic():
        locked = _locked(assignment.pk)
        _expect(locked, *CANCELLABLE, doing="cancelled")
        sends = CampaignSend.objects.select_for_update().filter(target__assignment=locked)
        started = [s for s in sends if s.state != SendState.PENDING]
        if started:
            raise WorkflowError(
                f"“{locked}” has started sending to {started[0].target}: it cannot be cancelled."
            )
        sends.update(state=SendState.CANCELLED)
        record(locked, actor, AssignmentStatus.CANCELLED, note)
    assignment.refresh_from_db()
    return assignment
