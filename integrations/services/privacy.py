"""Privacy requests: a reader's access, deletion or "do not sell / suppress" request across
SharpSend and every integration, with one resumable task per integration.

- `open_request` records the request and one task per integration: `not_supported` (with the
  platform's declared reason) where the client lacks the capability, `pending` otherwise;
  each task keeps the platform's id for the subject where the console knows one
  (`platform_ids`), for the APIs that address people by id.
- `advance` does SharpSend's side once (erase + suppress, or collect what it holds), takes up
  tasks left `running` by a crashed worker, and queues every task that has work to do.
- `run_task` does what the task's state says: export, submit the deletion or the
  suppression, or follow the platform's deletion job (`privacy_job_status`); a deletion or a
  suppression waits while a sync of that integration is running, so nothing pushed by it
  survives (or re-subscribes the reader after) the request. Every step is
  idempotent (exports read, deletions of what is gone are no-ops), so a re-run is safe.
- A request is complete only when SharpSend's side is done and every task is done or
  not supported; then the subject's email is dropped (only its keyed hash stays), email
  traces in API call paths are scrubbed, and an access request's bundle is assembled, to be
  downloaded until PRIVACY_BUNDLE_TTL_HOURS and purged by `purge_expired_bundles`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from audience.models import EngagementEvent, normalise_email
from audience.suppression import suppress, suppression_hash
from integrations import clock
from integrations.models import (
    ACTIVE_SYNC_STATUSES,
    SETTLED_STATES,
    AuditAction,
    Integration,
    PrivacyKind,
    PrivacyRequest,
    PrivacyStatus,
    PrivacyTask,
    SegmentPushMember,
    SyncRun,
    TaskState,
)
from integrations.platforms.errors import PlatformError, UnsupportedCapability
from integrations.platforms.types import Capability, PrivacyState
from integrations.services import audit, privacy_local, queue

logger = logging.getLogger(__name__)

CAPABILITY = {
    PrivacyKind.ACCESS: Capability.EXPORT_CONTACT,
    PrivacyKind.DELETION: Capability.DELETE_CONTACT,
    PrivacyKind.SUPPRESSION: Capability.SUPPRESS_CONTACT,
}
NOTHING_HELD = "nothing held"
# States run_task takes up (a stale RUNNING one too, see _take_up_stale).
RUNNABLE = (TaskState.PENDING, TaskState.WAITING)


class PrivacyInputError(ValueError):
    """The request cannot be opened as given (e.g. not an email address)."""


# --- opening --------------------------------------------------------------------------------


def open_request(kind: str, email: str, *, actor=None, via: str = "") -> PrivacyRequest:
    """Record a request and its tasks (nothing is run yet: see `advance`)."""
    kind = PrivacyKind(kind)
    email = normalise_email(email)
    try:
        validate_email(email)
    except ValidationError:
        raise PrivacyInputError(f"'{email}' is not an email address.") from None
    now = timezone.now()
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=kind,
            subject_email=email,
            subject_hash=suppression_hash(email),
            received_at=now,
            deadline=now + timedelta(days=settings.PRIVACY_DEADLINE_DAYS),
            handled_by=actor if getattr(actor, "is_authenticated", False) else None,
            via=via[:100],
        )
        known = platform_ids(email)
        PrivacyTask.objects.bulk_create(
            [
                _task_for(request, integration, known.get(integration.pk))
                for integration in Integration.objects.order_by("name")
            ]
        )
        audit.record(
            AuditAction.PRIVACY_REQUEST_HANDLED,
            actor=actor,
            via=via,
            target=request,
            summary=f"{request.get_kind_display()} request opened",
        )
    return request


def _task_for(
    request: PrivacyRequest, integration: Integration, known: tuple[str, str] | None
) -> PrivacyTask:
    platform_id, source = known or ("", "")
    task = PrivacyTask(
        request=request,
        integration=integration,
        integration_name=integration.name,
        platform=integration.platform,
        platform_id=platform_id,
        platform_id_source=source,
    )
    platform = integration.platform_class
    capability = CAPABILITY[request.kind]
    if not platform.supports(capability):
        task.state = TaskState.NOT_SUPPORTED
        task.reason = str(platform.unsupported(capability))
        task.finished_at = timezone.now()
    elif key_permits(integration, capability) is False:
        # Checked up front: the last connection test said this key may not. Retrying the
        # task (after fixing the key) asks the platform for real.
        task.state = TaskState.FAILED
        task.reason = (
            f"The stored {platform.label} key may not {capability.label.lower()} (last "
            "connection test): give it that permission, then retry the task."
        )
        task.finished_at = timezone.now()
    return task


def platform_ids(email: str) -> dict[int, tuple[str, str]]:
    """Per integration id, the platform's own id for `email` and where the console found it.

    The console keeps platform ids in two places: a pushed segment's members (`remote_key`,
    the id the platform answered an add with, e.g. a Klaviyo profile id) and the webhook
    events it recorded (`data.platform_id`: a Kit subscriber id, a Customer.io customer id, a
    Keap contact id …). A push member wins over an event (it is what the platform answered
    the console itself); among events, the latest.
    """
    email = normalise_email(email)
    found: dict[int, tuple[str, str]] = {}
    members = (
        SegmentPushMember.objects.filter(
            Q(subscriber__email__iexact=email) | Q(identifier__iexact=email)
        )
        .exclude(remote_key="")
        .order_by("-updated_at")
        .values_list("push__integration_id", "remote_key", "push_id")
    )
    for integration_id, remote_key, push_id in members:
        found.setdefault(integration_id, (remote_key, f"segment push #{push_id}"))
    events = (
        EngagementEvent.objects.filter(
            subscriber__email__iexact=email,
            integration__isnull=False,
            data__has_key="platform_id",
        )
        .order_by("-occurred_at", "-pk")
        .values_list("integration_id", "data", "kind")
    )
    for integration_id, data, kind in events:
        value = str((data or {}).get("platform_id") or "")
        if value and integration_id not in found:
            found[integration_id] = (value[:200], f"webhook event ({kind})")
    return found


def key_permits(integration: Integration, capability: Capability) -> bool | None:
    """What the integration's last connection test said of this capability (None: unknown)."""
    permissions = (integration.connection_report or {}).get("permissions") or {}
    return permissions.get(capability.value)


# --- running --------------------------------------------------------------------------------


def advance(request: PrivacyRequest) -> PrivacyRequest:
    """SharpSend's side (once), then queue every task with work to do; the request's state."""
    do_local_side(request)
    _take_up_stale(request)
    now = timezone.now()
    for task in request.tasks.filter(state__in=RUNNABLE):
        if task.next_check_at is None or task.next_check_at <= now:
            queue.enqueue("integrations.tasks.run_privacy_task", task.pk, group="privacy")
    return conclude(request)


def advance_open() -> int:
    """Advance every request not complete (housekeeping); how many."""
    count = 0
    for request in PrivacyRequest.objects.exclude(status=PrivacyStatus.COMPLETE):
        advance(request)
        count += 1
    return count


def run_until_settled(request: PrivacyRequest, timeout: float = 3600.0) -> PrivacyRequest:
    """Run every task in this process, following platform jobs until they end or `timeout`
    seconds pass (the command's --wait). Waits between polls on integrations.clock."""
    do_local_side(request)
    _take_up_stale(request)
    deadline = clock.now() + timeout
    while True:
        for task_id in request.tasks.filter(state__in=RUNNABLE).values_list("pk", flat=True):
            run_task(task_id, force=True)
        request.refresh_from_db()
        waiting = request.tasks.filter(state=TaskState.WAITING).exists()
        if not (waiting or request.local_done_at is None) or clock.now() >= deadline:
            return conclude(request)
        clock.sleep(settings.PRIVACY_POLL_SECONDS)
        do_local_side(request)


def retry_failed(request: PrivacyRequest, *, actor=None, via: str = "") -> int:
    """Put the request's failed tasks back to pending and queue them; how many."""
    if request.status == PrivacyStatus.COMPLETE:
        return 0
    # A retried task starts afresh: a deletion is asked again (the platforms take a repeated
    # deletion as one), so a job given up on is not given up on again at once.
    count = request.tasks.filter(state=TaskState.FAILED).update(
        state=TaskState.PENDING, next_check_at=None, job_id="", created_at=timezone.now()
    )
    if count:
        audit.record(
            AuditAction.PRIVACY_REQUEST_HANDLED,
            actor=actor,
            via=via,
            target=request,
            summary=f"Retried {count} failed task(s)",
        )
    advance(request)
    return count


def do_local_side(request: PrivacyRequest) -> None:
    """Erase (deletion) or collect (access) what SharpSend holds, once per request.

    A deletion suppresses the email at once (a running sync's next chunk leaves the reader
    out) but erases the rows only once no sync is running, so that no sync in flight records
    outcomes for a subscriber that is gone; until then the step waits for the next advance.
    """
    with transaction.atomic():
        locked = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if locked.local_done_at is not None or not locked.subject_email:
            return
        if locked.kind == PrivacyKind.DELETION:
            suppress(locked.subject_email, reason="deletion request")
            if SyncRun.objects.filter(status__in=ACTIVE_SYNC_STATUSES, dry_run=False).exists():
                return
            locked.local_result = privacy_local.erase(locked.subject_email)
        elif locked.kind == PrivacyKind.SUPPRESSION:
            # The suppression entry is what syncs, imports and webhooks check (a running
            # sync's next chunk leaves the reader out): nothing waits here.
            locked.local_result = privacy_local.suppress_reader(locked.subject_email)
        else:
            locked.local_result = privacy_local.held_data(locked.subject_email)
        locked.local_done_at = timezone.now()
        locked.save(update_fields=["local_result", "local_done_at"])
    request.refresh_from_db()


def _take_up_stale(request: PrivacyRequest) -> None:
    """Tasks left running longer than PRIVACY_TASK_STALE_MINUTES (a worker died) run again."""
    stale = timezone.now() - timedelta(minutes=settings.PRIVACY_TASK_STALE_MINUTES)
    request.tasks.filter(state=TaskState.RUNNING, started_at__lt=stale).update(
        state=TaskState.PENDING
    )


def _claim(task_id: int, force: bool) -> PrivacyTask | None:
    """The task, now running, if it has work to do (one worker at a time)."""
    now = timezone.now()
    with transaction.atomic():
        task = (
            # The task row only: its integration is an outer join PostgreSQL cannot lock.
            PrivacyTask.objects.select_for_update(of=("self",))
            .select_related("request", "integration")
            .filter(pk=task_id)
            .first()
        )
        if task is None or task.state not in RUNNABLE:
            return None
        if not force and task.next_check_at is not None and task.next_check_at > now:
            return None
        task.state = TaskState.RUNNING
        task.attempts += 1
        task.started_at = now
        task.save(update_fields=["state", "attempts", "started_at"])
    return task


def run_task(task_id: int, *, force: bool = False) -> PrivacyTask | None:
    """Do the next step of one task; conclude its request. None if there was nothing to do."""
    task = _claim(task_id, force)
    if task is None:
        return None
    request = task.request
    if task.integration is None or not request.subject_email:
        _settle(task, TaskState.FAILED, "The integration or the request's subject is gone.")
    else:
        _step(task, request)
        privacy_local.scrub_api_calls(request.subject_email, task.integration)
    conclude(request)
    return task


def _step(task: PrivacyTask, request: PrivacyRequest) -> None:
    client = task.integration.client()
    email = request.subject_email
    try:
        if request.kind == PrivacyKind.ACCESS:
            result = client.export_contact(email)
            task.result = result
            _settle(task, TaskState.DONE, "exported" if holds_data(result) else NOTHING_HELD)
            return
        days = settings.PRIVACY_JOB_GIVE_UP_DAYS
        if task.job_id and timezone.now() - task.created_at > timedelta(days=days):
            _settle(
                task,
                TaskState.FAILED,
                f"{client.label}'s deletion job {task.job_id} has not finished in {days} days: "
                "check it on the platform; retrying the task asks for the deletion again.",
            )
            return
        sync = _running_sync(task.integration)
        if sync is not None:
            doing = "suppressing" if request.kind == PrivacyKind.SUPPRESSION else "deleting"
            _wait(task, f"Waiting for sync run #{sync.pk} to finish before {doing}.")
            return
        if task.job_id:
            receipt = client.privacy_job_status(task.job_id)
        elif request.kind == PrivacyKind.SUPPRESSION:
            receipt = client.suppress_contact(email, platform_id=task.platform_id)
        else:
            receipt = client.request_deletion(email)
    except UnsupportedCapability as exc:
        _settle(task, TaskState.NOT_SUPPORTED, exc.message)
        return
    except PlatformError as exc:
        if exc.retryable and task.attempts < settings.PRIVACY_TASK_MAX_ATTEMPTS:
            _wait(task, f"{_failure(client, exc)} (tried {task.attempts}×; tried again later)")
        else:
            _settle(task, TaskState.FAILED, _failure(client, exc))
        return
    except Exception as exc:  # a bug must not leave the task running for ever
        logger.exception("privacy task %s", task.pk)
        _settle(task, TaskState.FAILED, f"Unexpected error ({type(exc).__name__}).")
        return
    task.job_id = receipt.job_id or task.job_id
    if receipt.state == PrivacyState.WAITING:
        _wait(task, receipt.detail)
    elif receipt.state == PrivacyState.DONE:
        _settle(task, TaskState.DONE, receipt.detail)
    else:
        _settle(task, TaskState.FAILED, receipt.detail)


def _failure(client, exc: PlatformError) -> str:
    where = f" (HTTP {exc.status})" if exc.status else ""
    kind = {"permission": "refused: the key lacks the permission", "auth": "refused the key"}
    prefix = kind.get(exc.kind, exc.kind)
    return client.redact(f"{client.label} {prefix}{where}: {exc.message}")[:1000]


def _running_sync(integration: Integration) -> SyncRun | None:
    return SyncRun.objects.filter(
        integration=integration, status__in=ACTIVE_SYNC_STATUSES, dry_run=False
    ).first()


def _wait(task: PrivacyTask, reason: str) -> None:
    task.state = TaskState.WAITING
    task.reason = reason
    task.next_check_at = timezone.now() + timedelta(seconds=settings.PRIVACY_POLL_SECONDS)
    task.save(update_fields=["state", "reason", "job_id", "next_check_at"])


def _settle(task: PrivacyTask, state: str, reason: str) -> None:
    task.state = state
    task.reason = reason
    task.next_check_at = None
    task.finished_at = timezone.now()
    task.save(update_fields=["state", "reason", "job_id", "next_check_at", "finished_at", "result"])


def holds_data(result) -> bool:
    """Whether an export result holds anything: {} / found False / only empty lists → no."""
    if not result:
        return False
    if isinstance(result, dict):
        if "found" in result:
            return bool(result["found"])
        lists = [v for v in result.values() if isinstance(v, list | dict)]
        return any(lists) if lists else True
    return True


# --- concluding -----------------------------------------------------------------------------


def conclude(request: PrivacyRequest) -> PrivacyRequest:
    """Set the request's status from its tasks; close it when every one is settled."""
    with transaction.atomic():
        request = PrivacyRequest.objects.select_for_update().get(pk=request.pk)
        if request.status == PrivacyStatus.COMPLETE:
            return request
        states = set(request.tasks.values_list("state", flat=True))
        if request.local_done_at is not None and states <= set(SETTLED_STATES):
            _close(request)
        else:
            failed = TaskState.FAILED in states
            request.status = PrivacyStatus.ATTENTION if failed else PrivacyStatus.OPEN
            request.save(update_fields=["status"])
    return request


def _close(request: PrivacyRequest) -> None:
    now = timezone.now()
    email = request.subject_email
    tasks = list(request.tasks.order_by("integration_name"))
    if request.kind == PrivacyKind.ACCESS:
        request.bundle = {
            "subject": email,
            "generated_at": now.isoformat(),
            "sharpsend": request.local_result,
            "platforms": [
                {
                    "integration": t.integration_name,
                    "platform": t.platform,
                    "state": t.state,
                    "detail": t.reason,
                    "data": t.result,
                }
                for t in tasks
            ],
        }
        request.bundle_expires_at = now + timedelta(hours=settings.PRIVACY_BUNDLE_TTL_HOURS)
        request.local_result = {"found": bool(request.local_result.get("found"))}
        request.tasks.update(result=None)  # the bundle holds the data until it is purged
    privacy_local.scrub_api_calls(email)
    for task in tasks:  # a platform's message may have named the address
        reason = privacy_local.redact_email(task.reason, email)
        if reason != task.reason:
            PrivacyTask.objects.filter(pk=task.pk).update(reason=reason)
    request.subject_email = ""
    request.status = PrivacyStatus.COMPLETE
    request.completed_at = now
    request.save()


def purge_expired_bundles() -> int:
    """Drop access bundles past their time (housekeeping); how many."""
    return PrivacyRequest.objects.filter(
        bundle__isnull=False, bundle_expires_at__lte=timezone.now()
    ).update(bundle=None)


def overdue_requests():
    """Requests not complete past their deadline (the console home and the admin flag them)."""
    return PrivacyRequest.objects.exclude(status=PrivacyStatus.COMPLETE).filter(
        deadline__lt=timezone.now()
    )


def capability_matrix() -> list[dict]:
    """Per integration: access, deletion and suppression support, sync/async, and why not."""
    rows = []
    for integration in Integration.objects.order_by("name"):
        platform = integration.platform_class
        row = {"integration": integration, "platform": platform}
        for kind, capability in CAPABILITY.items():
            supported = platform.supports(capability)
            row[kind] = {
                "supported": supported,
                "reason": "" if supported else str(platform.unsupported(capability)),
                "key_permits": key_permits(integration, capability) if supported else None,
            }
        row["deletion_mode"] = platform.deletion_mode
        row["deletion_note"] = platform.deletion_note
        rows.append(row)
    return rows
