"""Klaviyo profiles: fields, the asynchronous bulk import job, deletion and export."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound
from integrations.platforms.klaviyo.api import (
    API,
    ATTRIBUTE_KEYS,
    COMPLIANCE_WORDS,
    ENVELOPE,
    JOBS,
    LOCATION_FIELDS,
    PROFILE_ATTRIBUTES,
    error_message,
    identity,
    next_cursor,
    pointer_index,
    value_type,
)
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    PrivacyReceipt,
    PrivacyState,
    RecordResult,
    TargetField,
    UpsertPlan,
    Written,
)


class KlaviyoContacts(PlatformClient):
    """Profile fields, the bulk import job (submit, then collect), and privacy requests."""

    def list_fields(self) -> list[TargetField]:
        """Klaviyo's profile attributes, then the custom properties seen on recent profiles
        (Klaviyo has no catalogue of property names)."""
        fields = [TargetField(key, label, kind) for key, label, kind in PROFILE_ATTRIBUTES]
        fields += [
            TargetField(f"location.{name}", f"Location: {name}", "string")
            for name in LOCATION_FIELDS
        ]
        response = self.request(
            "GET",
            API,
            "/api/profiles",
            params={"fields[profile]": "properties", "page[size]": 100},
        ).json()
        seen: dict[str, str] = {}
        for profile in response.get("data", []):
            for name, value in (profile.get("attributes", {}).get("properties") or {}).items():
                seen.setdefault(name, value_type(value))
        fields += [TargetField(name, name, kind) for name, kind in sorted(seen.items())]
        return fields

    # --- profiles: the bulk import job -------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        # The import is always an upsert (no create-only option): "keep existing" is left to
        # the sync service.
        return self.run_job(records, self._submit)

    def _profile(self, record: ContactRecord) -> dict:
        attributes: dict = {record.identifier_field: record.identifier}
        location: dict = {}
        properties: dict = {}
        for key, value in self.format_fields(record.fields).items():
            if key == record.identifier_field:
                continue
            if key in ATTRIBUTE_KEYS:
                attributes[key] = value
            elif key.startswith("location.") and key[9:] in LOCATION_FIELDS:
                location[key[9:]] = value
            else:
                properties[key.removeprefix("properties.")] = value
        if location:
            attributes["location"] = location
        if properties:
            attributes["properties"] = properties
        return {"type": "profile", "attributes": attributes}

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self._profile)
        groups = self.pack(encoded, envelope_bytes=len(ENVELOPE))
        return UpsertPlan(
            self.batch_requests(groups, ENVELOPE, "POST", API, JOBS, rate="bulk_import"),
            rejected,
        )

    def _submit(self, records: Sequence[ContactRecord]) -> dict:
        """Start one job per byte-limited group; the job dict says which records each holds,
        and what happened to records that never reached a job."""
        plan = self.plan_upsert(records, update_existing=True)
        jobs: list[dict] = []

        def start(planned: PlannedRequest) -> list[RecordResult]:
            data = self.send_planned(planned, ok=(202,)).json()
            jobs.append({"id": data["data"]["id"], "keys": [r.key for r in planned.records]})
            return []

        refused = self.send_groups(plan.requests, start)
        return {
            "jobs": jobs,
            "results": [
                [r.key, r.outcome.value, r.code, r.message, r.hint] for r in plan.rejected + refused
            ],
        }

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        by_key = {record.key: record for record in records}
        results = [
            RecordResult(key, Outcome(outcome), code, message, hint)
            for key, outcome, code, message, hint in job.get("results", [])
            if key in by_key
        ]
        for number, entry in enumerate(job.get("jobs", []), start=1):
            members = [by_key[key] for key in entry["keys"] if key in by_key]
            label = f"import job {number}/{len(job['jobs'])}"
            results += self._collect_one(entry["id"], members, label)
        return results

    def _collect_one(self, job_id: str, records: list[ContactRecord], label: str):
        state: dict = {}

        def check() -> tuple[bool, str]:
            data = self.request("GET", API, f"{JOBS}/{job_id}", rate="bulk_import.read").json()
            state.update(data["data"]["attributes"])
            status = state.get("status", "")
            progress = f"{state.get('completed_count') or 0}/{state.get('total_count') or 0}"
            return status in ("complete", "cancelled"), f"Klaviyo {label}: {status} ({progress})"

        try:
            self.poll(check)
        except NotFound:
            return [
                RecordResult(
                    r.key,
                    Outcome.UNKNOWN,
                    code="job_not_found",
                    message=f"Klaviyo no longer knows import job {job_id} (jobs expire).",
                    hint="Sent again on the next run.",
                )
                for r in records
            ]
        errors = self._import_errors(job_id) if state.get("failed_count") else []
        placed, unplaced = self._place_errors(errors, records)
        results = []
        for index, record in enumerate(records):
            if index in placed:
                results.append(self._rejection(record, placed[index]))
            elif state.get("status") == "cancelled":
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code="job_cancelled",
                        message=f"Klaviyo cancelled import job {job_id}.",
                        hint="Sent again on the next run.",
                    )
                )
            elif unplaced:
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code=str(unplaced[0].get("code") or "unplaced_error"),
                        message=self.redact(error_message(unplaced[0]))[:300],
                        hint="Klaviyo reported a failure in this import job without saying "
                        "which profile; the job's profiles are sent again on the next run.",
                    )
                )
            else:
                results.append(RecordResult(record.key, Written.WRITTEN))
        return results

    def _import_errors(self, job_id: str) -> list[dict]:
        errors: list[dict] = []
        params: dict = {"page[size]": 100}
        while True:
            data = self.request(
                "GET",
                API,
                f"{JOBS}/{job_id}/import-errors",
                params=params,
                rate="bulk_import.read",
            ).json()
            errors += [e.get("attributes", {}) for e in data.get("data", [])]
            cursor = next_cursor((data.get("links") or {}).get("next"))
            if not cursor:
                return errors
            params = {"page[size]": 100, "page[cursor]": cursor}

    def _place_errors(self, errors: list[dict], records: list[ContactRecord]):
        """Tie each import error to the record it is about: by the identifiers of its
        original payload, else by the profile index in its source pointer."""
        index_of: dict[tuple[str, str], int] = {}
        for index, record in enumerate(records):
            index_of[identity(record.identifier_field, record.identifier)] = index
        placed: dict[int, list[dict]] = {}
        unplaced = []
        for error in errors:
            index = None
            payload = error.get("original_payload") or {}
            attributes = payload.get("attributes", payload) if isinstance(payload, dict) else {}
            for field in ("email", "external_id", "phone_number"):
                value = attributes.get(field) if isinstance(attributes, dict) else None
                if value and identity(field, value) in index_of:
                    index = index_of[identity(field, value)]
                    break
            if index is None:
                index = pointer_index((error.get("source") or {}).get("pointer") or "")
                if index is not None and not 0 <= index < len(records):
                    index = None
            if index is None:
                unplaced.append(error)
            else:
                placed.setdefault(index, []).append(error)
        return placed, unplaced

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        message = self.redact("; ".join(error_message(e) for e in errors))[:1000]
        code = str(errors[0].get("code") or "invalid")
        if any(word in (code + " " + message).lower() for word in COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=code,
                message=message,
                hint="Klaviyo holds this profile back (suppressed or deleted for privacy); "
                "resolve it in Klaviyo to sync this subscriber.",
            )
        pointer = str((errors[0].get("source") or {}).get("pointer") or "")
        field = pointer.rsplit("/", 1)[-1] if "/attributes/" in pointer else ""
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=code,
            message=message,
            hint=f"Fix the subscriber's {field or 'data'} in SharpSend, or the field mapping.",
        )

    # --- privacy -----------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Ask Klaviyo to delete every profile with this email, phone number or profile id."""
        if "@" in identifier:
            profile = {"type": "profile", "attributes": {"email": identifier}}
        elif identifier.startswith("+"):
            profile = {"type": "profile", "attributes": {"phone_number": identifier}}
        else:
            profile = {"type": "profile", "id": identifier, "attributes": {}}
        body = {
            "data": {
                "type": "data-privacy-deletion-job",
                "attributes": {"profile": {"data": profile}},
            }
        }
        self.request(
            "POST", API, "/api/data-privacy-deletion-jobs", json=body, rate="data_privacy",
            ok=(202,),
        )  # fmt: skip

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Suppress the email from all email marketing (a bulk suppression job; Klaviyo
        suppresses whatever the profile's consent says, and keeps the profile). Klaviyo takes
        emails only here; a profile it does not hold is created already suppressed."""
        body = {
            "data": {
                "type": "profile-suppression-bulk-create-job",
                "attributes": {
                    "profiles": {"data": [{"type": "profile", "attributes": {"email": identifier}}]}
                },
            }
        }
        data = self.request(
            "POST", API, "/api/profile-suppression-bulk-create-jobs", json=body,
            ok=(202,),
        ).json()  # fmt: skip
        job_id = str((data.get("data") or {}).get("id") or "")
        detail = "Klaviyo accepted the suppression and applies it asynchronously"
        detail += f" (job {job_id})." if job_id else "."
        return PrivacyReceipt(PrivacyState.DONE, job_id=job_id, detail=detail)

    def export_contact(self, identifier: str) -> dict:
        """The profiles with this email / phone / external id, with their subscriptions."""
        field = "email" if "@" in identifier else (
            "phone_number" if identifier.startswith("+") else "external_id"
        )  # fmt: skip
        value = identifier.replace("\\", "\\\\").replace('"', '\\"')
        data = self.request(
            "GET",
            API,
            "/api/profiles",
            params={
                "filter": f'equals({field},"{value}")',
                "additional-fields[profile]": "subscriptions",
            },
        ).json()
        return {"profiles": data.get("data", [])}
