"""Iterable: users through bulkUpdate, fields from getFields, lists with their sizes.

Facts: ../shared/platforms/iterable.md; request shapes checked against
../shared/specs/iterable/api-docs.json in the tests.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms import rules
from integrations.platforms.auth import HeaderKeyAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, PermissionDenied
from integrations.platforms.registry import register
from integrations.platforms.types import (
    Capability,
    Category,
    ConnectionReport,
    ContactRecord,
    CredentialField,
    Limits,
    Outcome,
    PlannedRequest,
    Rate,
    RecordResult,
    RemoteSegment,
    TargetField,
    TimestampFormat,
    UpsertPlan,
    Written,
)

API = "api"

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

_ENVELOPE = b'{"users":[],"createNewFields":true}'

_FIELD_TYPES = {"long": "number", "double": "number", "boolean": "boolean", "date": "date"}


@register
class IterableClient(PlatformClient):
    slug = "iterable"
    label = "Iterable"
    category = Category.CROSS_CHANNEL
    summary = "Users and their data fields through bulk update; lists with member counts."
    capabilities = frozenset(
        {
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
        }
    )
    unsupported_reasons = {
        Capability.CREATE_SEGMENT: "only static lists can be created through the API; dynamic "
        "lists are built in Iterable's UI (not yet wired in the console)",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Iterable → Integrations → API Keys → New API key, type Server-side (a Read-only "
            "key cannot write users). Shown once when created.",
        ),
    )
    regions = {"us": "United States (USDC)", "eu": "European Union (EDC)"}
    hosts = {API: {"us": "https://api.iterable.com", "eu": "https://api.eu.iterable.com"}}
    limits = Limits(
        # bulkUpdate has a 4 MB body limit and no documented count limit; the record cap is
        # ours (the checkpoint granularity).
        batch_max_records=2000,
        batch_max_bytes=4_000_000,
        record_max_bytes=4_000_000 - len(_ENVELOPE),
        rates={
            API: Rate(100, 1.0),
            "users.bulkUpdate": Rate(5, 1.0),
            "users.getFields": Rate(3, 1.0),
            "lists.size": Rate(5, 60.0),
        },
        timestamp_format=TimestampFormat.SPACE_SEPARATED_UTC,
    )
    identifier_fields = ("email", "userId")
    # Field types are locked project-wide by the first value written (fact sheet §14.4): a
    # value of another type fails its user (invalidDataEmails, recorded as InvalidData).
    contact_rules = (
        rules.EmailSyntax(code="InvalidEmail"),
        rules.TypedFields(code="InvalidData", strict=True, fixed_on_first_write=True),
    )
    accepts_new_fields = True
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "firstName", "", False),
        ("last_name", "lastName", "", False),
        ("status", "sharpsendStatus", "", False),
        ("created_at", "signupDate", "", False),
    )

    def auth_for(self, surface: str):
        return HeaderKeyAuth("Api-Key", self.credential("api_key"))

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            lists = self.request("GET", API, "/api/lists").json().get("lists", [])
        except AuthError:
            return self._refused_key_report()
        try:
            # An empty bulk update writes nothing; a key that may not write is refused here.
            self.request(
                "POST",
                API,
                "/api/users/bulkUpdate",
                json={"users": []},
                rate="users.bulkUpdate",
                ok=(200, 400),
            )
        except (AuthError, PermissionDenied):
            return ConnectionReport(
                ok=False,
                can_write=False,
                region=self.region,
                detail="This is a read-only Iterable key: it can read lists but not update "
                "users. Create a Server-side key (Integrations → API Keys).",
                permissions={
                    Capability.UPSERT_CONTACTS.value: False,
                    Capability.LIST_SEGMENTS.value: True,
                    Capability.LIST_FIELDS.value: True,
                },
            )
        account = f"Iterable project ({self.region.upper()}, {len(lists)} lists)"
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account,
            region=self.region,
            detail=f"Connected: {account}; the key can write users.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_SEGMENTS.value: True,
                Capability.LIST_FIELDS.value: True,
            },
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: tell a key of the other data center from a wrong key."""
        other = self.region_accepting_key("GET", API, "/api/lists")
        if other:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=other,
                detail=f"This key belongs to Iterable's {self.regions[other]} data center, but "
                f"the integration is set to {self.regions[self.region]}. Choose "
                f"{other.upper()}.",
            )
        return ConnectionReport(
            ok=False,
            can_write=None,
            detail="Iterable refused the API key. Check it under Integrations → API Keys "
            "(JavaScript and Mobile keys cannot be used here).",
        )

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
        groups = self.pack(encoded, envelope_bytes=len(_ENVELOPE))
        path = "/api/users/bulkUpdate"
        return UpsertPlan(
            self.batch_requests(groups, _ENVELOPE, "POST", API, path, rate="users.bulkUpdate"),
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
        failures: dict[str, tuple] = {}
        failed_updates = response.get("failedUpdates") or {}
        # failedUpdates says why; the deprecated top-level lists (every failed identifier,
        # whatever the reason) only fill in what it does not mention.
        for source in (failed_updates, response):
            for name, outcome, code, hint in _FAILURES:
                for identifier in source.get(name) or []:
                    kind = "email" if name.endswith("Emails") else "userId"
                    failures.setdefault(_key(kind, identifier), (outcome, code, hint, name))
        if response.get("filteredOutFields"):
            dropped = ", ".join(sorted(response["filteredOutFields"]))
            self.warnings.append(f"Iterable dropped fields it does not know: {dropped}.")
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

    def list_segments(self) -> list[RemoteSegment]:
        lists = self.request("GET", API, "/api/lists").json().get("lists", [])
        return [
            RemoteSegment(str(item["id"]), item.get("name", ""), kind=item.get("listType", ""))
            for item in lists
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        response = self.request(
            "GET", API, f"/api/lists/{remote_id}/size", rate="lists.size", max_wait=max_wait
        )
        return int(response.text.strip().strip('"'))


def _key(kind: str, identifier) -> tuple[str, str]:
    """Emails compare case-insensitively; user ids exactly."""
    value = str(identifier)
    return (kind, value.lower() if kind == "email" else value)
