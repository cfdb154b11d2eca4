"""Kit subscribers: custom fields, one upsert a call (API keys cannot bulk), the export."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.kit.api import API, KitPaging
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

MAX_CUSTOM_FIELDS = 140  # per request
# Subscriber states Kit will not turn back to active through the API.
_INACTIVE_STATES = {"cancelled", "bounced", "complained"}
# Subscriber properties (not custom fields) a mapping can target.
STANDARD_FIELDS = ("email", "first_name", "state")


class KitContacts(KitPaging):
    def format_value(self, value: Any) -> Any:
        """ISO 8601 in UTC with a Z, as Kit writes its own timestamps."""
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value

    def list_fields(self) -> list[TargetField]:
        custom = list(self._pages("/v4/custom_fields", "custom_fields"))
        return [
            TargetField("email", "Email address", "email", required=True),
            TargetField("first_name", "First name", "string"),
            TargetField("state", "Subscription state (from the SharpSend status)", "string"),
            *(TargetField(f["key"], f.get("label") or f["key"], "string") for f in custom),
        ]

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_one)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        too_many = [r for r in records if len(self._custom(r)) > MAX_CUSTOM_FIELDS]
        results = [
            RecordResult(
                r.key,
                Outcome.REJECTED_DATA,
                code="too_many_fields",
                message=f"Kit takes at most {MAX_CUSTOM_FIELDS} custom fields a request.",
                hint="Map fewer custom fields.",
            )
            for r in too_many
        ]
        refused = {r.key for r in too_many}
        rest = [r for r in records if r.key not in refused]
        encoded, rejected = self.encode_records(rest, self.entry_for)
        # One subscriber per request: Kit's bulk endpoint refuses API keys.
        requests = self.request_each(encoded, "POST", API, "/v4/subscribers")
        return UpsertPlan(requests, results + rejected)

    def _custom(self, record: ContactRecord) -> dict:
        return {
            k: v
            for k, v in record.fields.items()
            if k not in STANDARD_FIELDS and k != record.identifier_field
        }

    def entry_for(self, record: ContactRecord) -> dict:
        """The POST /v4/subscribers body this record becomes."""
        body: dict[str, Any] = {"email_address": record.identifier}
        if record.fields.get("first_name") is not None:
            body["first_name"] = str(self.format_value(record.fields["first_name"]))
        # Applies to new subscribers only: Kit does not change an existing one's state here.
        body["state"] = "active" if _wants_active(record) else "cancelled"
        custom = self._custom(record)
        if custom:
            # Keyed by the custom field's key (last_name, not "Last name"); an unknown key
            # is refused with a 422, so the mapping only offers the keys Kit lists.
            body["fields"] = {key: _text(self.format_value(value)) for key, value in custom.items()}
        return body

    def _send_one(self, planned: PlannedRequest) -> list[RecordResult]:
        [record] = planned.records
        try:
            response = self.send_planned(planned, ok=(200, 201))
        except ValidationFailed as exc:
            return [
                RecordResult(
                    record.key,
                    Outcome.REJECTED_DATA,
                    code=exc.code,
                    message=exc.message,
                    hint="Kit refused this subscriber: fix the email address in SharpSend, or "
                    "map only custom fields Kit lists.",
                )
            ]
        subscriber = response.json().get("subscriber") or {}
        state = str(subscriber.get("state") or "")
        outcome = Outcome.CREATED if response.status_code == 201 else Outcome.UPDATED
        if _wants_active(record) and state in _INACTIVE_STATES:
            return [
                RecordResult(
                    record.key,
                    Outcome.REJECTED_COMPLIANCE,
                    code=state,
                    message=f"The subscriber is '{state}' in Kit; their fields were updated but "
                    "Kit keeps them unsubscribed.",
                    hint="Kit does not re-activate unsubscribed, bounced or complained "
                    "subscribers through the API; the reader must sign up again on a Kit form.",
                )
            ]
        if not _wants_active(record) and "state" in record.fields and state not in _INACTIVE_STATES:
            self.request(
                "POST", API, f"/v4/subscribers/{subscriber['id']}/unsubscribe", ok=(200, 204)
            )
        return [RecordResult(record.key, outcome)]

    # --- privacy ------------------------------------------------------------------------------

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Unsubscribe the subscriber (`POST /v4/subscribers/{id}/unsubscribe`: their state
        becomes cancelled, their data stays, and Kit keeps them so through the API). Kit
        addresses subscribers by id: the one the console knows (`platform_id`), else the
        one an email look-up finds."""
        subscriber_id = platform_id if platform_id.isdigit() else ""
        via = "the id the console knew"
        if subscriber_id:
            try:
                return self._unsubscribe(subscriber_id, via)
            except NotFound:
                subscriber_id = ""  # a stale id: look the email up instead
        found = self._find_subscriber(identifier)
        if found is None:
            return PrivacyReceipt(PrivacyState.DONE, detail="Kit holds no such subscriber.")
        return self._unsubscribe(str(found["id"]), "an email look-up")

    def _unsubscribe(self, subscriber_id: str, via: str) -> PrivacyReceipt:
        self.request("POST", API, f"/v4/subscribers/{subscriber_id}/unsubscribe", ok=(200, 204))
        return PrivacyReceipt(
            PrivacyState.DONE,
            job_id=subscriber_id,
            detail=f"Kit unsubscribed subscriber {subscriber_id} (found by {via}; data kept).",
        )

    def _find_subscriber(self, email: str) -> dict | None:
        found = self.request(
            "GET", API, "/v4/subscribers", params={"email_address": email, "status": "all"}
        ).json()
        subscribers = found.get("subscribers") or []
        return subscribers[0] if subscribers else None

    def export_contact(self, identifier: str) -> dict:
        """The subscriber (with custom fields) and their tags ({} when Kit has no such email)."""
        found = self.request(
            "GET",
            API,
            "/v4/subscribers",
            params={"email_address": identifier, "status": "all"},
        ).json()
        subscribers = found.get("subscribers") or []
        if not subscribers:
            return {}
        subscriber_id = subscribers[0]["id"]
        subscriber = self.request("GET", API, f"/v4/subscribers/{subscriber_id}").json()
        tags = list(self._pages(f"/v4/subscribers/{subscriber_id}/tags", "tags"))
        return {"subscriber": subscriber.get("subscriber", subscribers[0]), "tags": tags}


def _wants_active(record: ContactRecord) -> bool:
    """True unless the mapped SharpSend status says the reader left."""
    state = record.fields.get("state")
    return state is None or str(state).lower() in ("subscribed", "active")


def _text(value: Any) -> Any:
    """Kit custom fields are text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
