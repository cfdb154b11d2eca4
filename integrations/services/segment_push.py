"""Pushing a SharpSend segment to a platform as a static list/segment/tag, kept in step.

One engine for every platform: the platform's client declares CREATE_SEGMENT, ADD_TO_SEGMENT
and REMOVE_FROM_SEGMENT with its membership batch limit (`segment_batch_max`) and the field
naming a member (`segment_member_identifier`); everything else is here.

Each push is a SyncRun of kind "segment" (its target, `SyncRun.segment_push`, is the
SegmentPush: segment × integration, with the list's remote id and the membership last
accepted). Its life is the one every run has (services/sync.py): queued once per target,
claimed by one worker, a heartbeat per batch, taken for dead without one and resumed by the
housekeeping (services.queue.look_after_sync_runs), its lost task queued again. This module
is only the run's work, `SegmentPusher`, which services.sync.execute_sync hands a segment
run to. A push:
1. creates the remote list once (its id is saved before anything else is sent, so no push
   ever creates a second one);
2. adds, in batches in subscriber id order, the segment's subscribed members the list does not
   hold yet (SegmentPushMember rows are the membership last accepted by the platform);
3. removes the members the list holds that the segment no longer selects (or who opted out,
   or were deleted from SharpSend).
Each batch ends in one transaction writing the accepted membership rows, the refused changes
(SyncRecords with their action) and the run's counts (added: `created`, `removed`), so a
push that dies resumes from what its finished batches committed: the next run computes the
same difference and sends only what is left. An unchanged segment sends nothing. Opted-out
readers are never added (a reader who opts out is removed).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from audience.models import AudienceSegment, Subscriber, SubscriberStatus
from audience.segment_rules import compile_rules
from integrations import metering
from integrations.models import (
    ApiFeature,
    Integration,
    Outcome,
    PushAction,
    SegmentPush,
    SegmentPushMember,
    SyncKind,
    SyncRecord,
    SyncRun,
    SyncStatus,
)
from integrations.platforms.base import failed_results
from integrations.platforms.errors import PlatformError
from integrations.platforms.types import Capability, RecordResult, SegmentMember, Written
from integrations.services.sync import StopRun, execute_sync, finish_run, start_sync

logger = logging.getLogger(__name__)

NEEDED = (Capability.CREATE_SEGMENT, Capability.ADD_TO_SEGMENT, Capability.REMOVE_FROM_SEGMENT)
_TRANSIENT = {Outcome.THROTTLED, Outcome.UNKNOWN}


def check_pushable(integration: Integration) -> None:
    """Raise UnsupportedCapability (with the platform's reason) unless it can take a push."""
    platform = integration.platform_class
    for capability in NEEDED:
        if not platform.supports(capability):
            raise platform.unsupported(capability)


def start_push(
    segment: AudienceSegment, integration: Integration, trigger: str
) -> tuple[SyncRun, bool]:
    """A queued run for (segment, integration); (the active run, False) if one is under way.

    The run is the sync runner's (services.sync.start_sync): an interrupted push of the same
    target is resumed by it. UnsupportedCapability where the platform takes no pushes,
    ValidationError when the segment's rules are invalid (nothing is queued then).
    """
    check_pushable(integration)
    compile_rules(segment.rules)  # a segment whose rules are invalid is not queued
    push, _ = SegmentPush.objects.get_or_create(segment=segment, integration=integration)
    return start_sync(integration, trigger, kind=SyncKind.SEGMENT, segment_push=push)


def push_segment(segment: AudienceSegment, integration: Integration, trigger: str):
    """Start and run a push here and now (the command); the active run if one is under way."""
    run, created = start_push(segment, integration, trigger)
    if not created:
        return run, False
    return execute_sync(run.pk), True


def finish_push(run: SyncRun, status: str) -> None:
    """Say on the push's target how its run ended (services.sync.finish_run calls this)."""
    push = run.segment_push
    push.last_error = run.error if status == SyncStatus.FAILED else ""
    if status != SyncStatus.FAILED:
        push.last_pushed_at = run.finished_at
    push.save(update_fields=["last_error", "last_pushed_at"])


def wanted_members(segment: AudienceSegment):
    """The subscribers a push puts in the platform's list: the segment's, opted-out excluded."""
    return Subscriber.objects.filter(compile_rules(segment.rules)).filter(
        status=SubscriberStatus.SUBSCRIBED
    )


class SegmentPusher:
    """The work of a segment push run (services.sync.execute_sync runs it)."""

    def __init__(self, run: SyncRun):
        self.run = run
        self.push = SegmentPush.objects.select_related("segment", "integration").get(
            pk=run.segment_push_id
        )
        run.segment_push = self.push
        self.client = self.push.integration.client()
        self.batch = max(1, min(self.client.segment_batch_max, 10_000))
        self.identifier = self.client.segment_member_identifier
        self.consecutive_failed = 0
        self.consecutive_refused = 0

    def execute(self) -> None:
        with metering.feature(ApiFeature.SEGMENTS):
            check_pushable(self.push.integration)
            wanted = wanted_members(self.push.segment)
            self._ensure_remote()
            self._add(wanted)
            self._remove(wanted)
        self.run.unchanged = self.push.members.count() - self.run.created
        status = SyncStatus.SUCCEEDED if self.run.failed == 0 else SyncStatus.PARTIAL
        self._save_counts()
        finish_run(self.run, status)

    def _ensure_remote(self) -> None:
        if self.push.remote_id:
            return
        segment = self.push.segment
        remote = self.client.create_segment(segment.name, segment.description)
        self.push.remote_id, self.push.remote_name = remote.remote_id, remote.name
        self.push.members.all().delete()  # a new list holds no one
        self.run.created_remote = True
        self.push.save(update_fields=["remote_id", "remote_name"])
        self._save_counts()

    def _add(self, wanted) -> None:
        held = SegmentPushMember.objects.filter(push=self.push, subscriber=OuterRef("pk"))
        after = 0
        while True:
            rows = list(
                wanted.filter(id__gt=after)
                .exclude(Exists(held))
                .order_by("id")
                .values_list("id", self.identifier)[: self.batch]
            )
            if not rows:
                return
            after = rows[-1][0]
            members = [SegmentMember(key, str(value or "")) for key, value in rows]
            by_key = {m.key: m for m in members}
            sendable = [m for m in members if m.identifier]
            results = self._refused_locally(members)
            results += self._send(self.client.add_to_segment, sendable)
            accepted, failures = [], []
            for result in results:
                member = by_key[result.key]
                if _accepted(result):
                    accepted.append(
                        SegmentPushMember(
                            push=self.push,
                            subscriber_id=member.key,
                            identifier=member.identifier,
                            remote_key=getattr(result, "remote_key", "") or member.remote_key,
                        )
                    )
                else:
                    failures.append(self._failure(PushAction.ADD, member, member.key, result))
            self.run.created += len(accepted)
            with transaction.atomic():
                SegmentPushMember.objects.bulk_create(accepted, batch_size=1000)
                SyncRecord.objects.bulk_create(failures, batch_size=1000)
                self._save_counts()
            self._check_stop(results)

    def _remove(self, wanted) -> None:
        still = wanted.filter(pk=OuterRef("subscriber_id"))
        leaving = SegmentPushMember.objects.filter(push=self.push).filter(
            Q(subscriber__isnull=True) | ~Exists(still)
        )
        after = 0
        while True:
            rows = list(leaving.filter(id__gt=after).order_by("id")[: self.batch])
            if not rows:
                return
            after = rows[-1].id
            by_key = {row.id: row for row in rows}
            members = [SegmentMember(row.id, row.identifier, row.remote_key) for row in rows]
            results = self._send(self.client.remove_from_segment, members)
            gone, failures = [], []
            for result in results:
                row = by_key[result.key]
                if _accepted(result):
                    gone.append(row.id)
                else:
                    member = SegmentMember(row.id, row.identifier, row.remote_key)
                    failures.append(
                        self._failure(PushAction.REMOVE, member, row.subscriber_id, result)
                    )
            self.run.removed += len(gone)
            with transaction.atomic():
                SegmentPushMember.objects.filter(id__in=gone).delete()
                SyncRecord.objects.bulk_create(failures, batch_size=1000)
                self._save_counts()
            self._check_stop(results)

    def _send(self, call, members: Sequence[SegmentMember]) -> list[RecordResult]:
        if not members:
            return []
        try:
            results = list(call(self.push.remote_id, members))
        except PlatformError as exc:
            if exc.kind == "not_found":
                raise StopRun(
                    f"{self.client.label} no longer has the list '{self.push.remote_name}' "
                    f"({self.push.remote_id}): it was deleted there. {exc.message}"
                ) from exc
            return failed_results(members, exc)
        answered = {r.key for r in results}
        return results + [
            RecordResult(
                m.key, Outcome.UNKNOWN, code="not_confirmed",
                hint="The platform did not report this member; it is sent again next push.",
            )
            for m in members
            if m.key not in answered
        ]  # fmt: skip

    def _refused_locally(self, members: Sequence[SegmentMember]) -> list[RecordResult]:
        return [
            RecordResult(
                m.key,
                Outcome.REJECTED_DATA,
                code="missing_identifier",
                message=f"No value for '{self.identifier}'.",
                hint=f"{self.client.label} names list members by {self.identifier}.",
            )
            for m in members
            if not m.identifier
        ]

    def _failure(self, action, member: SegmentMember, subscriber_id, result) -> SyncRecord:
        outcome = result.outcome if isinstance(result.outcome, Outcome) else Outcome.UNKNOWN
        setattr(self.run, outcome.value, getattr(self.run, outcome.value) + 1)
        return SyncRecord(
            run=self.run,
            subscriber_id=subscriber_id,
            email=member.identifier[:254],
            action=action,
            outcome=outcome,
            code=result.code[:100],
            message=self.client.redact(result.message)[:1000],
            hint=result.hint[:300],
        )

    def _save_counts(self) -> None:
        self.run.api_calls = self.client.calls
        self.run.heartbeat_at = timezone.now()
        self.run.save()

    def _check_stop(self, results: list[RecordResult]) -> None:
        auth = next((r for r in results if r.outcome == Outcome.REJECTED_AUTH), None)
        if auth is not None:
            raise StopRun(f"{auth.message} {auth.hint}".strip())
        transient = bool(results) and all(r.outcome in _TRANSIENT for r in results)
        # Every change of the batch refused by one answer to the whole request: a setting or
        # the list itself, not the members; more batches cannot help.
        refused = bool(results) and not transient and all(r.whole_request for r in results)
        self.consecutive_failed = self.consecutive_failed + 1 if transient else 0
        self.consecutive_refused = self.consecutive_refused + 1 if refused else 0
        limit = settings.SYNC_MAX_CONSECUTIVE_BATCH_FAILURES
        if self.consecutive_failed >= limit:
            raise StopRun(
                f"Stopped after {self.consecutive_failed} batches in a row were throttled or "
                f"failed at {self.client.label} ({results[-1].message}). Nothing is lost: the "
                "next push sends what is left."
            )
        if self.consecutive_refused >= limit:
            raise StopRun(
                f"Stopped after {self.consecutive_refused} batches in a row were refused whole "
                f"by {self.client.label}: {results[-1].message} Check the list "
                f"'{self.push.remote_name}' ({self.push.remote_id}) still exists there and the "
                "integration's settings; nothing is lost, the next push sends what is left."
            )


def _accepted(result: RecordResult) -> bool:
    return result.outcome is Written.WRITTEN or (
        isinstance(result.outcome, Outcome) and result.outcome.accepted
    )
