"""Customer.io (Journeys): people through the Track API, segments through the App API.

Facts: ../shared/platforms/customerio.md. Two credentials and two hosts: the Track API (Basic
site id : track key) writes people; the App API (Bearer app key) reads segments and workspaces.
"""

from __future__ import annotations

from collections.abc import Sequence

from requests.auth import HTTPBasicAuth

from integrations.platforms import rules
from integrations.platforms.auth import BearerAuth
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
)

TRACK = "track"
APP = "app"
_ENVELOPE = b'{"batch":[]}'


@register
class CustomerIoClient(PlatformClient):
    slug = "customerio"
    label = "Customer.io"
    category = Category.CROSS_CHANNEL
    summary = "People and attributes through the Track API's batch endpoint; segments with counts."
    capabilities = frozenset(
        {
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
        }
    )
    unsupported_reasons = {
        Capability.CREATE_SEGMENT: "only empty manual segments can be created through the API; "
        "data-driven segments are built in Customer.io's UI (not yet wired in the console)",
    }
    credential_fields = (
        CredentialField(
            "site_id",
            "Site ID",
            "Customer.io → Account Settings → API Credentials → Track API keys: the Site ID "
            "of the workspace.",
            secret=False,
        ),
        CredentialField(
            "track_api_key",
            "Track API key",
            "Same page, the API key next to that Site ID (writes people and events).",
        ),
        CredentialField(
            "app_api_key",
            "App API key",
            "Account Settings → API Credentials → App API keys (reads segments and "
            "workspaces). Shown once when created.",
        ),
    )
    regions = {"us": "United States", "eu": "European Union"}
    hosts = {
        TRACK: {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"},
        APP: {"us": "https://api.customer.io", "eu": "https://api-eu.customer.io"},
    }
    limits = Limits(
        # The v2 batch endpoint has byte limits only: < 500 KB a body, ≤ 32 KB an entry.
        # The record cap is ours: the per-batch checkpoint granularity.
        batch_max_records=2000,
        batch_max_bytes=499_000,
        record_max_bytes=32_000,
        rates={TRACK: Rate(100, 1.0), APP: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )
    identifier_fields = ("email", "id")
    accepts_new_fields = True
    # The batch's errors name an invalid email "invalid"; attributes are untyped.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "unsubscribed", "is_unsubscribed", False),
        ("created_at", "created_at", "", False),
    )

    def auth_for(self, surface: str):
        if surface == TRACK:
            return HTTPBasicAuth(self.credential("site_id"), self.credential("track_api_key"))
        return BearerAuth(self.credential("app_api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("meta"), dict):
            return "", str(data["meta"].get("error", ""))
        if isinstance(data, dict) and data.get("errors"):
            first = data["errors"][0]
            return str(first.get("reason", "")), str(
                first.get("message") or first.get("detail", "")
            )
        return None

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            region_info = self.request("GET", TRACK, "/api/v1/accounts/region").json()
        except AuthError:
            other = self.region_accepting_key("GET", TRACK, "/api/v1/accounts/region")
            if other:
                return ConnectionReport(
                    ok=False,
                    can_write=None,
                    region=other,
                    detail=f"This workspace is in Customer.io's {other.upper()} region, but "
                    f"the integration is set to {self.region.upper()}. Choose {other.upper()}.",
                )
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Customer.io refused the Site ID and Track API key. Check both on "
                "Account Settings → API Credentials (an App API key does not work here).",
            )
        actual = str(region_info.get("region", "")).lower()
        if actual and actual != self.region:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=actual,
                detail=f"This workspace is in Customer.io's {actual.upper()} region, but the "
                f"integration is set to {self.region.upper()}. Choose {actual.upper()}.",
            )
        try:
            workspaces = self.request("GET", APP, "/v1/workspaces").json().get("workspaces", [])
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=True,
                region=actual,
                detail="The Track key works, but Customer.io refused the App API key (wrong "
                "key, or a key of another region).",
            )
        env_id = str(region_info.get("environment_id", ""))
        account = next(
            (w.get("name", "") for w in workspaces if str(w.get("id")) == env_id),
            workspaces[0].get("name", "") if workspaces else "",
        )
        permissions = {Capability.UPSERT_CONTACTS.value: True}  # Track keys can only write
        try:
            self.request("GET", APP, "/v1/segments")
            permissions[Capability.LIST_SEGMENTS.value] = True
        except (AuthError, PermissionDenied):
            permissions[Capability.LIST_SEGMENTS.value] = False
        detail = (
            f"Connected to workspace {account or env_id} ({actual.upper() or self.region.upper()})."
        )
        if not permissions[Capability.LIST_SEGMENTS.value]:
            detail += " The App API key may not read segments: segment import is unavailable."
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account or env_id,
            region=actual or self.region,
            detail=detail,
            permissions=permissions,
        )

    def list_fields(self) -> list[TargetField]:
        # Customer.io has no attribute catalogue: offer its reserved attributes; any other
        # name becomes an attribute on first write.
        return [
            TargetField("email", "Email", "email", required=False),
            TargetField("id", "ID", "string"),
            TargetField("created_at", "Created at", "date"),
            TargetField("unsubscribed", "Unsubscribed", "boolean"),
            TargetField("first_name", "First name", "string"),
            TargetField("last_name", "Last name", "string"),
        ]

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_batch)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        groups = self.pack(encoded, envelope_bytes=len(_ENVELOPE))
        return UpsertPlan(
            self.batch_requests(groups, _ENVELOPE, "POST", TRACK, "/api/v2/batch"), rejected
        )

    def entry_for(self, record: ContactRecord) -> dict:
        return {
            "type": "person",
            "identifiers": {record.identifier_field: record.identifier},
            "action": "identify",
            "attributes": self.format_fields(
                {k: v for k, v in record.fields.items() if k != record.identifier_field}
            ),
        }

    def _send_batch(self, planned: PlannedRequest) -> list[RecordResult]:
        group = list(planned.group)
        response = self.send_planned(planned, ok=(200, 207))
        errors = response.json().get("errors", []) if response.status_code == 207 else []
        return self.results_by_index(
            group,
            errors,
            index_of=lambda error: error.get("batch_index"),
            reject=self._rejection,
            describe=lambda error: (str(error.get("reason", "")), str(error.get("message", ""))),
        )

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        reason = " ".join(str(e.get("reason", "")) for e in errors).strip()
        message = self.redact(
            "; ".join(f"{e.get('field', '')}: {e.get('message', '')}".strip(": ") for e in errors)
        )
        if "suppress" in (reason + message).lower():
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=reason or "suppressed",
                message=message,
                hint="The person is suppressed in Customer.io; unsuppress them there to sync.",
            )
        field = next((e.get("field") for e in errors if e.get("field")), "")
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=reason or "invalid",
            message=message,
            hint=f"Fix the subscriber's {field or 'data'} in SharpSend, or the field mapping.",
        )

    def list_segments(self) -> list[RemoteSegment]:
        data = self.request("GET", APP, "/v1/segments").json()
        return [
            RemoteSegment(str(s["id"]), s.get("name", ""), kind=s.get("type", ""))
            for s in data.get("segments", [])
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        path = f"/v1/segments/{remote_id}/customer_count"
        return int(self.request("GET", APP, path, max_wait=max_wait).json()["count"])
