"""Kit (formerly ConvertKit), API v4 with an API key: subscribers, custom fields, tags with
member counts, read-only segments, a subscriber export.

Facts: ../shared/platforms/kit.md. Kit's bulk endpoints (`/v4/bulk/…`) accept OAuth tokens
only; with an API key the console writes one subscriber a call (`POST /v4/subscribers`, an
upsert by email) within the key's 120 requests a minute. OAuth arrives in a later issue.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any

from integrations.platforms import rules
from integrations.platforms.auth import HeaderKeyAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, PermissionDenied, ValidationFailed
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

API = "api"
TAG, SEGMENT = "tag", "segment"
MAX_CUSTOM_FIELDS = 140  # per request
# Subscriber states Kit will not turn back to active through the API.
_INACTIVE_STATES = {"cancelled", "bounced", "complained"}
# Subscriber properties (not custom fields) a mapping can target.
STANDARD_FIELDS = ("email", "first_name", "state")


@register
class KitClient(PlatformClient):
    slug = "kit"
    label = "Kit"
    category = Category.EMAIL
    summary = (
        "Subscribers and custom fields, one upsert a call with an API key (bulk endpoints need "
        "OAuth); tags with member counts and segments; subscriber export."
    )
    capabilities = frozenset(
        {
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.EXPORT_CONTACT,
        }
    )
    rate_limited_by = ("api_key",)  # Kit counts 120 requests a minute per API key
    unsupported_reasons = {
        Capability.DELETE_CONTACT: "Kit's API has no way to delete a subscriber; delete them "
        "in the Kit app (the API can only unsubscribe)",
        Capability.TRACK_EVENTS: "Kit's API takes no custom events (only purchases)",
        Capability.CREATE_SEGMENT: "Kit segments are built in the Kit app (the API only reads "
        "them); creating tags is not wired in the console yet",
        Capability.ADD_TO_SEGMENT: "Kit segments have no membership API; tagging subscribers "
        "is not wired in the console yet",
        Capability.SEND_CAMPAIGN: "broadcasts are not wired for Kit yet",
        Capability.CAMPAIGN_METRICS: "broadcast stats are not wired for Kit yet",
        Capability.WEBHOOKS: "Kit's webhook endpoints are not wired yet",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key (v4)",
            "Kit → Settings → Developer → API keys (v4) → Add a new key. Shown once. The "
            "older v3 API key and API secret do not work here.",
        ),
    )
    regions = {"global": "Kit (one host)"}
    hosts = {API: {"global": "https://api.kit.com"}}
    limits = Limits(
        # With an API key every subscriber is its own request, so the record cap is the sync's
        # checkpoint granularity; Kit documents no body limit for one subscriber.
        batch_max_records=50,  # one call a subscriber: a checkpoint every ~25 s
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        rates={API: Rate(120, 60.0)},  # per API key
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email",)  # sent as email_address
    # Kit answers an invalid address with 422; its custom fields are text.
    contact_rules = (rules.EmailSyntax(code="422"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "state", "", False),
    )

    def auth_for(self, surface: str):
        return HeaderKeyAuth("X-Kit-Api-Key", self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        """v4 errors are {"errors": [...]}; a 429 is plain text ("Retry later")."""
        if isinstance(data, dict) and isinstance(data.get("errors"), list):
            return "", "; ".join(str(e) for e in data["errors"])[:300]
        return None

    def format_value(self, value: Any) -> Any:
        """ISO 8601 in UTC with a Z, as Kit writes its own timestamps."""
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return value

    # --- test_connection -----------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            data = self.request("GET", API, "/v4/account").json()
        except (AuthError, PermissionDenied):
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Kit refused the API key. Use a v4 key from Settings → Developer → API "
                "keys (the v3 API key and API secret are not accepted).",
            )
        account = data.get("account") or {}
        name = str(account.get("name") or (data.get("user") or {}).get("email") or "")
        return ConnectionReport(
            ok=True,
            can_write=True,  # Kit keys have no scopes: every key may write
            account=name,
            region="global",
            detail=f"Connected to Kit account {name}. With an API key the console writes one "
            "subscriber a request (120 a minute); Kit's bulk endpoints need OAuth, which the "
            "console does not offer yet.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_FIELDS.value: True,
                Capability.LIST_SEGMENTS.value: True,
                Capability.EXPORT_CONTACT.value: True,
                "bulk_upsert": False,  # OAuth only
            },
        )

    # --- fields ---------------------------------------------------------------------------------

    def _pages(self, path: str, key: str, params: dict | None = None, max_wait=None):
        """Every item of a cursor-paginated v4 list."""
        params = {"per_page": 1000, **(params or {})}
        while True:
            data = self.request("GET", API, path, params=params, max_wait=max_wait).json()
            yield from data.get(key) or []
            pagination = data.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return
            params = {**params, "after": pagination["end_cursor"]}

    def list_fields(self) -> list[TargetField]:
        custom = list(self._pages("/v4/custom_fields", "custom_fields"))
        return [
            TargetField("email", "Email address", "email", required=True),
            TargetField("first_name", "First name", "string"),
            TargetField("state", "Subscription state (from the SharpSend status)", "string"),
            *(TargetField(f["key"], f.get("label") or f["key"], "string") for f in custom),
        ]

    # --- upsert_contacts ------------------------------------------------------------------------

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

    # --- tags and segments ----------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        tags = [
            RemoteSegment(f"{TAG}:{t['id']}", t.get("name", ""), kind=TAG)
            for t in self._pages("/v4/tags", "tags")
        ]
        found = [
            RemoteSegment(f"{SEGMENT}:{s['id']}", s.get("name", ""), kind=SEGMENT)
            for s in self._pages("/v4/segments", "segments")
        ]
        return tags + found

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, number = remote_id.partition(":")
        if kind != TAG:
            return None  # Kit's API gives no member list or count for segments
        data = self.request(
            "GET",
            API,
            f"/v4/tags/{number}/subscribers",
            params={"include_total_count": "true", "per_page": 1},
            max_wait=max_wait,
        ).json()
        total = (data.get("pagination") or {}).get("total_count")
        return int(total) if total is not None else None

    # --- privacy ------------------------------------------------------------------------------

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
