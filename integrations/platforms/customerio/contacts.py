"""Customer.io people: the reserved attributes, and writes through the Track API's v2 batch."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import quote

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP, ENVELOPE, TRACK
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    PrivacyReceipt,
    PrivacyState,
    RecordResult,
    TargetField,
    UpsertPlan,
)

# A person's messages come in pages (`next`); an access export reads at most this many.
MAX_MESSAGE_PAGES = 20


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

    def export_contact(self, identifier: str) -> dict:
        """What Customer.io holds of the person, from the App API (fact sheet §9, spec
        getPersonAttributes / getPersonSegments / getPersonMessages): their attributes and
        identifiers, the segments they are in, and the messages sent to them (up to
        MAX_MESSAGE_PAGES pages). Addressed by email (`id_type=email`), or by id for an
        identifier that is not an email; {"found": False} when Customer.io has no such person.
        """
        id_type = "email" if "@" in identifier else "id"
        base = f"/v1/customers/{quote(identifier, safe='@')}"
        by = {"id_type": id_type}
        person = self._person(identifier, id_type)
        if person is None:
            return {"found": False, "customer": {}, "segments": [], "messages": []}
        segments = self.request("GET", APP, f"{base}/segments", params=by).json()
        messages, start = [], ""
        for _ in range(MAX_MESSAGE_PAGES):
            params = {**by, "start": start} if start else by
            page = self.request("GET", APP, f"{base}/messages", params=params).json()
            messages += page.get("messages") or []
            start = str(page.get("next") or "")
            if not start:
                break
        return {
            "found": True,
            "customer": person,
            "segments": segments.get("segments") or [],
            "messages": messages,
        }

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Stop Customer.io messaging the person while keeping their profile: `unsubscribed:
        true` through an identify (fact sheet §9). Customer.io's own suppress would delete the
        profile, which a deletion request does. The person is looked up first (App API, by
        the id the console knows, else by email), so that an identify never creates someone
        Customer.io does not hold; the identify then names them as Customer.io does."""
        person = self._person(platform_id, "id") if platform_id else None
        person = person or self._person(identifier, "email" if "@" in identifier else "id")
        if person is None:
            return PrivacyReceipt(PrivacyState.DONE, detail="Customer.io holds no such person.")
        ids = person.get("identifiers") or {}
        key = {"id": str(ids["id"])} if ids.get("id") else {"email": ids.get("email") or identifier}
        entry = {
            "type": "person",
            "identifiers": key,
            "action": "identify",
            "attributes": {"unsubscribed": True},
        }
        response = self.request(
            "POST", TRACK, "/api/v2/batch", json={"batch": [entry]}, ok=(200, 207)
        )
        errors = response.json().get("errors", []) if response.status_code == 207 else []
        if errors:
            message = "; ".join(str(e.get("message", e.get("reason", ""))) for e in errors)
            return PrivacyReceipt(
                PrivacyState.FAILED,
                detail=self.redact(f"Customer.io refused the unsubscribe: {message}"),
            )
        return PrivacyReceipt(
            PrivacyState.DONE,
            job_id=str(ids.get("cio_id") or ""),
            detail="Customer.io marked the person unsubscribed (profile kept).",
        )

    def _person(self, customer_id: str, id_type: str) -> dict | None:
        """The App API's view of one person (`customer`), or None when there is none."""
        path = f"/v1/customers/{quote(customer_id, safe='@')}/attributes"
        try:
            answer = self.request("GET", APP, path, params={"id_type": id_type}).json()
        except NotFound:
            return None
        return answer.get("customer") or None

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
