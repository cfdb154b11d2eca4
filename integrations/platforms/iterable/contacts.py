"""Iterable users: fields from getFields, writes through bulkUpdate and its failure lists."""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API, ENVELOPE
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    TargetField,
    UpsertPlan,
    Written,
)

# bulkUpdate's failure lists: (list name, outcome, code, hint). Emails and user ids alike.
_FAILURES = (
    ("invalidEmails", Outcome.REJECTED_DATA, "InvalidEmail", "Correct the email address."),
    ("invalidUserIds", Outcome.REJECTED_DATA, "InvalidUserId", "Correct the user id."),
    (
        "conflictEmails",
        Outcome.REJECTED_DATA,
        "Conflict",
        "Another Iterable profile already uses this identifier.",
    ),
    (
        "conflictUserIds",
        Outcome.REJECTED_DATA,
        "Conflict",
        "Another Iterable profile already uses this identifier.",
    ),
    (
        "forgottenEmails",
        Outcome.REJECTED_COMPLIANCE,
        "Forgotten",
        "The user was forgotten (GDPR) in Iterable, which refuses their data.",
    ),
    (
        "forgottenUserIds",
        Outcome.REJECTED_COMPLIANCE,
        "Forgotten",
        "The user was forgotten (GDPR) in Iterable, which refuses their data.",
    ),
    (
        "invalidDataEmails",
        Outcome.REJECTED_DATA,
        "InvalidData",
        "A value's type differs from the field's type in Iterable (fixed on first write).",
    ),
    (
        "invalidDataUserIds",
        Outcome.REJECTED_DATA,
        "InvalidData",
        "A value's type differs from the field's type in Iterable (fixed on first write).",
    ),
    ("notFoundEmails", Outcome.REJECTED_DATA, "NotFound", "No such user in the Iterable project."),
    ("notFoundUserIds", Outcome.REJECTED_DATA, "NotFound", "No such user in the Iterable project."),
)

_FIELD_TYPES = {"long": "number", "double": "number", "boolean": "boolean", "date": "date"}


class IterableContacts(PlatformClient):
    def list_fields(self) -> list[TargetField]:
        fields = self.request("GET", API, "/api/users/getFields", rate="users.getFields")
        return [
            TargetField(key, key, _FIELD_TYPES.get(kind, "string" if kind == "string" else kind))
            for key, kind in sorted(fields.json().get("fields", {}).items())
        ]

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_batch)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        groups = self.pack(encoded, envelope_bytes=len(ENVELOPE))
        path = "/api/users/bulkUpdate"
        return UpsertPlan(
            self.batch_requests(groups, ENVELOPE, "POST", API, path, rate="users.bulkUpdate"),
            rejected,
        )

    def entry_for(self, record: ContactRecord) -> dict:
        return {
            record.identifier_field: record.identifier,
            "dataFields": self.format_fields(
                {k: v for k, v in record.fields.items() if k != record.identifier_field}
            ),
        }

    def _send_batch(self, planned: PlannedRequest) -> list[RecordResult]:
        group = planned.group
        response = self.send_planned(planned).json()
        failures = failures_in(response)
        if response.get("filteredOutFields"):
            dropped = ", ".join(sorted(response["filteredOutFields"]))
            self.warnings.append(f"Iterable dropped fields it does not know: {dropped}.")
        return results_of(group, failures)


def failures_in(response: dict) -> dict[tuple[str, str], tuple]:
    """(kind, identifier) → (outcome, code, hint, list name) for each user a bulk answer
    (bulkUpdate, lists/subscribe, lists/unsubscribe) says failed.

    failedUpdates says why; the deprecated top-level lists (every failed identifier, whatever
    the reason) only fill in what it does not mention.
    """
    failures: dict[tuple[str, str], tuple] = {}
    for source in (response.get("failedUpdates") or {}, response):
        for name, outcome, code, hint in _FAILURES:
            for identifier in source.get(name) or []:
                kind = "email" if name.endswith("Emails") else "userId"
                failures.setdefault(_key(kind, identifier), (outcome, code, hint, name))
    return failures


def results_of(group, failures: dict[tuple[str, str], tuple]) -> list[RecordResult]:
    """Each record of `group` ((record, body) pairs) written, or failed as `failures` says."""
    results = []
    for record, _ in group:
        failure = failures.get(_key(record.identifier_field, record.identifier))
        if failure:
            outcome, code, hint, name = failure
            results.append(
                RecordResult(record.key, outcome, code=code, message=f"In {name}.", hint=hint)
            )
        else:
            results.append(RecordResult(record.key, Written.WRITTEN))
    return results


def _key(kind: str, identifier) -> tuple[str, str]:
    """Emails compare case-insensitively; user ids exactly."""
    value = str(identifier)
    return (kind, value.lower() if kind == "email" else value)
