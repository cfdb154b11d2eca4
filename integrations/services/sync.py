"""Syncing subscribers to a platform.

A sync reads subscribers in id order, a chunk at a time (memory does not grow with the
audience), maps them with the integration's field mappings, skips those whose mapped payload is
unchanged since the last accepted push, sends the rest through the platform's bulk endpoint and
records every outcome. Each chunk ends in one transaction that stores the outcomes, the sync
state and the run's checkpoint, so a run that dies resumes after the last finished chunk.
One batch is at the platform while the next chunk is read and mapped (sync_pipeline.py);
chunks are still recorded in order, each only once its batch was answered.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import orjson
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import (
    Exists,
    ExpressionWrapper,
    F,
    Field,
    FilteredRelation,
    OuterRef,
    Q,
    TextField,
)
from django.db.models.functions import Cast
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus, Suppression, normalise_email
from audience.suppression import suppressed_among
from integrations import metering
from integrations.models import (
    ACTIVE_SYNC_STATUSES,
    ApiFeature,
    Integration,
    IntegrationStatus,
    Outcome,
    SyncKind,
    SyncMode,
    SyncRecord,
    SyncRun,
    SyncState,
    SyncStateStatus,
    SyncStatus,
    SyncTrigger,
)
from integrations.platforms.base import JobListener
from integrations.platforms.errors import PlatformError
from integrations.platforms.types import Capability, ContactRecord, RecordResult, Written
from integrations.services import changes
from integrations.services.mapping import (
    Mapper,
    MappingError,
    check_mappings,
    compile_mapper,
    payload_hash,
)
from integrations.services.preview import planned_requests
from integrations.services.sync_pipeline import SendPipeline

logger = logging.getLogger(__name__)

PREVIEW_SIZE = 20  # subscribers whose requests a dry run keeps
DRY_RUN_SIZE = 5  # subscribers whose requests the integration page's Dry run shows
EVER_SYNCED = "state_ever_synced"  # the state's flag read as 0 / 1 (None: no state yet)
_STATE_COLUMNS = ("state__payload_hash", "state__status", EVER_SYNCED)


def _as_stored(name: str) -> ExpressionWrapper:
    """A column as the database gives it (0 / 1 from SQLite, a bool from PostgreSQL): an
    output field of no type has no converter, which a boolean's or an integer's would run on
    every row."""
    return ExpressionWrapper(F(name), output_field=Field())


_TRANSIENT = {Outcome.THROTTLED, Outcome.UNKNOWN}
_ACCEPTED = frozenset(o for o in Outcome if o.accepted)
_OUTCOME_VALUES = {o: o.value for o in Outcome}


_fromisoformat = datetime.fromisoformat


def _attributes_from_text(value):
    return orjson.loads(value) if value else {}


def _moment_from_text(value):
    """A stored moment read as text: SQLite's naive UTC, or PostgreSQL's with its offset.

    The offset is added to the text rather than to the parsed moment: datetime.replace was
    three times the parse itself (measured)."""
    if value is None:
        return None
    tail = value[19:]  # after YYYY-MM-DD HH:MM:SS: fractions, then any offset
    return _fromisoformat(value if ("+" in tail or "-" in tail) else value + "+00:00")


def _read_plan(columns: tuple[str, ...]):
    """How a page reads `columns`: (names to select, (position, decoder) pairs, annotations)."""
    selected, decoders, annotations = [], [], {}
    for index, column in enumerate(columns):
        kind = Subscriber._meta.get_field(column).get_internal_type()
        if kind == "JSONField":
            decode = _attributes_from_text
        elif kind == "DateTimeField":
            decode = _moment_from_text
        else:
            selected.append(column)
            continue
        name = f"{column}_text"
        annotations[name] = Cast(column, TextField())
        selected.append(name)
        decoders.append((index, decode))
    return selected, decoders, annotations


class StopRun(Exception):
    """The run cannot go on (credentials refused, too many failed batches)."""


# --- starting runs -----------------------------------------------------------------------------


def start_sync(
    integration: Integration,
    trigger: str,
    mode: str = SyncMode.CHANGED,
    dry_run: bool = False,
    *,
    kind: str = SyncKind.PUSH,
    conflict_policy: str = "",
    segment_push=None,
) -> tuple[SyncRun, bool]:
    """Create a queued run; (the active run, False) when one is already queued or running.

    `kind` says what it does (a sync, a profile import with `conflict_policy`, blank for the
    integration's, or a push of `segment_push`, services/segment_push.py). A sync and an
    import of one integration exclude each other; a segment push excludes only another push
    of the same target (SyncRun's docstring says why). A run of that kind (and target)
    interrupted earlier (its worker died) is resumed: the new run starts from its checkpoint,
    in its mode and with its policy.
    """
    mark_stale_runs(integration)
    scope = _run_scope(integration, segment_push)
    resume = None
    if not dry_run:
        resume = (
            scope.filter(
                status=SyncStatus.INTERRUPTED, dry_run=False, resumed_by__isnull=True, kind=kind
            )
            .order_by("-created_at")
            .first()
        )
    try:
        with transaction.atomic():
            run = SyncRun.objects.create(
                integration=integration,
                kind=kind,
                segment_push=segment_push,
                trigger=SyncTrigger.RESUME if resume else trigger,
                mode=resume.mode if resume else mode,
                dry_run=dry_run,
                cursor=resume.cursor if resume else 0,
                remote_cursor=resume.remote_cursor if resume else "",
                conflict_policy=resume.conflict_policy if resume else conflict_policy,
                pending_job=resume.pending_job if resume else {},
                resumed_from=resume,
                mapping_digest=resume.mapping_digest if resume else "",
                snapshot_at=resume.snapshot_at if resume else None,
                reads_since=resume.reads_since if resume else None,
            )
    except IntegrityError:
        active = scope.filter(status__in=ACTIVE_SYNC_STATUSES).first()
        if active is None:  # it finished between our insert and this read
            return start_sync(
                integration,
                trigger,
                mode,
                dry_run,
                kind=kind,
                conflict_policy=conflict_policy,
                segment_push=segment_push,
            )
        return active, False
    return run, True


def _run_scope(integration: Integration, segment_push=None):
    """The runs one new run must not overlap (the scopes of SyncRun's one-active constraints):
    the integration's syncs and imports, or the runs of one segment push target."""
    if segment_push is not None:
        return SyncRun.objects.filter(segment_push=segment_push)
    return integration.sync_runs.filter(segment_push__isnull=True)


def mark_stale_runs(integration: Integration | None = None) -> int:
    """Mark running runs whose worker stopped (no heartbeat for a while) as interrupted.

    A queued run is never taken for dead: it may be waiting behind long syncs in a busy
    queue (see services.queue.look_after_sync_runs for one whose task was lost).
    """
    cutoff = timezone.now() - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
    runs = SyncRun.objects.filter(status=SyncStatus.RUNNING, heartbeat_at__lt=cutoff)
    if integration is not None:
        runs = runs.filter(integration=integration)
    return runs.update(
        status=SyncStatus.INTERRUPTED,
        finished_at=timezone.now(),
        error=f"No progress for {settings.SYNC_STALE_AFTER_SECONDS} s: the worker stopped. "
        "The console resumes it from this run's checkpoint within a minute.",
    )


# --- running them ------------------------------------------------------------------------------


@metering.feature(ApiFeature.SYNC)
def execute_sync(run_id: int) -> SyncRun:
    """Run a queued run to its end (or take over a running one whose worker died): a sync,
    a profile import (services/profile_import.py) or a segment push
    (services/segment_push.py), each by its own runner."""
    now = timezone.now()
    claimed = SyncRun.objects.filter(pk=run_id, status=SyncStatus.QUEUED).update(
        status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now
    )
    run = SyncRun.objects.select_related("integration").get(pk=run_id)
    if not claimed:
        stale_before = now - timedelta(seconds=settings.SYNC_STALE_AFTER_SECONDS)
        if run.status != SyncStatus.RUNNING or (
            run.heartbeat_at and run.heartbeat_at > stale_before
        ):
            return run  # finished, or alive in another worker
        taken = SyncRun.objects.filter(pk=run_id, heartbeat_at=run.heartbeat_at).update(
            heartbeat_at=now
        )
        if not taken:
            return run
        run.heartbeat_at = now
    try:
        _runner_for(run).execute()
    except StopRun as exc:
        finish_run(run, SyncStatus.FAILED, str(exc))
    except MappingError as exc:
        finish_run(run, SyncStatus.FAILED, f"Field mapping: {exc}")
    except PlatformError as exc:
        finish_run(run, SyncStatus.FAILED, exc.message)
    except Exception as exc:
        logger.exception("sync run %s failed", run.pk)
        finish_run(run, SyncStatus.FAILED, f"Internal error: {type(exc).__name__}: {exc}")
    return run


@metering.feature(ApiFeature.SYNC)
def dry_run_requests(integration: Integration, limit: int = DRY_RUN_SIZE) -> list[dict]:
    """The requests a full sync would send for the first `limit` subscribers it would send.

    Nothing is sent, queued or stored: a dry run made on the spot (the run is not saved).
    Platforms whose requests name their fields by id read those definitions first.
    """
    runner = _Runner(SyncRun(integration=integration, mode=SyncMode.FULL, dry_run=True))
    if not runner.client.supports(Capability.UPSERT_CONTACTS):
        raise StopRun(f"{runner.client.label} contacts cannot be synced from the console.")
    records = runner.first_records(limit)
    if not records:
        return []
    return planned_requests(runner.client, records, integration.update_existing)


def _runner_for(run: SyncRun):
    if run.kind == SyncKind.IMPORT:
        from integrations.services.profile_import import ProfileImporter

        return ProfileImporter(run)
    if run.kind == SyncKind.SEGMENT:
        from integrations.services.segment_push import SegmentPusher

        return SegmentPusher(run)
    return _Runner(run)


def finish_run(run: SyncRun, status: str, error: str = "") -> None:
    """End a run with `status`, and say how it went: a sync or an import on the integration,
    a segment push on its target only (a push's failure, e.g. its list deleted on the
    platform, says nothing of the integration's contacts)."""
    run.status = status
    run.error = error[:2000]
    run.finished_at = timezone.now()
    run.save()
    if run.dry_run:
        return
    if run.kind == SyncKind.SEGMENT:
        from integrations.services.segment_push import finish_push

        finish_push(run, status)
        logger.info("segment push run %s of %s: %s %s", run.pk, run.integration, status, error)
        return
    integration = run.integration
    if status == SyncStatus.FAILED:
        integration.status = IntegrationStatus.ERROR
        integration.last_error = error[:2000]
    else:
        integration.status = IntegrationStatus.CONNECTED
        integration.last_success_at = run.finished_at
        integration.last_error = ""
        if status == SyncStatus.PARTIAL and run.kind == SyncKind.IMPORT:
            integration.last_error = (
                f"Last profile import was partial: {run.failed} profiles could not be imported."
            )
        elif status == SyncStatus.PARTIAL:
            integration.last_error = (
                f"Last sync was partial: {run.failed} records were not accepted."
            )
    integration.save(update_fields=["status", "last_error", "last_success_at", "updated_at"])
    logger.info("sync run %s of %s: %s %s", run.pk, integration, status, error)


@dataclass
class _Chunk:
    """What one chunk of subscribers came to before and after sending."""

    to_send: list[ContactRecord] = field(default_factory=list)
    hashes: dict[int, str] = field(default_factory=dict)
    emails: dict[int, str] = field(default_factory=dict)
    ever_synced: dict[int, bool] = field(default_factory=dict)
    local_results: list[RecordResult] = field(default_factory=list)
    # Counted on the run when the chunk is recorded (a chunk read ahead is not counted yet).
    seen: int = 0
    excluded: int = 0
    unchanged: int = 0


class _Runner(JobListener):
    def __init__(self, run: SyncRun):
        self.run = run
        self.integration = run.integration
        self.client = self.integration.client()
        self.client.job_listener = self
        self.calls_before = run.api_calls  # a taken-over run keeps counting
        self.consecutive_failed_batches = 0
        self.consecutive_refused_batches = 0
        self.targets_checked = False
        self.current: tuple[_Chunk, int] | None = None  # the chunk being sent, its last id

    def execute(self) -> None:
        run = self.run
        if not self.client.supports(Capability.UPSERT_CONTACTS):
            raise StopRun(f"{self.client.label} contacts cannot be synced from the console.")
        mapper = compile_mapper(self.integration)  # targets are checked before the first send
        changes.plan_reading(run)
        if run.total == 0:
            # A run taking over a pending job starts after the job's chunk, whose records
            # it counts from the job (the rest of that chunk was counted by the run before).
            job = run.pending_job
            after = job["last_id"] if job else run.cursor
            held = len(job["records"]) + len(job["local"]) if job else 0
            scope = changes.only_changes(self._scope().filter(id__gt=after), run)
            run.total = scope.count() + held
            run.save(update_fields=["total", "mapping_digest", "snapshot_at", "reads_since"])
        if run.pending_job:
            self._resume_job()
        if run.dry_run:
            self._preview_all(mapper)
        else:
            pipeline = SendPipeline(self.client, listener=self)
            try:
                self._send_all(mapper, pipeline)
            finally:
                pipeline.close()
        run.warnings = sorted(set(run.warnings + self.client.warnings))
        finish_run(run, SyncStatus.SUCCEEDED if run.failed == 0 else SyncStatus.PARTIAL)

    def _preview_all(self, mapper: Mapper) -> None:
        after, chunk_size = self.run.cursor, self.client.limits.batch_max_records
        while rows := self._rows(mapper.columns, after, chunk_size):
            after = rows[-1][0]
            self._preview(self._prepare(rows, mapper), rows)

    def _send_all(self, mapper: Mapper, pipeline: SendPipeline) -> None:
        """Read, map and send every chunk, one batch in flight (services/sync_pipeline.py).

        While batch N is at the platform this thread reads and maps chunk N+1. Batch N's
        answer is checked before N+1 is sent (a refused key stops the run first), and recorded
        once N+1 is on its way; chunks are recorded in the order they were read, so the
        checkpoint never passes a batch the platform has not answered.
        """
        after, chunk_size = self.run.cursor, self.client.limits.batch_max_records
        in_flight = None  # (future, chunk, last id)
        while True:
            rows = self._rows(mapper.columns, after, chunk_size)
            chunk, last_id = (self._prepare(rows, mapper), rows[-1][0]) if rows else (None, 0)
            answered = None
            if in_flight is not None:
                future, sent_chunk, sent_last = in_flight
                in_flight = None
                results, calls = pipeline.result(future)
                answered = (sent_chunk, sent_chunk.local_results + results, sent_last, calls)
                try:
                    self._check_stop(answered[1])
                except StopRun:
                    self._record(*answered)
                    raise
            if chunk is not None and answered is not None:
                self._drop_suppressed_since_read(chunk)
            if chunk is not None and chunk.to_send:
                self._check_targets()
                in_flight = (self._send(pipeline, chunk, last_id), chunk, last_id)
            if answered is not None:
                self._record(*answered)
            if chunk is None:
                return
            if in_flight is None:  # nothing to send in this chunk: recorded at once
                self._record(chunk, chunk.local_results, last_id)
                self._check_stop(chunk.local_results)
            after = last_id

    def _drop_suppressed_since_read(self, chunk: _Chunk) -> None:
        """A chunk read ahead waited for the batch before it: readers suppressed meanwhile (a
        deletion request) are taken out before it is sent, as if read after the request."""
        if not chunk.to_send or not Suppression.objects.exists():
            return
        suppressed = suppressed_among(chunk.emails[r.key] for r in chunk.to_send)
        if not suppressed:
            return
        keep = []
        for record in chunk.to_send:
            if normalise_email(chunk.emails[record.key]) in suppressed:
                chunk.seen -= 1
                chunk.excluded += 1  # suppressed: never sent, never recreated
                for table in (chunk.hashes, chunk.emails, chunk.ever_synced):
                    del table[record.key]
            else:
                keep.append(record)
        chunk.to_send = keep

    def _send(self, pipeline: SendPipeline, chunk: _Chunk, last_id: int):
        """Start sending `chunk` on the pipeline's thread; its future gives (results, calls)."""
        client, update_existing = self.client, self.integration.update_existing
        self.current = (chunk, last_id)  # what a bulk job's checkpoint records

        def send():
            return client.upsert_contacts(chunk.to_send, update_existing), client.calls

        return pipeline.submit(send)

    def _check_targets(self) -> None:
        """Once per run, before anything is sent: every mapped field exists on the platform.

        Only for platforms whose fields must exist; a run with nothing to send asks nothing.
        """
        if self.targets_checked:
            return
        self.targets_checked = True
        if self.client.accepts_new_fields or not self.client.supports(Capability.LIST_FIELDS):
            return
        mappings = list(self.integration.field_mappings.all())
        problems = check_mappings(mappings, type(self.client), self.client.list_fields())
        if problems:
            raise MappingError(" ".join(problems))

    # --- asynchronous bulk jobs ----------------------------------------------------------------

    def job_submitted(self, job: dict) -> None:
        """Checkpoint a submitted job before waiting for it, with what is needed to record it."""
        chunk, last_id = self.current
        self.run.pending_job = {
            "job": job,
            "last_id": last_id,
            "records": [
                [r.key, r.identifier_field, r.identifier, chunk.hashes[r.key],
                 chunk.emails[r.key], chunk.ever_synced[r.key]]
                for r in chunk.to_send
            ],
            "local": [
                [r.key, r.outcome.value, r.code, r.message, r.hint, chunk.hashes[r.key],
                 chunk.emails[r.key], chunk.ever_synced[r.key]]
                for r in chunk.local_results
            ],
        }  # fmt: skip
        self.run.job_state = "submitted"
        self.run.heartbeat_at = timezone.now()
        self.run.save(update_fields=["pending_job", "job_state", "heartbeat_at"])

    def job_progress(self, state: str) -> None:
        self.run.job_state = state[:200]
        self.run.heartbeat_at = timezone.now()
        self.run.save(update_fields=["job_state", "heartbeat_at"])

    def _resume_job(self) -> None:
        """A run interrupted while a bulk job was pending reads that job; nothing is resent."""
        saved = self.run.pending_job
        chunk = _Chunk()
        for key, field_name, identifier, digest, email, ever in saved["records"]:
            chunk.to_send.append(ContactRecord(key, field_name, identifier, {}))
            chunk.hashes[key], chunk.emails[key], chunk.ever_synced[key] = digest, email, ever
        for key, outcome, code, message, hint, digest, email, ever in saved["local"]:
            chunk.local_results.append(RecordResult(key, Outcome(outcome), code, message, hint))
            chunk.hashes[key], chunk.emails[key], chunk.ever_synced[key] = digest, email, ever
        self.run.seen += len(chunk.to_send) + len(chunk.local_results)
        results = self.client.collect_job(saved["job"], chunk.to_send)
        answered = {r.key for r in results}
        results += [
            RecordResult(
                r.key, Outcome.UNKNOWN, code="not_confirmed",
                hint="The platform's job did not report this record; it is sent again next run.",
            )
            for r in chunk.to_send
            if r.key not in answered
        ]  # fmt: skip
        self._record(chunk, chunk.local_results + results, last_id=saved["last_id"])

    # --- reading -------------------------------------------------------------------------------

    def _scope(self):
        """Subscribers this integration may hold: subscribed ones, and any sent before."""
        sent_before = SyncState.objects.filter(
            integration=self.integration, subscriber=OuterRef("pk"), ever_synced=True
        )
        scope = Subscriber.objects.filter(
            Q(status=SubscriberStatus.SUBSCRIBED) | Exists(sent_before)
        )
        if self.run.mode == SyncMode.RETRY:
            pending = SyncState.objects.filter(
                integration=self.integration,
                subscriber=OuterRef("pk"),
                status=SyncStateStatus.PENDING,
            )
            scope = scope.filter(Exists(pending))
        return scope

    def _rows(self, columns: tuple[str, ...], after_id: int, limit: int):
        """One keyset page of subscribers with their sync state for this integration."""
        rows = (
            Subscriber.objects.filter(id__gt=after_id)
            .order_by("id")
            .annotate(
                state=FilteredRelation(
                    "sync_states", condition=Q(sync_states__integration=self.integration)
                )
            )
        )
        if self.run.mode == SyncMode.RETRY:  # only the records still pending
            rows = rows.filter(state__status=SyncStateStatus.PENDING)
        rows = changes.only_changes(rows, self.run)
        # Columns Django would convert row by row (JSON, dates and times, the state's flag)
        # are read as text or integers and decoded here: Django's converters were the largest
        # cost of reading (orjson for the attributes, fromisoformat for moments: measured).
        selected, decoders, annotations = _read_plan(columns)
        rows = rows.annotate(**annotations, **{EVER_SYNCED: _as_stored("state__ever_synced")})
        fetched = rows.values_list(*selected, *_STATE_COLUMNS)[:limit]
        if not decoders:
            return list(fetched)
        decoded = []
        for row in fetched:
            row = list(row)
            for index, decode in decoders:
                row[index] = decode(row[index])
            decoded.append(row)
        return decoded

    def _prepare(self, rows, mapper: Mapper) -> _Chunk:
        run, chunk = self.run, _Chunk()
        status_index = mapper.columns.index("status")
        email_index = mapper.columns.index("email")
        n = len(mapper.columns)
        keep_existing = not self.integration.update_existing
        # Suppressed readers (audience/suppression.py), looked up per chunk if any exist: a
        # deletion request during this run suppresses at once, before the row is erased.
        suppressed = (
            suppressed_among(row[email_index] for row in rows)
            if Suppression.objects.exists()
            else ()
        )
        # Looked up once a chunk, not once a row: this loop runs for every subscriber read.
        subscribed, synced = SubscriberStatus.SUBSCRIBED.value, SyncStateStatus.SYNCED.value
        changed_only = run.mode == SyncMode.CHANGED
        skip_synced = keep_existing and not self.client.keeps_existing_natively
        map_row, hashes, emails, ever = mapper.map, chunk.hashes, chunk.emails, chunk.ever_synced
        for row in rows:
            subscriber_id = row[0]
            if suppressed and normalise_email(row[email_index]) in suppressed:
                chunk.excluded += 1  # suppressed: never sent, never recreated
                continue
            old_hash, state_status, ever_synced = row[n], row[n + 1], bool(row[n + 2])
            if row[status_index] != subscribed and not ever_synced:
                chunk.excluded += 1  # never create an unsubscribed reader on a platform
                continue
            chunk.seen += 1
            identifier, fields = map_row(row)
            digest = payload_hash(identifier, fields)
            if state_status == synced and (
                (changed_only and old_hash == digest) or (skip_synced and ever_synced)
            ):
                chunk.unchanged += 1
                continue
            hashes[subscriber_id] = digest
            emails[subscriber_id] = row[email_index]
            ever[subscriber_id] = ever_synced
            if identifier is None:
                chunk.local_results.append(
                    RecordResult(
                        subscriber_id,
                        Outcome.REJECTED_DATA,
                        code="missing_identifier",
                        message=f"No value for the identifier '{mapper.identifier_field}'.",
                        hint="Give the subscriber a value for the field mapped as identifier.",
                    )
                )
                continue
            chunk.to_send.append(
                ContactRecord(subscriber_id, mapper.identifier_field, identifier, fields)
            )
        return chunk

    # --- writing -------------------------------------------------------------------------------

    def _preview(self, chunk: _Chunk, rows) -> None:
        """A dry run's chunk: count it, and keep the requests the first subscribers become."""
        run = self.run
        self._count(chunk)
        for result in chunk.local_results:
            setattr(run, result.outcome.value, getattr(run, result.outcome.value) + 1)
        room = PREVIEW_SIZE - sum(len(request["subscribers"]) for request in run.preview)
        if room > 0 and chunk.to_send:
            run.preview += planned_requests(
                self.client, chunk.to_send[:room], self.integration.update_existing
            )
        run.cursor = rows[-1][0]
        run.heartbeat_at = timezone.now()
        run.save()

    def first_records(self, limit: int) -> list[ContactRecord]:
        """The first `limit` records this run would send, read without storing anything."""
        mapper = compile_mapper(self.integration)
        records: list[ContactRecord] = []
        after = self.run.cursor
        while len(records) < limit:
            rows = self._rows(mapper.columns, after, limit)
            if not rows:
                break
            after = rows[-1][0]
            records += self._prepare(rows, mapper).to_send
        return records[:limit]

    def _count(self, chunk: _Chunk) -> None:
        self.run.seen += chunk.seen
        self.run.excluded += chunk.excluded
        self.run.unchanged += chunk.unchanged

    def _record(
        self, chunk: _Chunk, results: list[RecordResult], last_id: int, calls: int | None = None
    ) -> None:
        """Store one chunk's outcomes, sync state and checkpoint in one transaction.

        Accepted records are counted on the run and in their sync state; only records the
        platform did not accept get a SyncRecord row (the run's error log). `calls` is the
        client's call count when this chunk's batch was answered (the next may be in flight).
        """
        run = self.run
        self._count(chunk)
        now = timezone.now()
        stamp = connection.ops.adapt_datetimefield_value(now)
        integration_id, redact = self.integration.pk, self.client.redact
        hashes, ever_synced = chunk.hashes, chunk.ever_synced
        synced, pending = SyncStateStatus.SYNCED.value, SyncStateStatus.PENDING.value
        counts: dict[Outcome, int] = {}
        failures, states = [], []
        for result in results:
            key = result.key
            was_synced = ever_synced[key]
            outcome = result.outcome
            if outcome is Written.WRITTEN:
                outcome = Outcome.UPDATED if was_synced else Outcome.CREATED
            counts[outcome] = counts.get(outcome, 0) + 1
            accepted = outcome in _ACCEPTED
            if not accepted:
                failures.append(
                    SyncRecord(
                        run=run,
                        subscriber_id=key,
                        email=chunk.emails[key],
                        outcome=outcome,
                        code=result.code[:100],
                        message=redact(result.message)[:1000],
                        hint=result.hint[:300],
                    )
                )
            states.append(
                (
                    integration_id,
                    key,
                    hashes[key],
                    synced if accepted else pending,
                    _OUTCOME_VALUES[outcome],
                    was_synced or accepted,
                    stamp,
                )
            )
        for outcome, count in counts.items():
            setattr(run, outcome.value, getattr(run, outcome.value) + count)
        run.cursor = last_id
        run.api_calls = self.calls_before + (self.client.calls if calls is None else calls)
        run.heartbeat_at = now
        run.pending_job, run.job_state = {}, ""
        with transaction.atomic():
            SyncRecord.objects.bulk_create(failures, batch_size=1000)
            upsert_states(states)
            run.save()

    def _check_stop(self, results: list[RecordResult]) -> None:
        sent = [r for r in results if r.code != "missing_identifier"]
        auth = next((r for r in sent if r.outcome == Outcome.REJECTED_AUTH), None)
        if auth is not None:
            raise StopRun(f"{auth.message} {auth.hint}".strip())
        transient = bool(sent) and all(r.outcome in _TRANSIENT for r in sent)
        # Every record of the batch refused by one answer to the whole request (a 404, a 400
        # about the request): a wrong setting, not bad data; sending more batches cannot help.
        refused = bool(sent) and not transient and all(r.whole_request for r in sent)
        self.consecutive_failed_batches = self.consecutive_failed_batches + 1 if transient else 0
        self.consecutive_refused_batches = self.consecutive_refused_batches + 1 if refused else 0
        limit = settings.SYNC_MAX_CONSECUTIVE_BATCH_FAILURES
        if self.consecutive_failed_batches >= limit:
            raise StopRun(
                f"Stopped after {self.consecutive_failed_batches} batches in a row were "
                f"throttled or failed at {self.client.label} ({sent[-1].message}). Records "
                "not accepted stay pending and are sent on the next run."
            )
        if self.consecutive_refused_batches >= limit:
            raise StopRun(
                f"Stopped after {self.consecutive_refused_batches} batches in a row were refused "
                f"whole by {self.client.label}: {sent[-1].message} This points at the "
                "integration's settings (endpoint, list or account), not at the records: fix "
                "them and run Test connection. Records not accepted stay pending."
            )


_UPSERT_STATES = """
INSERT INTO {table} (integration_id, subscriber_id, payload_hash, status, last_outcome,
                     ever_synced, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (integration_id, subscriber_id) DO UPDATE SET
    payload_hash = excluded.payload_hash, status = excluded.status,
    last_outcome = excluded.last_outcome, ever_synced = excluded.ever_synced,
    updated_at = excluded.updated_at
"""


def upsert_states(rows: list[tuple]) -> None:
    """Insert or update sync states in one statement per row batch.

    This is bulk_create(update_conflicts=True) without building a model instance per row:
    on the hot path of a 100k sync that was most of the client's time (measured, see
    docs/performance.md). The SQL is the same on SQLite and PostgreSQL.
    """
    if not rows:
        return
    sql = _UPSERT_STATES.format(table=connection.ops.quote_name(SyncState._meta.db_table))
    with connection.cursor() as cursor:
        cursor.executemany(sql, rows)
