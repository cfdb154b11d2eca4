"""Keap's contacts: the contact model's custom fields, one upsert call a contact with its
opt-in settled, and an email's export and deletion."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, PlatformError
from integrations.platforms.keap.api import (
    _FIELD_TYPES,
    API,
    EXPORT_FIELDS,
    MARKETABLE,
    NO_BULK_WARNING,
    OPT_IN_REASON,
    OPT_OUT_REASON,
    REOPTABLE,
    SPECIAL,
    STANDARD,
    SUPPRESS_REASON,
    V2,
    _as_date,
    _path,
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


class KeapContacts(PlatformClient):
    """Custom fields, the per-contact upsert and opt-in status, export and deletion."""

    def list_fields(self) -> list[TargetField]:
        self._load_model(force=True)
        fields = [TargetField("email", SPECIAL["email"][0], "email", required=True)]
        fields += [
            TargetField(key, label, kind)
            for key, (label, kind) in SPECIAL.items()
            if key != "email"
        ]
        fields += [TargetField(key, label, kind) for key, (label, kind, _) in STANDARD.items()]
        for name, meta in sorted(self._model.items()):
            if name in STANDARD or name in SPECIAL:
                continue  # a standard property of the same name wins
            kind = _FIELD_TYPES.get(str(meta.get("field_type", "")).upper(), "string")
            label = f"{meta.get('label') or name} (custom field)"
            fields.append(TargetField(name, label, kind))
        return fields

    def _load_model(self, force: bool = False) -> dict[str, dict]:
        if self._model is None or force:
            self._remember_model(self.call("GET", "/contacts/model").json())
        return self._model

    def _remember_model(self, data: dict) -> None:
        self._model = {
            str(f["field_name"]): f
            for f in data.get("custom_fields") or []
            if f.get("field_name") and str(f.get("record_type", "CONTACT")).upper() == "CONTACT"
        }

    # --- contacts ------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        if NO_BULK_WARNING not in self.warnings:
            self.warnings.append(NO_BULK_WARNING)
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_each(
            plan.requests,
            lambda planned: self._upsert_one(planned, update_existing),
            self._data_rejection,
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        pending = []
        for record, _ in encoded:
            local = self._local_problem(record)
            if local is not None:
                rejected.append(local)
            else:
                pending.append(record)
        # Encoded again: _local_problem has loaded the custom-field model when one is mapped,
        # and the custom fields' ids come from it.
        entries = [(record, orjson.dumps(self.entry_for(record))) for record in pending]
        note = "One request a contact; Keap merges it into a contact with this email."
        if not update_existing:
            note += " The client first looks the email up and sends nothing for an existing one."
        requests = self.request_each(
            entries,
            "POST",
            API,
            V2 + "/contacts",
            note=note,
            params=(("duplicate_option", "Email"),),
        )
        return UpsertPlan(requests, rejected)

    def entry_for(self, record: ContactRecord) -> dict:
        """The `CreateUpdateContactRequest` body for one record."""
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        email: dict[str, Any] = {"email": record.identifier, "field": "EMAIL1"}
        if fields.get("opt_in") is True:
            email["opt_in_reason"] = OPT_IN_REASON
        body: dict[str, Any] = {"email_addresses": [email]}
        custom = []
        model = self._model or {}
        for key, value in fields.items():
            if key == "opt_in":
                continue
            if key == "phone":
                if value not in (None, ""):
                    body["phone_numbers"] = [{"number": str(value), "field": "PHONE1"}]
            elif key in STANDARD:
                body[key] = (
                    _as_date(value) if STANDARD[key][1] == "date" else self.format_value(value)
                )
            elif key in model:
                meta = model[key]
                kind = str(meta.get("field_type", "")).upper()
                content = _as_date(value) if kind == "DATE" else self.format_value(value)
                custom.append({"id": str(meta["id"]), "content": content})
        if custom:
            body["custom_fields"] = custom
        return body

    def _local_problem(self, record: ContactRecord) -> RecordResult | None:
        """A field Keap does not have (length limits are in contact_rules)."""
        unknown = [
            k
            for k in record.fields
            if k != record.identifier_field
            and k not in STANDARD
            and k not in SPECIAL
            and k not in self._load_model()
        ]
        if unknown:
            return RecordResult(
                record.key,
                Outcome.REJECTED_DATA,
                code="unknown_field",
                message=f"Keap has no contact field {', '.join(sorted(unknown))}.",
                hint="Create the custom field in Keap (Settings → Custom fields) or change the "
                "field mapping.",
            )
        return None

    def _upsert_one(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        if not update_existing and self._find_ids(record.identifier):
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code="kept_existing",
                message="A Keap contact with this email exists; left as it is.",
                hint="The integration keeps existing contacts; switch to update to overwrite.",
            )
        response = self.send_planned(planned, ok=(200, 201))
        self._watch_quota(response)
        outcome = Outcome.CREATED if response.status_code == 201 else Outcome.UPDATED
        contact = response.json()
        wanted = record.fields.get("opt_in")
        if wanted is None:
            return RecordResult(record.key, outcome, code=str(contact.get("id", "")))
        return self._settle_opt_in(record, outcome, contact, bool(wanted))

    def _settle_opt_in(
        self, record: ContactRecord, outcome: Outcome, contact: dict, wanted: bool
    ) -> RecordResult:
        """Make the address's marketability follow the subscriber's status where Keap allows."""
        email = record.identifier
        entry = next(
            (
                e
                for e in contact.get("email_addresses") or []
                if str(e.get("email", "")).lower() == email.lower()
            ),
            {},
        )
        status = entry.get("email_opt_status")
        if status is None:
            status = self._email_status(email).get("status")
        status = str(status or "").upper()
        contact_id = str(contact.get("id", ""))
        if wanted and status in MARKETABLE:
            return RecordResult(record.key, outcome, code=contact_id)
        if not wanted:
            if status in MARKETABLE:
                self._set_opt_in(email, False)
            return RecordResult(record.key, outcome, code=contact_id)
        if status in REOPTABLE or not status:
            answer = self._set_opt_in(email, True)
            if answer.get("opted_in"):
                return RecordResult(record.key, outcome, code=contact_id)
            status = str(answer.get("status") or status).upper()
        return RecordResult(
            record.key,
            Outcome.REJECTED_COMPLIANCE,
            code=status or "NON_MARKETABLE",
            message=f"Keap keeps {email} non-marketable ({status or 'unknown status'}); the "
            "contact's other data was written.",
            hint="Keap does not let an API opt an address back in after an unsubscribe, bounce "
            "or complaint; the reader must opt in again through a Keap form.",
        )

    def _email_status(self, email: str) -> dict:
        try:
            return self.call("GET", f"/emailAddresses/{_path(email)}/status").json()
        except NotFound:
            return {}

    def _set_opt_in(self, email: str, opted_in: bool) -> dict:
        body = {"opted_in": opted_in, "reason": OPT_IN_REASON if opted_in else OPT_OUT_REASON}
        return self.call("PATCH", f"/emailAddresses/{_path(email)}/status", json=body).json()

    def _data_rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=exc.code or str(exc.status or ""),
            message=exc.message,
            hint="Keap refused this contact's data: fix the subscriber's values or the field "
            "mapping (see the message).",
        )

    def _find_ids(self, email: str) -> list[str]:
        """Ids of every Keap contact with this email (email is not unique in Keap)."""
        ids, token = [], None
        while True:
            params = {"filter": f"email=={email}", "fields": "id", "page_size": 100}
            if token:
                params["page_token"] = token
            data = self.call("GET", "/contacts", params=params).json()
            ids += [str(c["id"]) for c in data.get("contacts") or [] if c.get("id") is not None]
            token = data.get("next_page_token")
            if not token:
                return ids

    def delete_contact(self, identifier: str) -> None:
        """Delete every Keap contact with this email (a hard delete of the record)."""
        for contact_id in self._find_ids(identifier):
            try:
                self.call("DELETE", f"/contacts/{contact_id}", ok=(204,))
            except NotFound:
                continue  # already gone

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Opt the address out (`PATCH /emailAddresses/{email}/status`, opted_in false): Keap
        sends it no marketing email and an API cannot opt it back in; the contact stays.
        An address Keap does not hold: nothing held."""
        body = {"opted_in": False, "reason": SUPPRESS_REASON}
        try:
            answer = self.call(
                "PATCH", f"/emailAddresses/{_path(identifier)}/status", json=body
            ).json()
        except NotFound:
            return PrivacyReceipt(PrivacyState.DONE, detail="Keap holds no such email address.")
        status = str(answer.get("status") or "")
        if answer.get("opted_in"):
            return PrivacyReceipt(
                PrivacyState.FAILED, detail=f"Keap kept the address marketable ({status})."
            )
        return PrivacyReceipt(
            PrivacyState.DONE,
            detail=f"Keap opted the address out ({status or 'non-marketable'}; contact kept).",
        )

    def export_contact(self, identifier: str) -> dict:
        """What Keap holds about this email: contacts with every property, tags, opt-in status."""
        contacts = []
        for contact_id in self._find_ids(identifier):
            contact = self.call(
                "GET", f"/contacts/{contact_id}", params={"fields": EXPORT_FIELDS}
            ).json()
            contact["tags"] = self._contact_tags(contact_id)
            contacts.append(contact)
        return {
            "platform": self.slug,
            "email": identifier,
            "contacts": contacts,
            "email_status": self._email_status(identifier) or None,
        }

    def _contact_tags(self, contact_id: str) -> list[dict]:
        tags, token = [], None
        while True:
            params = {"page_size": 1000, **({"page_token": token} if token else {})}
            data = self.call("GET", f"/contacts/{contact_id}/tags", params=params).json()
            tags += data.get("tags") or []
            token = data.get("next_page_token")
            if not token:
                return tags
