"""Mailchimp's audience members: merge fields, batch subscribe, permanent deletion, export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, PlatformError
from integrations.platforms.mailchimp.api import (
    _COMPLIANCE_WORDS,
    _FIELD_TYPES,
    _STATUS,
    API,
    member_email,
    subscriber_hash,
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


class MailchimpContacts(PlatformClient):
    """Merge fields, batch subscribe (per-member results), deletion and export of a member."""

    # --- fields ---------------------------------------------------------------------------------

    def list_fields(self) -> list[TargetField]:
        data = self.request(
            "GET", API, f"{self.list_path}/merge-fields", params={"count": 1000}
        ).json()
        merge_fields = data.get("merge_fields", [])
        self._merge_types = {f["tag"]: f.get("type", "text") for f in merge_fields}
        return [
            TargetField("email", "Email address", "email", required=True),
            TargetField("status", "Subscription status (subscribed / unsubscribed)", "string"),
            TargetField("timestamp_signup", "Signup time", "date"),
            *(
                TargetField(
                    f["tag"],
                    f.get("name") or f["tag"],
                    _FIELD_TYPES.get(f.get("type", ""), "string"),
                    required=bool(f.get("required")),
                )
                for f in merge_fields
            ),
        ]

    def _types(self) -> dict[str, str]:
        if self._merge_types is None:
            self.list_fields()
        return self._merge_types or {}

    # --- upsert_contacts ------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(
            plan.requests, lambda planned: self._send_batch(planned, update_existing)
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        types = self._types()
        encoded, rejected = self.encode_records(records, lambda r: self._member(r, types))
        flag = b"true" if update_existing else b"false"
        envelope = b'{"members":[],"update_existing":' + flag + b',"sync_tags":false}'
        groups = self.pack(encoded, envelope_bytes=len(envelope))
        return UpsertPlan(
            self.batch_requests(groups, envelope, "POST", API, self.list_path), rejected
        )

    def entry_for(self, record: ContactRecord) -> dict:
        """The batch-subscribe member this record becomes (dates as their merge fields want)."""
        if self._merge_types is None and not self._types_unavailable:
            try:
                self.list_fields()
            except PlatformError:
                self._types_unavailable = True  # asked once; a preview still shows the rest
        return self._member(record, self._merge_types or {})

    def _member(self, record: ContactRecord, types: dict[str, str]) -> dict:
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        member: dict[str, Any] = {"email_address": record.identifier}
        status = _STATUS.get(str(fields.pop("status", "subscribed")).lower(), "subscribed")
        if status == "subscribed":
            member["status_if_new"] = "subscribed"
        else:
            member["status"] = status
        if "timestamp_signup" in fields:
            member["timestamp_signup"] = self.format_value(fields.pop("timestamp_signup"))
        if fields:
            member["merge_fields"] = {
                tag: self._merge_value(value, types.get(tag, "text"))
                for tag, value in fields.items()
            }
        return member

    def _merge_value(self, value: Any, kind: str) -> Any:
        """Dates as the merge field's type wants them; everything else as the base formats."""
        if isinstance(value, (date, datetime)) and kind in ("date", "birthday"):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)
            return value.strftime("%Y-%m-%d" if kind == "date" else "%m/%d")
        return self.format_value(value)

    def _send_batch(self, planned: PlannedRequest, update_existing: bool) -> list[RecordResult]:
        group = planned.group
        data = self.send_planned(planned).json()
        created = {member_email(m) for m in data.get("new_members") or []}
        updated = {member_email(m) for m in data.get("updated_members") or []}
        errors: dict[str, dict] = {}
        for error in data.get("errors") or []:
            errors.setdefault(member_email(error), error)
        results = []
        for record, _ in group:
            email = record.identifier.strip().lower()
            if email in errors:
                results.append(self._rejection(record, errors[email], update_existing))
            elif email in created:
                results.append(RecordResult(record.key, Outcome.CREATED))
            elif email in updated:
                results.append(RecordResult(record.key, Outcome.UPDATED))
            else:
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code="not_reported",
                        message="Mailchimp's answer did not mention this address.",
                        hint="Sent again on the next run.",
                    )
                )
        return results

    def _rejection(self, record: ContactRecord, error: dict, update_existing: bool) -> RecordResult:
        code = str(error.get("error_code") or "ERROR_GENERIC")
        field = str(error.get("field") or "")
        text = str(error.get("error") or "")
        if error.get("field_message"):
            text = f"{text} ({field}: {error['field_message']})" if text else error["field_message"]
        message = self.redact(text)[:500]
        if code == "ERROR_CONTACT_EXISTS" and not update_existing:
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code=code,
                message=message,
                hint="Already in the audience; kept as it is (update existing is off).",
            )
        lowered = text.lower()
        if any(word in lowered for word in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=code,
                message=message,
                hint="Mailchimp keeps this address out (unsubscribed, cleaned, under compliance "
                "review or permanently deleted); only the reader can re-subscribe, through a "
                "Mailchimp signup form.",
            )
        if field and field != "email_address":
            hint = f"Fix the value sent to the merge field {field} (or the field mapping)."
        elif field == "email_address" or "email" in lowered:
            hint = "Correct the subscriber's email address in SharpSend."
        else:
            hint = "Mailchimp refused this member; see the message."
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code=code, message=message, hint=hint
        )

    # --- privacy ------------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Permanent (GDPR) deletion; irreversible. An address already gone is not an error."""
        path = f"{self.list_path}/members/{subscriber_hash(identifier)}/actions/delete-permanent"
        try:
            self.request("POST", API, path, ok=(204,))
        except NotFound:
            return

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Set the member's status to unsubscribed in the audience (the member and its data
        stay; Mailchimp sends it no campaign, and a later `subscribed` from the API needs
        the reader's own confirmation). An address the audience does not hold: nothing held."""
        path = f"{self.list_path}/members/{subscriber_hash(identifier)}"
        try:
            member = self.request("PATCH", API, path, json={"status": "unsubscribed"}).json()
        except NotFound:
            return PrivacyReceipt(
                PrivacyState.DONE, detail="Mailchimp's audience holds no such member."
            )
        if member.get("status") != "unsubscribed":
            return PrivacyReceipt(
                PrivacyState.FAILED,
                detail=f"Mailchimp kept the member {member.get('status') or 'as it was'}.",
            )
        return PrivacyReceipt(
            PrivacyState.DONE, detail="Mailchimp marked the member unsubscribed (data kept)."
        )

    def export_contact(self, identifier: str) -> dict:
        """The member, its tags and its events ({} when the audience does not hold it)."""
        member_path = f"{self.list_path}/members/{subscriber_hash(identifier)}"
        try:
            member = self.request("GET", API, member_path).json()
        except NotFound:
            return {}
        tags = self.request("GET", API, f"{member_path}/tags", params={"count": 1000}).json()
        events = self.request("GET", API, f"{member_path}/events", params={"count": 1000}).json()
        return {
            "member": member,
            "tags": tags.get("tags", []),
            "events": events.get("events", []),
        }
