"""Batching: planned requests, bulk jobs, and per-record outcomes of each answer."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any
from urllib.parse import urlencode

import requests

from integrations import clock
from integrations.platforms.encoding import join_entries
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    PermissionDenied,
    PlatformError,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.failures import failed_results
from integrations.platforms.types import (
    Capability,
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    Written,
)


class JobListener:
    """What the sync service hears from a client running an asynchronous bulk job."""

    def job_submitted(self, job: dict) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def job_progress(self, state: str) -> None:  # pragma: no cover - interface
        raise NotImplementedError


class Batching:
    """Planned requests sent and their answers mapped to per-record outcomes (a mixin)."""

    # --- asynchronous bulk jobs (SendGrid, Klaviyo, Mailchimp batches …) -------------------

    # Set by the sync service: told when a job is submitted (to checkpoint it) and of its state.
    job_listener: JobListener | None = None

    def run_job(
        self,
        records: Sequence[ContactRecord],
        submit: Callable[[Sequence[ContactRecord]], dict],
    ) -> list[RecordResult]:
        """Submit a bulk job for `records`, checkpoint it, then wait for its results.

        `submit` returns the job as a JSON-able dict; the platform's `collect_job(job,
        records)` polls it and maps its results to records.
        """
        job = submit(records)
        if self.job_listener is not None:
            self.job_listener.job_submitted(job)
        return self.collect_job(job, records)

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        """Wait for a submitted job and map its results (platforms with bulk jobs override)."""
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def poll(
        self,
        check: Callable[[], tuple[bool, str]],
        *,
        first_wait: float = 1.0,
        max_wait: float = 30.0,
        timeout: float = 3600.0,
    ) -> None:
        """Call `check` (→ done?, state text) with growing waits until done or `timeout`."""
        waited, wait = 0.0, first_wait
        while True:
            done, state = check()
            if self.job_listener is not None:
                self.job_listener.job_progress(state)
            if done:
                return
            if waited >= timeout:
                raise TransientError(
                    f"{self.label}: the bulk job was still '{state}' after {timeout:.0f} s."
                )
            clock.sleep(wait)
            waited += wait
            wait = min(max_wait, wait * 2)

    def send_each(
        self,
        planned: Sequence[PlannedRequest],
        send_one: Callable[[PlannedRequest], RecordResult],
        reject_data: Callable[[ContactRecord, ValidationFailed], RecordResult],
    ) -> list[RecordResult]:
        """One record at a time (each planned request carries one), for platforms without a
        bulk endpoint.

        A record the platform refuses (validation) gets its own outcome; a failure that would
        hit every following record too (auth, throttling, outage) stops here: those records
        are not sent now and stay pending for the next run.
        """
        results: list[RecordResult] = []
        for index, request in enumerate(planned):
            try:
                results.append(send_one(request))
            except ValidationFailed as exc:
                results.extend(reject_data(record, exc) for record in request.records)
            except PlatformError as exc:
                rest = [record for later in planned[index:] for record in later.records]
                results.extend(failed_results(rest, exc))
                break
        return results

    def results_by_index(
        self,
        group: list[tuple[ContactRecord, bytes]],
        errors: Iterable[dict],
        index_of: Callable[[dict], int | None],
        reject: Callable[[ContactRecord, list[dict]], RecordResult],
        describe: Callable[[dict], tuple[str, str]],
    ) -> list[RecordResult]:
        """Outcomes of a batch whose answer lists errors by entry position.

        `index_of(error)` is the entry an error names (None when it names none); `reject`
        turns an entry's errors into its outcome. An error that names no entry leaves every
        other record of the batch unconfirmed: they are reported unknown (sent again next run)
        rather than written. `describe(error)` gives that error's (code, message).
        """
        placed: dict[int, list[dict]] = {}
        unplaced: list[dict] = []
        for error in errors:
            index = index_of(error) if isinstance(error, dict) else None
            if isinstance(index, int) and 0 <= index < len(group):
                placed.setdefault(index, []).append(error)
            else:
                unplaced.append(error)
        results = []
        for index, (record, _) in enumerate(group):
            if index in placed:
                results.append(reject(record, placed[index]))
            elif unplaced:
                code, message = describe(unplaced[0]) if isinstance(unplaced[0], dict) else ("", "")
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code=code or "unplaced_error",
                        message=self.redact(message)[:300],
                        hint=f"{self.label} reported an error for this batch without saying "
                        "which entry; the batch is sent again on the next run.",
                    )
                )
            else:
                results.append(RecordResult(record.key, Written.WRITTEN))
        return results

    def send_groups(
        self,
        planned: Iterable[PlannedRequest],
        send: Callable[[PlannedRequest], list[RecordResult]],
    ) -> list[RecordResult]:
        """Send each planned request with `send`; one whose call fails gets that failure as
        its records' outcome.

        After an auth or permission failure the remaining groups are not sent: they would fail
        the same way, and the run stops on it.
        """
        results: list[RecordResult] = []
        stopped: PlatformError | None = None
        for request in planned:
            records = request.records
            if stopped is None:
                try:
                    results.extend(send(request))
                    continue
                except PlatformError as exc:
                    if isinstance(exc, (AuthError, PermissionDenied, ConfigurationError)):
                        stopped = exc
                    results.extend(failed_results(records, exc))
                    continue
            results.extend(failed_results(records, stopped))
        return results

    def send_planned(
        self, planned: PlannedRequest, ok: Iterable[int] = (200,)
    ) -> requests.Response:
        """Send a planned request as it was planned (body byte for byte)."""
        return self.request(
            planned.method,
            planned.surface,
            planned.path,
            content=planned.content,
            params=dict(planned.params) or None,
            rate=planned.rate,
            ok=ok,
        )

    def batch_requests(
        self,
        groups: Iterable[list[tuple[ContactRecord, bytes]]],
        envelope: bytes,
        method: str,
        surface: str,
        path: str,
        rate: str | None = None,
    ) -> list[PlannedRequest]:
        """One request a group: `envelope` with the group's entries in its (last) `[]`."""
        return [
            PlannedRequest(
                method,
                surface,
                path,
                join_entries(envelope, [raw for _, raw in group]),
                tuple(group),
                rate=rate,
            )
            for group in groups
        ]

    def request_each(
        self,
        encoded: Iterable[tuple[ContactRecord, bytes]],
        method: str,
        surface: str,
        path: str,
        note: str = "",
        **options: Any,
    ) -> list[PlannedRequest]:
        """One request a record, its entry being the whole body."""
        return [
            PlannedRequest(method, surface, path, raw, ((record, raw),), note=note, **options)
            for record, raw in encoded
        ]

    def show_request(self, planned: PlannedRequest) -> dict:
        """A planned request for people to read: method, URL, body, whom it carries, and a
        note. No headers: they would carry credentials."""
        url = self.base_url(planned.surface) + planned.path
        if planned.params:
            url += "?" + urlencode(planned.params)
        return {
            "method": planned.method,
            "url": self.redact(url),
            "subscribers": [record.key for record in planned.records],
            "body": planned.body,
            "note": planned.note,
        }
