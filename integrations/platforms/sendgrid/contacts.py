"""SendGrid's contacts: field definitions (custom fields by id), the upsert plan, one
contact's export and deletion (the job is in `jobs`)."""

from __future__ import annotations

from collections.abc import Sequence

import orjson

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.sendgrid.api import (
    _FIELD_TYPES,
    API,
    CONTACTS,
    FIELDS,
    GLOBAL_SUPPRESSIONS,
    IMPORTS,
    WRITABLE_RESERVED,
    _type_problem,
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
)


class SendGridContacts(PlatformClient):
    """Field definitions by id, the upsert job and its results, export and deletion."""

    # --- fields --------------------------------------------------------------------------------

    def _field_definitions(self) -> dict[str, tuple[str, str]]:
        """Writable fields by name → (definition id, SendGrid type); custom ones by id."""
        if self._definitions is None:
            data = self.request("GET", API, FIELDS).json()
            definitions = {}
            for field in data.get("reserved_fields") or []:
                name = field.get("name", "")
                if name in WRITABLE_RESERVED and not field.get("read_only"):
                    definitions[name] = ("", field.get("field_type", "Text"))
            for field in data.get("custom_fields") or []:
                definitions[field["name"]] = (field["id"], field.get("field_type", "Text"))
            self._definitions = definitions
        return self._definitions

    def list_fields(self) -> list[TargetField]:
        self._definitions = None  # always fresh when asked
        definitions = self._field_definitions()
        fields = []
        for name, (field_id, kind) in definitions.items():
            label = f"{name} (custom, {kind})" if field_id else name
            fields.append(TargetField(name, label, _FIELD_TYPES.get(kind, "string")))
        return fields

    # --- upsert --------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_job)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        definitions = self._field_definitions()
        list_id = self.integration.secrets.get("list_id")
        self._envelope = (
            b'{"list_ids":' + orjson.dumps([list_id]) + b',"contacts":[]}'
            if list_id
            else b'{"contacts":[]}'
        )
        checked, rejected = [], []
        for record in records:
            problem = _type_problem(record, definitions)
            if problem:
                rejected.append(
                    RecordResult(
                        record.key,
                        Outcome.REJECTED_DATA,
                        code="wrong_type",
                        message=problem,
                        hint="SendGrid refuses the whole request for one such value: fix the "
                        "subscriber's value or map another field.",
                    )
                )
            else:
                checked.append(record)
        encoded, too_large = self.encode_records(
            checked, lambda record: self._contact(record, definitions)
        )
        rejected += too_large
        groups = self.pack(encoded, envelope_bytes=len(self._envelope))
        return UpsertPlan([self._contacts_request(group) for group in groups], rejected)

    def _contacts_request(self, group: Sequence[tuple[ContactRecord, bytes]]) -> PlannedRequest:
        [planned] = self.batch_requests(
            [list(group)], self._envelope, "PUT", API, CONTACTS, rate="contacts.upsert"
        )
        return planned

    def _contact(self, record: ContactRecord, definitions: dict) -> dict:
        identifier = record.identifier
        if record.identifier_field == "email":
            identifier = identifier.strip().lower()  # SendGrid lowercases emails itself
        contact: dict = {record.identifier_field: identifier}
        custom: dict = {}
        for name, value in record.fields.items():
            if name == record.identifier_field:
                continue
            field_id, kind = definitions.get(name, (None, None))
            if field_id is None:
                self._warn(f"SendGrid has no field '{name}'; it was not sent.")
                continue
            value = self.format_value(value)
            if kind == "Number" and isinstance(value, str):
                number = float(value)
                value = int(number) if number.is_integer() else number
            if kind == "Text" and not isinstance(value, str):
                value = str(value).lower() if isinstance(value, bool) else str(value)
            if field_id:
                custom[field_id] = value
            else:
                contact[name] = value
        if custom:
            contact["custom_fields"] = custom
        return contact

    # --- one person ----------------------------------------------------------------------------

    def _find(self, email: str) -> dict | None:
        try:
            data = self.request(
                "POST", API, f"{CONTACTS}/search/emails", json={"emails": [email.lower()]}
            ).json()
        except NotFound:
            return None  # "no contact matches any of the emails"
        for found, entry in (data.get("result") or {}).items():
            if found.lower() == email.lower() and isinstance(entry, dict):
                return entry.get("contact")
        return None

    def export_contact(self, identifier: str) -> dict:
        """The contact's profile as SendGrid holds it (lists, segments, fields)."""
        contact = self._find(identifier)
        return {"found": contact is not None, "contact": contact or {}}

    def delete_contact(self, identifier: str) -> None:
        """Delete the contact (a job, polled to its end). Suppressions stay: SendGrid keeps
        unsubscribes and bounces apart from contacts."""
        job_id = self._submit_deletion(identifier)
        if job_id:
            status = self._wait_for_job(job_id)
            if status.get("status") in ("failed", "errored"):
                raise ValidationFailed(f"SendGrid could not delete the contact (job {job_id}).")

    def request_deletion(self, identifier: str) -> PrivacyReceipt:
        """Submit the deletion job and return its id at once (privacy_job_status follows it)."""
        job_id = self._submit_deletion(identifier)
        if job_id is None:
            return PrivacyReceipt(PrivacyState.DONE, detail="SendGrid holds no such contact.")
        if not job_id:
            return PrivacyReceipt(PrivacyState.DONE, detail="SendGrid accepted the deletion.")
        return PrivacyReceipt(
            PrivacyState.WAITING, job_id=job_id, detail=f"SendGrid deletion job {job_id}."
        )

    def privacy_job_status(self, job_id: str) -> PrivacyReceipt:
        """The deletion job's state, read once from the imports-status endpoint."""
        data = self.request("GET", API, f"{IMPORTS}/{job_id}", rate="contacts.imports").json()
        state = str(data.get("status", ""))
        if state == "completed":
            deleted = (data.get("results") or {}).get("deleted_count")
            detail = f"SendGrid deletion job {job_id} completed"
            detail += f" ({deleted} deleted)." if deleted is not None else "."
            return PrivacyReceipt(PrivacyState.DONE, job_id=job_id, detail=detail)
        if state in ("failed", "errored"):
            return PrivacyReceipt(
                PrivacyState.FAILED,
                job_id=job_id,
                detail=f"SendGrid deletion job {job_id}: {state}.",
            )
        return PrivacyReceipt(
            PrivacyState.WAITING,
            job_id=job_id,
            detail=f"SendGrid deletion job {job_id}: {state or 'pending'}.",
        )

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Add the address to SendGrid's global unsubscribes: SendGrid sends it nothing
        again, whatever list it is on; the contact and its data stay (fact sheet §9)."""
        data = self.request(
            "POST",
            API,
            GLOBAL_SUPPRESSIONS,
            json={"recipient_emails": [identifier]},
            ok=(201,),
        ).json()
        listed = {str(e).lower() for e in data.get("recipient_emails") or []}
        if identifier.lower() not in listed:
            return PrivacyReceipt(
                PrivacyState.FAILED,
                detail="SendGrid did not list the address among its global unsubscribes.",
            )
        return PrivacyReceipt(
            PrivacyState.DONE,
            detail="SendGrid added the address to its global unsubscribes (the contact is kept).",
        )

    def _submit_deletion(self, identifier: str) -> str | None:
        """The deletion job's id; "" when SendGrid gave none, None when there is no contact."""
        contact = self._find(identifier)
        if contact is None:
            return None
        response = self.request(
            "DELETE", API, CONTACTS, params={"ids": contact["id"]}, ok=(202,)
        ).json()
        job_id = response.get("job_id")
        if isinstance(job_id, dict):  # the spec types it as an object; it is a string
            job_id = job_id.get("id")
        return str(job_id) if job_id else ""
