"""Braze users: custom attributes, /users/track batches, delete and export."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.braze.api import (
    CUSTOM_TYPES,
    ENVELOPE,
    OBJECTS_PER_REQUEST,
    REST,
    STANDARD_FIELDS,
    STANDARD_KEYS,
    chunks,
    error_text,
    next_cursor,
)
from integrations.platforms.errors import ConfigurationError
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


class BrazeContacts(PlatformClient):
    """Fields, the /users/track upsert, and one user's delete and export."""

    @property
    def objects_per_request(self) -> int:
        value = str(self._secrets.get("objects_per_request") or "75").strip()
        try:
            configured = OBJECTS_PER_REQUEST[value]
        except KeyError:
            raise ConfigurationError(
                f"Braze: objects per request must be 75 or 50, not '{value}'."
            ) from None
        return min(configured, self.limits.batch_max_records)

    def list_fields(self) -> list[TargetField]:
        fields = [TargetField(key, label, kind) for key, label, kind in STANDARD_FIELDS]
        params: dict | None = None
        while True:
            response = self.request(
                "GET", REST, "/custom_attributes", params=params, rate="custom_attributes"
            )
            for attribute in response.json().get("attributes", []):
                name = attribute.get("name")
                if not name or name in STANDARD_KEYS:
                    continue
                kind = CUSTOM_TYPES.get(str(attribute.get("data_type", "")).lower(), "string")
                fields.append(TargetField(name, name, kind))
            cursor = next_cursor(response)
            if not cursor:
                return fields
            params = {"cursor": cursor}

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_batch)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        # Braze has no create-only write (`_update_existing_only` is the opposite: never
        # create), so "keep existing" is left to the sync service.
        per_request = self.objects_per_request
        encoded, rejected = self.encode_records(records, self._attributes)
        groups = chunks(list(self.pack(encoded, envelope_bytes=len(ENVELOPE))), per_request)
        requests = self.batch_requests(
            groups, ENVELOPE, "POST", REST, "/users/track", rate="users.track"
        )
        return UpsertPlan(requests, rejected)

    def _attributes(self, record: ContactRecord) -> dict:
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        if isinstance(fields.get("email_subscribe"), bool):
            # A subscribed? transform gives a boolean; Braze wants its state names.
            fields["email_subscribe"] = (
                "subscribed" if fields["email_subscribe"] else "unsubscribed"
            )
        return {
            record.identifier_field: record.identifier,
            **self.format_fields(fields),
            # Explicit: create the user when no profile matches (alias-only needs it spelled out).
            "_update_existing_only": False,
        }

    def _send_batch(self, planned: PlannedRequest) -> list[RecordResult]:
        response = self.send_planned(planned, ok=(200, 201))
        return self.results_by_index(
            list(planned.group),
            response.json().get("errors") or [],
            index_of=lambda error: (
                error.get("index")
                if error.get("input_array", "attributes") == "attributes"
                else None
            ),
            reject=self._rejection,
            describe=lambda error: ("unplaced_error", error_text(error)),
        )

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        message = self.redact("; ".join(error_text(e) for e in errors))[:1000]
        lowered = message.lower()
        if "blacklist" in lowered or "blocklist" in lowered:
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code="blocklisted",
                message=message,
                hint="Braze blocks this identifier (spam or blocklist protection); unblock it "
                "in Braze to sync this subscriber.",
            )
        if "email_subscribe" in lowered:
            hint = "email_subscribe takes opted_in, subscribed or unsubscribed: map it from "
            hint += "status with the “Subscribed?” transform."
        elif "email" in lowered:
            hint = "Correct the subscriber's email address in SharpSend."
        else:
            hint = "Fix the subscriber's data in SharpSend, or the field mapping."
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code="invalid", message=message, hint=hint
        )

    def delete_contact(self, identifier: str) -> None:
        """Queue the deletion of the user (by email when it looks like one, else external id)."""
        if "@" in identifier:
            body = {
                "email_addresses": [
                    {"email": identifier, "prioritization": ["most_recently_updated"]}
                ]
            }
        else:
            body = {"external_ids": [identifier]}
        self.request("POST", REST, "/users/delete", json=body, rate="users.delete", ok=(200, 201))

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Set the address's email subscription state to unsubscribed (`/email/status`,
        fact sheet §9: stop emailing without deleting; it works before any profile has the
        address, so a later profile with it is unsubscribed too)."""
        self.request(
            "POST", REST, "/email/status",
            json={"email": identifier, "subscription_state": "unsubscribed"},
            rate="email.status", ok=(200, 201),
        )  # fmt: skip
        return PrivacyReceipt(
            PrivacyState.DONE,
            detail="Braze set the address's email subscription to unsubscribed (data kept).",
        )

    def export_contact(self, identifier: str) -> dict:
        body: dict = {
            "fields_to_export": [
                "external_id", "email", "first_name", "last_name", "phone", "country",
                "language", "dob", "gender", "home_city", "time_zone", "created_at",
                "custom_attributes", "email_subscribe", "email_opted_in_at",
                "email_unsubscribed_at", "custom_events", "purchases", "user_aliases",
            ]
        }  # fmt: skip
        if "@" in identifier:
            body["email_address"] = identifier
        else:
            body["external_ids"] = [identifier]
        data = self.request(
            "POST", REST, "/users/export/ids", json=body, rate="users.export.ids", ok=(200, 201)
        ).json()
        return {
            "users": data.get("users", []),
            "invalid_user_ids": data.get("invalid_user_ids", []),
        }
