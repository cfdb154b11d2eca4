"""Campaign Monitor (API v3.3): subscribers through the list import, custom fields per list,
the client's lists and segments with counts.

Facts: ../shared/platforms/campaign_monitor.md. Everything lives under a client (ClientID)
and a list (ListID); the API key goes as the Basic-auth user name. The import answers at once
— a partial failure is an HTTP 400 with Code 210 whose ResultData says which addresses failed
and why — so no job is involved.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from requests.auth import HTTPBasicAuth

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
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
V = "/api/v3.3"
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
_CONSENT = {True: "Yes", False: "No", "yes": "Yes", "no": "No", "unchanged": "Unchanged"}
# Targets the client handles itself (the rest are the list's custom fields).
STANDARD_TARGETS = ("email", "name", "first_name", "last_name", "consent_to_track")


@register
class CampaignMonitorClient(PlatformClient):
    slug = "campaign_monitor"
    label = "Campaign Monitor"
    category = Category.EMAIL
    rate_limit_reset = "seconds"  # X-RateLimit-Reset: seconds until the window reopens
    summary = (
        "Subscribers of one list through the synchronous import (per-address failures "
        "included); custom fields of the list; the client's lists and segments with counts."
    )
    capabilities = frozenset(
        {
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
        }
    )
    unsupported_reasons = {
        Capability.TRACK_EVENTS: "Campaign Monitor has no custom-event ingestion",
        Capability.CREATE_SEGMENT: "segments are rule-based only; lists can be created through "
        "the API but are not yet wired in the console",
        Capability.ADD_TO_SEGMENT: "segments cannot hold hand-picked members (they are rules "
        "on the list's fields)",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Campaign Monitor → your profile menu → Account settings → API keys: the account "
            "API key (or a client's API key, which only reaches that client).",
        ),
        CredentialField(
            "client_id",
            "Client ID",
            "Same page (Account settings → API keys): the API ID listed next to the client "
            "whose list you sync.",
            secret=False,
        ),
        CredentialField(
            "list_id",
            "List ID",
            "Lists & subscribers → open the list → Settings (or 'change name/type'): the "
            "'API ID' at the bottom of the page.",
            secret=False,
        ),
    )
    regions = {"global": "Global (api.createsend.com)"}
    hosts = {API: {"global": "https://api.createsend.com"}}
    limits = Limits(
        # The import takes at most 1,000 subscribers a call; no byte limit is documented,
        # so ours keeps bodies reasonable. Each custom field value is at most 250 characters.
        batch_max_records=1000,
        batch_max_bytes=10_000_000,
        record_max_bytes=100_000,
        # Campaign Monitor does not publish its numbers; it answers 429 with X-RateLimit-*.
        rates={API: Rate(10, 1.0), "subscribers.import": Rate(2, 1.0)},
        # Date custom fields take a date only, written yyyy/mm/dd (see format_value).
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email",)
    accepts_new_fields = False
    # Fact sheet: custom field values ≤250 characters; a Number field takes numbers. The
    # import answers each with its failure code 1, as it does an invalid address.
    contact_rules = (
        rules.EmailSyntax(code="1"),
        rules.MaxLength(
            250, exempt=("name", "first_name", "last_name", "consent_to_track"), code="1"
        ),
        rules.TypedFields(code="1"),
    )
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._custom: dict[str, str] | None = None  # key (no brackets) → DataType

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # once per run, not once per record
            self.warnings.append(message)

    def auth_for(self, surface: str):
        return HTTPBasicAuth(self.credential("api_key"), "x")

    @property
    def list_id(self) -> str:
        return self.credential("list_id")

    @property
    def client_id(self) -> str:
        return self.credential("client_id")

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and "Code" in data:
            return str(data.get("Code", "")), str(data.get("Message", ""))[:300]
        return None

    def format_value(self, value: Any) -> Any:
        """Dates go as yyyy/mm/dd (the documented unambiguous form), the UTC date of a moment."""
        if isinstance(value, datetime):
            value = (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC).date()
        if isinstance(value, date):
            return value.strftime("%Y/%m/%d")
        return value

    # --- connection ----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            self.request("GET", API, f"{V}/systemdate.json")
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Campaign Monitor refused the API key. Copy it again from Account "
                "settings → API keys.",
            )
        scope = "account"
        try:
            clients = self.request("GET", API, f"{V}/clients.json").json()
            if not any(c.get("ClientID") == self.client_id for c in clients):
                names = ", ".join(f"{c.get('Name')} ({c.get('ClientID')})" for c in clients[:5])
                return ConnectionReport(
                    ok=False,
                    can_write=None,
                    detail=f"This account has no client with the ID {self.client_id}. Its "
                    f"clients: {names or 'none'}.",
                )
        except (AuthError, PermissionDenied):
            scope = "client"  # a client API key cannot list the account's clients
        try:
            lists = self.request("GET", API, f"{V}/clients/{self.client_id}/lists.json").json()
        except (AuthError, PermissionDenied, NotFound, ValidationFailed):
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail=f"The API key cannot reach the client {self.client_id}: it is a client "
                "API key of another client, or the Client ID is wrong. Use the account API "
                "key, or the key of this client.",
            )
        listed = next((item for item in lists if item.get("ListID") == self.list_id), None)
        if listed is None:
            names = ", ".join(f"{item.get('Name')} ({item.get('ListID')})" for item in lists[:5])
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail=f"The client has no list with the ID {self.list_id}. Its lists: "
                f"{names or 'none'}.",
            )
        account = f"{listed.get('Name', self.list_id)} (client {self.client_id})"
        kind = "an account API key" if scope == "account" else "a client API key"
        return ConnectionReport(
            ok=True,
            # Campaign Monitor keys carry no scopes: any key that reaches the list may write.
            can_write=True,
            account=account,
            region=self.region,
            detail=f"Connected to the list {account} with {kind}.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_FIELDS.value: True,
                Capability.LIST_SEGMENTS.value: True,
            },
        )

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
        code = failure.get("Code")
        message = self.redact(str(failure.get("Message", "")))[:500]
        if code in _COMPLIANCE_CODES or any(w in message.lower() for w in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=str(code),
                message=message,
                hint=_COMPLIANCE_CODES.get(
                    code, "Campaign Monitor refuses this address in its current state."
                ),
            )
        hint = (
            "Correct the email address."
            if code == 1
            else "Fix the subscriber's data in SharpSend, or the field mapping."
        )
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code=str(code), message=message, hint=hint
        )

    # --- lists and segments --------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        lists = self.request("GET", API, f"{V}/clients/{self.client_id}/lists.json").json()
        segments = self.request("GET", API, f"{V}/clients/{self.client_id}/segments.json").json()
        return [
            RemoteSegment(f"list:{item['ListID']}", item.get("Name", ""), kind="list")
            for item in lists
        ] + [
            RemoteSegment(f"segment:{item['SegmentID']}", item.get("Title", ""), kind="segment")
            for item in segments
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, remote = remote_id.partition(":")
        if kind == "segment":
            data = self.request(
                "GET",
                API,
                f"{V}/segments/{remote}/active.json",
                params={"page": 1, "pagesize": 10},
                max_wait=max_wait,
            ).json()
            return int(data.get("TotalNumberOfRecords", 0))
        remote = remote if kind == "list" else remote_id
        data = self.request("GET", API, f"{V}/lists/{remote}/stats.json", max_wait=max_wait)
        return int(data.json().get("TotalActiveSubscribers", 0))

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
