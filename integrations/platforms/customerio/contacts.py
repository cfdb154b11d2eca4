"""Customer.io people: the reserved attributes, and writes through the Track API's v2 batch."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import ENVELOPE, TRACK
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    TargetField,
    UpsertPlan,
)


class CustomerIoContacts(PlatformClient):
    def list_fields(self) -> list[TargetField]:
        # Customer.io has no attribute catalogue: offer its reserved attributes; any other
        # name becomes an attribute on first write.
        return [
            TargetField("email", "Email", "email", required=False),
            TargetField("id", "ID", "string"),
            TargetField("created_at", "Created at", "date"),
            TargetField("unsubscribed", "Unsubscribed", "boolean"),
            TargetField("first_name", "First name", "string"),
            TargetField("last_name", "Last name", "string"),
        ]

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_batch)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        groups = self.pack(encoded, envelope_bytes=len(ENVELOPE))
        return UpsertPlan(
            self.batch_requests(groups, ENVELOPE, "POST", TRACK, "/api/v2/batch"), rejected
        )

    def entry_for(self, record: ContactRecord) -> dict:
        return {
            "type": "person",
            "identifiers": {record.identifier_field: record.identifier},
            "action": "identify",
            "attributes": self.format_fields(record.fields, leave_out=record.identifier_field),
        }

    def _send_batch(self, planned: PlannedRequest) -> list[RecordResult]:
        group = list(planned.group)
        response = self.send_planned(planned, ok=(200, 207))
        errors = response.json().get("errors", []) if response.status_code == 207 else []
        return self.results_by_index(
            group,
            errors,
            index_of=lambda error: error.get("batch_index"),
            reject=self._rejection,
            describe=lambda error: (str(error.get("reason", "")), str(error.get("message", ""))),
        )

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        reason = " ".join(str(e.get("reason", "")) for e in errors).strip()
        message = self.redact(
            "; ".join(f"{e.get('field', '')}: {e.get('message', '')}".strip(": ") for e in errors)
        )
        if "suppress" in (reason + message).lower():
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=reason or "suppressed",
                message=message,
                hint="The person is suppressed in Customer.io; unsuppress them there to sync.",
            )
        field = next((e.get("field") for e in errors if e.get("field")), "")
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=reason or "invalid",
            message=message,
            hint=f"Fix the subscriber's {field or 'data'} in SharpSend, or the field mapping.",
        )

    # --- privacy ------------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Delete the person with a v2 `delete` entry (Track API key). Customer.io would let a
        later identify re-create them; the console's suppression sends none."""
        kind = "email" if "@" in identifier else "id"
        body = {
            "batch": [{"type": "person", "identifiers": {kind: identifier}, "action": "delete"}]
        }
        response = self.request("POST", TRACK, "/api/v2/batch", json=body, ok=(200, 207))
        errors = response.json().get("errors", []) if response.status_code == 207 else []
        if errors:
            message = "; ".join(str(e.get("message", e.get("reason", ""))) for e in errors)
            raise ValidationFailed(self.redact(f"Customer.io refused the deletion: {message}"))
