"""Cancelling an assignment its platforms hold for later: every scheduled send is taken back
on its platform (integrations/platforms/scheduling.py), then the assignment is cancelled.

A send scheduled on the platform is SENT in the ledger with `remote_state` "scheduled". The
cancel is refused before any call when the scheduled time has passed, when a send has gone out
already (not scheduled), or when a platform's API cannot unschedule (the message says to do it
there). Each send taken back is committed as cancelled at once; a platform that refuses stops
the cancel with what was and was not taken back, and the assignment stays as it was, so the
cancel can be tried again (the sends already cancelled are not asked again). No lock is held
across an HTTP call.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from campaigns.models import Assignment, AssignmentStatus, CampaignSend, SendState
from campaigns.services.specs import spec_for
from campaigns.services.workflow import WorkflowError, record
from integrations.platforms.errors import PlatformError

SCHEDULED = "scheduled"
HELD = (AssignmentStatus.SENT, AssignmentStatus.PARTLY_SENT)


def is_scheduled(assignment: Assignment) -> bool:
    """Whether the assignment's sends are held by their platforms for a time still to come."""
    return (
        assignment.status in HELD
        and assignment.scheduled_at is not None
        and assignment.scheduled_at > timezone.now()
    )


def _sends(assignment: Assignment) -> list[CampaignSend]:
    return list(
        CampaignSend.objects.filter(target__assignment=assignment)
        .exclude(state=SendState.CANCELLED)
        .select_related("target__integration", "target__segment", "target__assignment")
    )


def _problems(assignment: Assignment, sends: list[CampaignSend]) -> list[str]:
    if not is_scheduled(assignment):
        return [
            f"“{assignment}” is not scheduled for a time still to come: it cannot be cancelled."
        ]
    problems = []
    for send in sends:
        target = send.target
        if send.state != SendState.SENT or send.remote_state != SCHEDULED:
            problems.append(
                f"{target}: not scheduled on the platform ({send.get_state_display()})."
            )
            continue
        why = target.integration.platform_class.unschedule_problem(target.method)
        if why:
            problems.append(f"{target}: {why}")
    return problems


def cancel_scheduled(assignment: Assignment, actor, note: str = "") -> Assignment:
    """Unschedule every send of a scheduled assignment on its platform, then cancel it."""
    current = Assignment.objects.get(pk=assignment.pk)
    sends = _sends(current)
    problems = _problems(current, sends)
    if problems:
        raise WorkflowError("Not cancelled: " + " ".join(problems))
    taken_back = []
    for send in sends:
        client = send.target.integration.client()
        try:
            client.unschedule(spec_for(send.target, send), send.remote_id, send.remote_send_id)
        except PlatformError as exc:
            done = f" (taken back: {', '.join(taken_back)})" if taken_back else ""
            CampaignSend.objects.filter(pk=send.pk).update(error=f"Unschedule: {exc.message}")
            raise WorkflowError(
                f"Not cancelled: {send.target} could not be unscheduled ({exc.message}){done}. "
                "Try again, or unschedule it on the platform."
            ) from exc
        CampaignSend.objects.filter(pk=send.pk).update(
            state=SendState.CANCELLED, remote_state="unscheduled", error=""
        )
        taken_back.append(str(send.target))
    with transaction.atomic():
        locked = Assignment.objects.select_for_update().get(pk=assignment.pk)
        record(locked, actor, AssignmentStatus.CANCELLED, note or f"Unscheduled {len(sends)} sends")
    assignment.refresh_from_db()
    return assignment
