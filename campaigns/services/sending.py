"""The send ledger: every approved target sent exactly once, whatever crashes and reruns.

Approval created one CampaignSend per target (workflow.approve). A sender moves each along:

1. It claims the row (select_for_update, then a lease: `lease_owner` until `lease_until`), so
   two workers never move one send at once; a lease left by a worker that died lapses.
2. The platform's send engine (integrations/platforms/sending.py) runs the steps, telling the
   ledger before a create (`creating`), right after it (`created`: the remote id is committed),
   and before the send call (`sending`: the attempt is committed). Each is its own committed
   update of the locked row; no lock is held across an HTTP call.
3. A rerun resumes from what was committed: with a remote id it skips the create, and where
   the platform returns the campaign it asks the campaign's state before sending. A recorded
   send attempt of a trigger-only method, whose outcome cannot be asked, is marked UNKNOWN
   (someone checks the platform) and never sent again.
4. A batched send (the platform's send call names its recipients) commits its progress
   before and after each batch (`batch_sending`, `batch_done`); a rerun goes on after the last
   batch done, and a batch whose outcome is unknown is counted lost, never repeated. Such a
   send ends UNKNOWN when a batch was lost, and a failure after some batches went out leaves
   its assignment partly sent.

A target's failure is its own: other targets go on, and the assignment ends sent, partly sent
or failed from its sends' states.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from campaigns import content
from campaigns.models import (
    TERMINAL_SEND_STATES,
    Assignment,
    AssignmentStatus,
    CampaignSend,
    SendState,
)
from campaigns.services import journey_sending
from campaigns.services.specs import spec_for
from campaigns.services.workflow import WorkflowError, record
from integrations import clock
from integrations.platforms.errors import (
    PlatformError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.send_batches import BatchProgress
from integrations.platforms.sending import SendStep, StepKind

logger = logging.getLogger(__name__)

SETTLED = (AssignmentStatus.SENT, AssignmentStatus.PARTLY_SENT, AssignmentStatus.FAILED)
UNKNOWN_OUTCOME = (
    "A send was attempted and its outcome is unknown ({detail}); the platform cannot be asked "
    "whether it went out, so the console will not send it again. Check the platform."
)


def _send_row(send_pk: int) -> CampaignSend:
    return (
        # Only the send row is locked (its target joins are read, not locked: PostgreSQL
        # cannot lock the nullable side of the segment's outer join).
        CampaignSend.objects.select_for_update(of=("self",))
        .select_related("target__integration", "target__segment", "target__assignment")
        .get(pk=send_pk)
    )


class Ledger:
    """The engine's ledger for one send held by `owner` (each call commits at once)."""

    def __init__(self, send_pk: int, owner: str):
        self.send_pk = send_pk
        self.owner = owner
        self.attempted = False

    def _update(self, **fields) -> None:
        with transaction.atomic():
            send = _send_row(self.send_pk)
            if send.lease_owner != self.owner:
                raise WorkflowError(f"Send #{send.pk} is no longer held by this worker.")
            for name, value in fields.items():
                setattr(send, name, value)
            send.save(update_fields=[*fields, "updated_at"])

    def creating(self) -> None:
        self._update(state=SendState.CREATING)

    def created(self, remote_id: str) -> None:
        self._update(state=SendState.CREATED, remote_id=remote_id, remote_created_at=timezone.now())

    def sending(self) -> None:
        self._update(state=SendState.SENDING, attempts=F("attempts") + 1)
        self.attempted = True

    def batch_sending(self, progress: BatchProgress) -> None:
        self._update(
            state=SendState.SENDING, attempts=F("attempts") + 1, batches=progress.as_dict()
        )
        self.attempted = True

    def batch_done(self, progress: BatchProgress) -> None:
        self._update(batches=progress.as_dict())


def claim(send_pk: int, owner: str) -> CampaignSend | None:
    """The send, leased to `owner`; None when it is finished or another worker holds it."""
    with transaction.atomic():
        send = _send_row(send_pk)
        now = clock.now()
        if send.state in TERMINAL_SEND_STATES:
            return None
        if send.lease_owner not in ("", owner) and send.lease_until > now:
            return None
        platform = send.target.integration.platform_class
        method = platform.send_method(send.target.method)
        resumable = method is not None and method.per_reader  # journey events go on
        if send.state == SendState.SENDING and not (
            resumable or platform.can_resume_send(send.target.method)
        ):
            send.state = SendState.UNKNOWN
            send.error = UNKNOWN_OUTCOME.format(detail="the worker stopped during the call")
            send.lease_owner = ""
            send.save()
            return None
        send.lease_owner = owner
        send.lease_until = now + settings.SEND_LEASE_SECONDS
        send.save(update_fields=["lease_owner", "lease_until", "updated_at"])
        return send


def _release(send_pk: int, owner: str) -> None:
    CampaignSend.objects.filter(pk=send_pk, lease_owner=owner).update(
        lease_owner="", lease_until=0.0
    )


def _finish(send_pk: int, **fields) -> None:
    with transaction.atomic():
        send = _send_row(send_pk)
        for name, value in fields.items():
            setattr(send, name, value)
        send.save()


def advance(send_pk: int, owner: str | None = None) -> CampaignSend:
    """Move one send as far as it goes now; returns its row as it stands after."""
    owner = owner or uuid.uuid4().hex
    send = claim(send_pk, owner)
    if send is None:
        return CampaignSend.objects.get(pk=send_pk)
    target = send.target
    ledger = Ledger(send.pk, owner)
    client = target.integration.client()
    method = client.send_method(target.method)
    try:
        if method is not None and method.needs_segment and not send.segment_remote_id:
            raise ValidationFailed("The target was approved without a segment: not sent.")
        if method is not None and method.per_reader:
            result = journey_sending.send_journey(send, owner, client, spec_for(target, send))
        else:
            result = client.send_campaign(spec_for(target, send), ledger)
    except PlatformError as exc:
        unknown = ledger.attempted and isinstance(exc, TransientError)
        # A 429 past its waits: the platform did not act, and a resumable send goes on later.
        later = ledger.attempted and isinstance(exc, RateLimited)
        if isinstance(exc, TransientError) and method is not None and method.per_reader:
            # Still sending: the next run goes on from the last batch committed.
            _finish(send.pk, state=SendState.SENDING, error=exc.message)
        elif (unknown or later) and client.can_resume_send(target.method):
            # Still SENDING: the next run asks the platform whether it went out (or, for a
            # batched send, gives a batch in flight up and sends the rest).
            _finish(send.pk, error=exc.message)
        elif unknown:
            detail = exc.message
            _finish(send.pk, state=SendState.UNKNOWN, error=UNKNOWN_OUTCOME.format(detail=detail))
        else:
            _finish(send.pk, state=SendState.FAILED, error=_with_progress(send.pk, exc.message))
    except Exception as exc:
        # A fault of ours (an answer we could not read): what was committed stands, the next
        # run resumes from it, and the other targets go on.
        logger.exception("Send #%s stopped", send.pk)
        _finish(send.pk, error=f"Stopped by an unexpected error ({type(exc).__name__}); rerun.")
    else:
        lost = result.progress is not None and result.progress.lost_batches
        _finish(
            send.pk,
            state=SendState.UNKNOWN if lost else SendState.SENT,
            remote_id=result.remote_id,
            remote_send_id=result.remote_send_id or send.remote_send_id,
            remote_state=result.remote_state,
            error=f"{result.progress.summary()}." if lost else "",
            sent_at=timezone.now(),
        )
    finally:
        _release(send.pk, owner)
    return CampaignSend.objects.get(pk=send.pk)


def _with_progress(send_pk: int, message: str) -> str:
    """A failure's message, saying what a batched send had sent before it stopped."""
    progress = BatchProgress.from_dict(CampaignSend.objects.get(pk=send_pk).batches)
    return f"{message} (before it stopped: {progress.summary()})" if progress.started else message


def _partly_out(send) -> bool:
    """A failed batched send some of whose batches went out."""
    return send.state == SendState.FAILED and BatchProgress.from_dict(send.batches).batches > 0


def settled_status(sends) -> str | None:
    """The assignment's status its sends make (None while one is still under way)."""
    sends = [s for s in sends if s.state != SendState.CANCELLED]
    states = [s.state for s in sends]
    if any(state not in TERMINAL_SEND_STATES for state in states):
        return None
    if not states:
        return AssignmentStatus.CANCELLED
    sent = states.count(SendState.SENT)
    if sent == len(states):
        return AssignmentStatus.SENT
    if sent == 0 and SendState.UNKNOWN not in states and not any(map(_partly_out, sends)):
        return AssignmentStatus.FAILED
    return AssignmentStatus.PARTLY_SENT


def settle(assignment_id: int) -> Assignment:
    """Record the assignment's final status once every send is finished."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        sends = list(CampaignSend.objects.filter(target__assignment=assignment))
        status = settled_status(sends)
        if status and status != assignment.status:
            counts = {}
            for s in sends:
                counts[s.get_state_display().lower()] = (
                    counts.get(s.get_state_display().lower(), 0) + 1
                )
            note = ", ".join(f"{n} {state}" for state, n in sorted(counts.items()))
            record(assignment, None, status, note)
    return assignment


def send_assignment(assignment_id: int, owner: str | None = None) -> Assignment:
    """Move every send of an approved assignment along (a rerun resumes), then settle it."""
    with transaction.atomic():
        assignment = Assignment.objects.select_for_update().get(pk=assignment_id)
        if assignment.status in SETTLED:
            return assignment  # a rerun of a finished send does nothing
        if assignment.status not in (AssignmentStatus.APPROVED, AssignmentStatus.SENDING):
            raise WorkflowError(
                f"“{assignment}” is {assignment.get_status_display().lower()}, not approved: "
                "nothing to send."
            )
        if assignment.status == AssignmentStatus.APPROVED:
            targets = assignment.targets.count()
            record(assignment, None, AssignmentStatus.SENDING, f"Sending to {targets} targets")
    for send_pk in CampaignSend.objects.filter(target__assignment_id=assignment_id).values_list(
        "pk", flat=True
    ):
        advance(send_pk, owner)
    return settle(assignment_id)


def plan_assignment(assignment: Assignment) -> list[tuple]:
    """(target, steps, content) for every target: the exact requests its send would make now,
    and the content it carries (campaigns/content.py: which variation, if any)."""
    plans = []
    for target in assignment.targets.select_related("integration", "segment", "assignment"):
        send = CampaignSend.objects.filter(target=target).select_related("variation").first()
        client = target.integration.client()
        spec = spec_for(target, send)
        body = content.content_of(target, send)
        method = client.send_method(target.method)
        if method is not None and method.per_reader:
            requests = journey_sending.plan_first_batch(send, client, spec) if send else []
            plans.append((target, [SendStep(StepKind.SEND, r) for r in requests], body))
        elif spec.remote_id:
            plans.append((target, client.plan_send(spec, spec.remote_id), body))
        else:
            plans.append((target, client.plan_send(spec), body))
    return plans


RESUME_AFTER_SECONDS = 120


def stalled_assignments() -> list[int]:
    """Approved or sending assignments with a send left unfinished and unheld for a while (a
    journey stopped by a 429 storm, a send whose worker's task ended early)."""
    idle_since = timezone.now() - timedelta(seconds=RESUME_AFTER_SECONDS)
    sends = CampaignSend.objects.exclude(state__in=TERMINAL_SEND_STATES).filter(
        lease_until__lt=clock.now(),
        updated_at__lt=idle_since,
        target__assignment__status__in=(AssignmentStatus.APPROVED, AssignmentStatus.SENDING),
    )
    return sorted(set(sends.values_list("target__assignment_id", flat=True)))


def look_after_sends() -> int:
    """Housekeeping: queue the sender again for every stalled assignment (the lease and the
    ledger keep a second sender from repeating anything)."""
    from integrations.services.queue import enqueue

    stalled = stalled_assignments()
    for assignment_id in stalled:
        enqueue("campaigns.tasks.send_assignment", assignment_id)
    return len(stalled)
