"""Front contacts: fields, the lookup-then-write upsert, one contact's delete and export."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, PlatformError, ValidationFailed
from integrations.platforms.front.api import (
    API,
    CONTACT_KEYS,
    CUSTOM,
    FIELD_TYPES,
    NAME_PARTS,
    alias,
)
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    TargetField,
    UpsertPlan,
)


class FrontContacts(PlatformClient):
    """Contact fields, the upsert (each contact looked up, then created or updated), privacy."""

    def list_fields(self) -> list[TargetField]:
        fields = [
            TargetField("email", "Email handle", "email", required=True),
            TargetField("name", "Name (full)", "string"),
            TargetField("first_name", "First name (joined into the name)", "string"),
            TargetField("last_name", "Last name (joined into the name)", "string"),
            TargetField("description", "Description", "string"),
        ]
        data = self.call("GET", "/contacts/custom_fields").json()
        for field in data.get("_results", []):
            name = str(field.get("name", ""))
            if name:
                fields.append(
                    TargetField(
                        f"{CUSTOM}{name}",
                        f"{name} (custom field)",
                        FIELD_TYPES.get(str(field.get("type")), "string"),
                    )
                )
        return fields

    def entry_for(self, record: ContactRecord) -> dict:
        """The contact body for a new contact (the wizard's preview shows it)."""
        contact, custom = self._split(record)
        body: dict[str, Any] = {"handles": [{"source": "email", "handle": record.identifier}]}
        body.update(contact)
        if custom:
            body["custom_fields"] = custom
        return body

    def _split(self, record: ContactRecord) -> tuple[dict, dict]:
        """(contact properties, custom fields) of a record."""
        fields = self.format_fields(
            {k: v for k, v in record.fields.items() if k != record.identifier_field}
        )
        contact: dict[str, Any] = {}
        parts = [str(fields[p]).strip() for p in NAME_PARTS if fields.get(p) not in (None, "")]
        if parts:
            contact["name"] = " ".join(p for p in parts if p)
        for key in CONTACT_KEYS:
            if key in fields and fields[key] is not None:
                contact[key] = str(fields[key])
        custom = {k[len(CUSTOM) :]: v for k, v in fields.items() if k.startswith(CUSTOM)}
        return contact, custom

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        # One contact a request: each record is its own group, so an auth failure stops
        # the rest (send_groups) while a data error rejects only its record.
        results = plan.rejected + self.send_groups(
            plan.requests, lambda planned: [self._write(planned, update_existing)]
        )
        if plan.requests:
            rate = self.limits.rates[self.rate]
            self.warnings.append(
                f"Front has no bulk contact write: each contact takes a lookup and a write, "
                f"at {rate.count} requests a minute."
            )
        return results

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        existing = "an update of the fields that differ" if update_existing else "nothing"
        note = (
            "As sent for a new contact. The client first looks the email up "
            f"(GET /contacts/alt:email:…); an existing contact gets {existing}."
        )
        requests = self.request_each(encoded, "POST", API, "/contacts", note=note, rate=self.rate)
        return UpsertPlan(requests, rejected)

    def _write(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        try:
            current = self.call("GET", f"/contacts/{alias(record.identifier)}").json()
        except NotFound:
            current = None
        try:
            if current is None:
                try:
                    self.send_planned(planned, ok=(200, 201))
                    return RecordResult(record.key, Outcome.CREATED)
                except ValidationFailed as exc:
                    if exc.status != 409:
                        raise
                    # Created meanwhile by someone else: update it instead.
                    current = self.call("GET", f"/contacts/{alias(record.identifier)}").json()
            if not update_existing:
                return RecordResult(
                    record.key,
                    Outcome.UNCHANGED,
                    code="exists",
                    message="The contact already exists in Front; kept as it is.",
                )
            body = self._update_body(record, current)
            if body is None:
                return RecordResult(record.key, Outcome.UNCHANGED)
            self.call("PATCH", f"/contacts/{alias(record.identifier)}", json=body, ok=(204,))
            return RecordResult(record.key, Outcome.UPDATED)
        except ValidationFailed as exc:
            return self._rejection(record, exc)

    def _update_body(self, record: ContactRecord, current: dict) -> dict | None:
        """The PATCH body, or None when the contact already holds these values.

        custom_fields is sent whole: Front erases every custom field left out of it.
        """
        contact, custom = self._split(record)
        body = {k: v for k, v in contact.items() if current.get(k) != v}
        existing = current.get("custom_fields") or {}
        if any(existing.get(k) != v for k, v in custom.items()):
            body["custom_fields"] = {**existing, **custom}
        return body or None

    def _rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        if exc.status == 404:
            hint = "The contact disappeared between lookup and write; sent again next run."
            return RecordResult(
                record.key, Outcome.UNKNOWN, code=exc.code, message=exc.message, hint=hint
            )
        hint = (
            "A custom field refused the value: check the field's type in Front (Settings → "
            "Contacts → Custom fields) against the mapping."
            if "custom" in exc.message.lower() or "field" in exc.message.lower()
            else "Front refused the contact; fix the subscriber's data or the mapping."
        )
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code=exc.code, message=exc.message, hint=hint
        )

    def delete_contact(self, identifier: str) -> None:
        """Delete the contact (its conversations stay: Front keeps them separately)."""
        try:
            self.call("DELETE", f"/contacts/{alias(identifier)}", ok=(204,))
        except NotFound:
            pass  # already gone

    def export_contact(self, identifier: str) -> dict:
        """The contact and the list of its conversations (ids, subjects, statuses)."""
        try:
            contact = self.call("GET", f"/contacts/{alias(identifier)}").json()
        except NotFound:
            return {"found": False, "contact": {}, "conversations": []}
        conversations = [
            {
                "id": c.get("id"),
                "subject": c.get("subject"),
                "status": c.get("status"),
                "created_at": c.get("created_at"),
            }
            for c in self._pages(f"/contacts/{alias(identifier)}/conversations")
        ]
        contact.pop("_links", None)
        return {"found": True, "contact": contact, "conversations": conversations}
