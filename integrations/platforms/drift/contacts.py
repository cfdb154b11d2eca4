"""Drift contacts: attributes (standard, plus custom with the elevated scope), and a lookup by
email then a create or a partial update for each record (Drift has no bulk or upsert)."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.drift.api import API
from integrations.platforms.errors import PermissionDenied, PlatformError
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    TargetField,
    UpsertPlan,
)

_ATTRIBUTE_TYPES = {
    "STRING": "string",
    "NUMERIC": "number",
    "BOOLEAN": "boolean",
    "DATETIME": "date",
    "DATE": "date",
}
# Drift's standard contact attributes (the contact model), offered even without the elevated
# scope that lists custom ones.
STANDARD = (
    TargetField("email", "Email", "email", required=True),
    TargetField("name", "Name", "string"),
    TargetField("first_name", "First name", "string"),
    TargetField("last_name", "Last name", "string"),
    TargetField("phone", "Phone", "string"),
    TargetField("externalId", "External id", "string"),
)


class DriftContacts(PlatformClient):
    def list_fields(self) -> list[TargetField]:
        try:
            data = self.request("GET", API, "/contacts/attributes").json()
        except PermissionDenied:
            # The custom attribute list needs the elevated all_contact_read scope.
            return list(STANDARD)
        properties = (data.get("data") or {}).get("properties") or []
        fields = {f.key: f for f in STANDARD}
        for prop in properties:
            name = prop.get("name")
            if not name or name in fields:
                continue
            kind = _ATTRIBUTE_TYPES.get(str(prop.get("type", "")).upper(), "string")
            fields[name] = TargetField(name, prop.get("displayName") or name, kind)
        return list(fields.values())

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_each(
            plan.requests,
            lambda planned: self._upsert_one(planned, update_existing),
            self._data_rejection,
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        existing = (
            "PATCH /contacts/{id} with this body"
            if update_existing
            else "nothing (the integration keeps existing contacts)"
        )
        note = (
            "As sent for a new contact. The client first looks the email up "
            f"(GET /contacts?email=…); an existing contact gets {existing}."
        )
        return UpsertPlan(self.request_each(encoded, "POST", API, "/contacts", note=note), rejected)

    def entry_for(self, record: ContactRecord) -> dict:
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        attributes = {record.identifier_field: record.identifier, **self.format_fields(fields)}
        return {"attributes": {k: v for k, v in attributes.items() if v is not None}}

    def _upsert_one(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        existing = self._find(record.identifier)
        if existing is None:
            created = self.send_planned(planned)
            contact_id = str((created.json().get("data") or {}).get("id", ""))
            return RecordResult(record.key, Outcome.CREATED, code=contact_id)
        contact_id = str(existing["id"])
        if not update_existing:
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code="kept_existing",
                message=f"Drift contact {contact_id} has this email; left as it is.",
                hint="The integration keeps existing contacts; switch to update to overwrite.",
            )
        self.request("PATCH", API, f"/contacts/{contact_id}", content=planned.content)
        return RecordResult(record.key, Outcome.UPDATED, code=contact_id)

    def _find(self, email: str) -> dict | None:
        """The contact to update for this email, if any.

        Email is not unique in Drift: of several matches, the most recently active (then the
        most recently created) one wins.
        """
        data = (
            self.request("GET", API, "/contacts", params={"email": email, "limit": 50})
            .json()
            .get("data")
        )
        matches = [data] if isinstance(data, dict) else list(data or [])
        matches = [m for m in matches if isinstance(m, dict) and m.get("id") is not None]
        if not matches:
            return None

        def recency(contact: dict) -> tuple:
            attributes = contact.get("attributes") or {}
            return (_number(attributes.get("last_active")), _number(contact.get("createdAt")))

        return max(matches, key=recency)

    def _data_rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=exc.code or str(exc.status or ""),
            message=exc.message,
            hint="Drift refused this contact's data: fix the subscriber's values or the field "
            "mapping (see the message).",
        )


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
