"""SendGrid's upsert job: submitted (a 400 naming contacts rejects those), checkpointed,
polled to its end, and its errors file read to tell which contacts were refused."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import PlatformError, TransientError, ValidationFailed
from integrations.platforms.sendgrid.api import (
    _COMPLIANCE_WORDS,
    _DONE,
    API,
    DOWNLOAD,
    IMPORTS,
    _errors_by_index,
    _match_key,
    parse_errors_file,
)
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    Written,
)
from integrations.platforms.urlpolicy import is_sandbox_url


class SendGridJobs(PlatformClient):
    """Submit the contacts upsert as a job, wait for it, and map its results to records."""

    def _send_job(self, planned: PlannedRequest) -> list[RecordResult]:
        def submit(records: Sequence[ContactRecord]) -> dict:
            return self._submit(planned)

        return self.run_job(planned.records, submit)

    def _submit(self, planned: PlannedRequest) -> dict:
        """PUT the contacts; a 400 that names contacts by position rejects those and sends
        the others again (once). Returns the job: its id, the keys it carries, and the
        records refused before it started."""
        refused: list[list] = []
        group = list(planned.group)
        for attempt in range(2):
            if attempt:
                planned = self._contacts_request(group)
            response = self.send_planned(planned, ok=(202, 400))
            data = response.json() if response.content else {}
            if response.status_code == 202:
                job_id = str(data.get("job_id") or "")
                if not job_id:
                    raise TransientError("SendGrid accepted the contacts but gave no job id.")
                return {
                    "job_id": job_id,
                    "keys": [record.key for record, _ in group],
                    "refused": refused,
                }
            by_index = _errors_by_index(data.get("errors") or [], len(group))
            if by_index is None or attempt == 1:
                code, message = self.describe_error(response)
                raise ValidationFailed(
                    self.redact(f"SendGrid refused the contacts: {message}"),
                    status=400,
                    code=code or "400",
                )
            refused += [
                [group[i][0].key, self.redact(msg)[:500]] for i, msg in sorted(by_index.items())
            ]
            group = [item for i, item in enumerate(group) if i not in by_index]
            if not group:
                return {"job_id": "", "keys": [], "refused": refused}
        raise AssertionError("unreachable")  # pragma: no cover

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        """Poll the upsert job to its end and map its results to the records it carried."""
        by_key = {r.key: r for r in records}
        out = [
            self._rejection(by_key[key], message)
            for key, message in job.get("refused") or []
            if key in by_key
        ]
        keys = set(job.get("keys") or [])
        mine = [r for r in records if r.key in keys]
        if not job.get("job_id") or not mine:
            return out
        status = self._wait_for_job(job["job_id"])
        state = status.get("status")
        results = status.get("results") or {}
        if state == "completed":
            return out + [RecordResult(r.key, Written.WRITTEN) for r in mine]
        errors = self._job_errors(results.get("errors_url"))
        if errors is None:
            if state == "failed":
                return out + [
                    RecordResult(
                        r.key,
                        Outcome.REJECTED_DATA,
                        code="job_failed",
                        message="SendGrid could not process any contact of the job.",
                        hint="Check the mapped fields' values against SendGrid's field types.",
                    )
                    for r in mine
                ]
            return out + [
                RecordResult(
                    r.key,
                    Outcome.UNKNOWN,
                    code="errors_unreadable",
                    message=f"SendGrid reported {results.get('errored_count', '?')} errors "
                    "but its errors file could not be read.",
                    hint="The contacts are sent again on the next run.",
                )
                for r in mine
            ]
        for record in mine:
            reason = errors.get(_match_key(record.identifier_field, record.identifier))
            if reason is None and state == "failed":
                reason = "the job failed"
            if reason is None:
                out.append(RecordResult(record.key, Written.WRITTEN))
            else:
                out.append(self._rejection(record, reason))
        return out

    def _wait_for_job(self, job_id: str) -> dict:
        seen: dict = {}

        def check() -> tuple[bool, str]:
            data = self.request("GET", API, f"{IMPORTS}/{job_id}", rate="contacts.imports").json()
            seen.update(data)
            state = str(data.get("status", ""))
            return state in _DONE, f"SendGrid job {job_id}: {state or 'unknown'}"

        self.poll(check, first_wait=1.0, max_wait=30.0, timeout=3600.0)
        return seen

    def _rejection(self, record: ContactRecord, reason: str) -> RecordResult:
        reason = self.redact(reason)[:500]
        if any(word in reason.lower() for word in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code="suppressed",
                message=reason,
                hint="SendGrid refuses this contact (suppressed or erased); resolve it in "
                "SendGrid's Suppressions before it can sync.",
            )
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code="invalid_contact",
            message=reason,
            hint="Fix the subscriber's data in SharpSend, or the field mapping (values must "
            "match the SendGrid field's type).",
        )

    def _job_errors(self, url: str | None) -> dict[tuple[str, str], str] | None:
        """The errors file as identifier → reason; None when it cannot be read."""
        if not url:
            return None
        parts = urlsplit(url)
        override = self.integration.api_base_url.strip()
        in_sandbox = bool(override) and is_sandbox_url(override, self.slug)
        if parts.scheme != "https" and not (in_sandbox and url.startswith(override.rstrip("/"))):
            return None
        try:
            response = self.request("GET", DOWNLOAD, parts.path, url=url)
        except PlatformError:  # expired link, forbidden, or still failing after the retries
            return None
        return parse_errors_file(response.content)
