"""Campaign Monitor's subscribers: the list's custom fields, the synchronous import with its
per-address failures, one subscriber's export and deletion."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
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
    Written,
)

_ENVELOPE = (
    b'{"Subscribers":[],"Resubscribe":false,"QueueSubscriptionBasedAutoResponders":false,'
    b'"RestartSubscriptionBasedAutoresponders":false}'
)
_FIELD_TYPES = {
    "Text": "string",
    "Number": "number",
    "Date": "date",
    "MultiSelectOne": "string",
    "MultiSelectMany": "array",
    "Country": "string",
    "USState": "string",
}
# Import failure codes that are about the person's state, not the data we sent. Code 1 is
# documented (Invalid Email Address); the state codes are those the subscriber endpoints list.
_COMPLIANCE_CODES = {
    204: "The address is on the client's suppression list; remove it there to sync.",
    205: "The subscriber was deleted from the list in Campaign Monitor.",
    206: "The subscriber unsubscribed in Campaign Monitor; the console never resubscribes.",
    207: "The address bounced in Campaign Monitor.",
    208: "The subscriber has not confirmed (double opt-in) yet.",
}
_COMPLIANCE_WORDS = ("suppress", "unsubscrib", "bounce", "deleted", "unconfirmed", "spam")


def refusal(failure: dict, redact, data_hint: str) -> tuple[str, str, str, str]:
    """(outcome, code, message, hint) of one address an import's FailureDetails refused: a
    compliance refusal (suppressed, unsubscribed, bounced …) or bad data (`data_hint`)."""
    code = failure.get("Code")
    message = redact(str(failure.get("Message", "")))[:500]
    if code in _COMPLIANCE_CODES or any(w in message.lower() for w in _COMPLIANCE_WORDS):
        hint = _COMPLIANCE_CODES.get(
            code, "Campaign Monitor refuses this address in its current state."
        )
        return Outcome.REJECTED_COMPLIANCE, str(code), message, hint
    hint = "Correct the email address." if code == 1 else data_hint
    return Outcome.REJECTED_DATA, str(code), message, hint


_CONSENT = {True: "Yes", False: "No", "yes": "Yes", "no": "No", "unchanged": "Unchanged"}
# Targets the client handles itself (the rest are the list's custom fields).
STANDARD_TARGETS = ("email", "name", "first_name", "last_name", "consent_to_track")


class CampaignMonitorContacts(PlatformClient):
    """Custom fields, the import (Code 210 partial failures), export and soft deletion."""

    def format_value(self, value: Any) -> Any:
        """Dates go as yyyy/mm/dd (the documented unambiguous form), the UTC date of a moment."""
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
        if isinstance(value, date):
            return value.strftime("%Y/%m/%d")
        return value

    # --- fields --------------------------------------------------------------------------------

    def _custom_fields(self) -> dict[str, str]:
        if self._custom is None:
            rows = self.request("GET", API, f"{V}/lists/{self.list_id}/customfields.json").json()
            self._custom = {
                str(row.get("Key", "")).strip("[]"): row.get("DataType", "Text") for row in rows
            }
        return self._custom

    def list_fields(self) -> list[TargetField]:
        self._custom = None
        fields = [
            TargetField("email", "Email address", "email", required=True),
            TargetField("name", "Name", "string"),
            TargetField("first_name", "First name (joined into Name)", "string"),
            TargetField("last_name", "Last name (joined into Name)", "string"),
            TargetField("consent_to_track", "Consent to track (Yes/No/Unchanged)", "string"),
        ]
        for key, kind in self._custom_fields().items():
            fields.append(TargetField(key, f"{key} (custom, {kind})", _FIELD_TYPES.get(kind, kind)))
        return fields

    # --- upsert --------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_batch)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        custom = self._custom_fields()
        checked, rejected = [], []
        for record in records:
            problem = self._problem(record)
            if problem:
                rejected.append(
                    RecordResult(
                        record.key,
                        Outcome.REJECTED_DATA,
                        code="value_too_long",
                        message=problem,
                        hint="Campaign Monitor keeps at most 250 characters a custom field.",
                    )
                )
            else:
                checked.append(record)
        encoded, too_large = self.encode_records(checked, lambda r: self._subscriber(r, custom))
        groups = self.pack(encoded, envelope_bytes=len(_ENVELOPE))
        path = f"{V}/subscribers/{self.list_id}/import.json"
        requests = self.batch_requests(
            groups, _ENVELOPE, "POST", API, path, rate="subscribers.import"
        )
        return UpsertPlan(requests, rejected + too_large)

    def _problem(self, record: ContactRecord) -> str:
        for name, value in record.fields.items():
            if name not in STANDARD_TARGETS and len(str(self.format_value(value))) > 250:
                return f"'{name}' is longer than 250 characters."
        return ""

    def _subscriber(self, record: ContactRecord, custom: dict[str, str]) -> dict:
        fields = record.fields
        name = fields.get("name")
        if name is None:
            parts = [fields.get("first_name"), fields.get("last_name")]
            name = " ".join(str(p).strip() for p in parts if p not in (None, "")) or None
        consent = fields.get("consent_to_track", "Unchanged")
        consent = _CONSENT.get(consent if isinstance(consent, bool) else str(consent).lower())
        entry: dict = {"EmailAddress": record.identifier.strip()}
        if name:
            entry["Name"] = str(name)
        values = []
        for key, value in fields.items():
            if key in STANDARD_TARGETS:
                continue
            if key not in custom:
                self._warn(f"Campaign Monitor's list has no field '{key}'; not sent.")
                continue
            if custom[key] == "MultiSelectMany" and isinstance(value, list | tuple):
                values += [{"Key": key, "Value": str(self.format_value(v))} for v in value]
                continue
            value = self.format_value(value)
            if isinstance(value, bool):
                value = "Yes" if value else "No"
            values.append({"Key": key, "Value": str(value)})
        if values:
            entry["CustomFields"] = values
        entry["ConsentToTrack"] = consent or "Unchanged"
        return entry

    def _send_batch(self, planned: PlannedRequest) -> list[RecordResult]:
        group = list(planned.group)
        response = self.send_planned(planned, ok=(200, 201, 400))
        data = response.json() if response.content else {}
        if response.status_code == 400:
            if data.get("Code") != 210 or not isinstance(data.get("ResultData"), dict):
                raise ValidationFailed(
                    self.redact(
                        f"Campaign Monitor refused the import: {data.get('Message', '')}".strip()
                    ),
                    status=400,
                    code=str(data.get("Code", "400")),
                )
            data = data["ResultData"]  # partial success: most rows went in
        failures: dict[str, dict] = {}
        for failure in data.get("FailureDetails") or []:
            failures[str(failure.get("EmailAddress", "")).strip().lower()] = failure
        results = []
        for record, _ in group:
            failure = failures.get(record.identifier.strip().lower())
            if failure is None:
                results.append(RecordResult(record.key, Written.WRITTEN))
            else:
                results.append(self._rejection(record, failure))
        return results

    def _rejection(self, record: ContactRecord, failure: dict) -> RecordResult:
        outcome, code, message, hint = refusal(
            failure, self.redact, "Fix the subscriber's data in SharpSend, or the field mapping."
        )
        return RecordResult(record.key, outcome, code=code, message=message, hint=hint)

    # --- one person ----------------------------------------------------------------------------

    def export_contact(self, identifier: str) -> dict:
        """The subscriber in this list, the client's lists holding the address, its history."""
        params = {"email": identifier, "includetrackingpreference": "true"}
        try:
            subscriber = self.request(
                "GET", API, f"{V}/subscribers/{self.list_id}.json", params=params
            ).json()
        except (NotFound, ValidationFailed) as exc:
            if exc.code not in ("203", "404"):  # 203: subscriber not in list
                raise
            return {"found": False, "subscriber": {}, "lists": [], "history": []}
        in_lists = self.request(
            "GET",
            API,
            f"{V}/clients/{self.client_id}/listsforemail.json",
            params={"email": identifier},
        ).json()
        history = self.request(
            "GET",
            API,
            f"{V}/subscribers/{self.list_id}/history.json",
            params={"email": identifier},
        ).json()
        return {"found": True, "subscriber": subscriber, "lists": in_lists, "history": history}

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Add the address to the client's suppression list (`POST /clients/{id}/
        suppress.json`): no list of this client sends to it and imports skip it; the
        subscriber records stay."""
        self.request(
            "POST",
            API,
            f"{V}/clients/{self.client_id}/suppress.json",
            json={"EmailAddresses": [identifier]},
        )
        return PrivacyReceipt(
            PrivacyState.DONE,
            detail="Campaign Monitor added the address to the client's suppression list.",
        )

    def delete_contact(self, identifier: str) -> None:
        """A soft delete: Campaign Monitor moves the subscriber to its Deleted state (the
        record stays; permanent erasure is done in Campaign Monitor's app)."""
        try:
            self.request(
                "DELETE",
                API,
                f"{V}/subscribers/{self.list_id}.json",
                params={"email": identifier},
            )
        except (NotFound, ValidationFailed) as exc:
            if exc.code not in ("203", "404"):
                raise
