"""Braze: users through /users/track, custom attributes, segments with their size estimates.

Facts: ../shared/platforms/braze.md (Braze publishes no OpenAPI document). Each workspace lives
on one instance (US-01 … AU-01); the REST endpoint must be that instance's, and a key sent to
another instance is refused exactly like a wrong key (401), so the connection test asks the
other instances before calling a key wrong. Keys carry an immutable list of permissions; a
missing one answers 403 on that endpoint only, which is how a restricted key is found.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from integrations.platforms import rules
from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    PermissionDenied,
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
)

REST = "rest"

# instance → (REST endpoint, dashboard host): the published list (fact sheet §1).
INSTANCES = {
    "us-01": ("https://rest.iad-01.braze.com", "dashboard-01.braze.com"),
    "us-02": ("https://rest.iad-02.braze.com", "dashboard-02.braze.com"),
    "us-03": ("https://rest.iad-03.braze.com", "dashboard-03.braze.com"),
    "us-04": ("https://rest.iad-04.braze.com", "dashboard-04.braze.com"),
    "us-05": ("https://rest.iad-05.braze.com", "dashboard-05.braze.com"),
    "us-06": ("https://rest.iad-06.braze.com", "dashboard-06.braze.com"),
    "us-07": ("https://rest.iad-07.braze.com", "dashboard-07.braze.com"),
    "us-08": ("https://rest.iad-08.braze.com", "dashboard-08.braze.com"),
    "us-10": ("https://rest.iad-10.braze.com", "dashboard-10.braze.com"),
    "eu-01": ("https://rest.fra-01.braze.eu", "dashboard-01.braze.eu"),
    "eu-02": ("https://rest.fra-02.braze.eu", "dashboard-02.braze.eu"),
    "au-01": ("https://rest.au-01.braze.com", "dashboard.au-01.braze.com"),
}

# Objects per /users/track call: 75 per array normally, 50 combined on the "Monthly Active
# Users CY 24-25" package.
OBJECTS_PER_REQUEST = {"75": 75, "50": 50}

_ENVELOPE = b'{"attributes":[]}'
# Braze's own profile fields (user attributes object); any other name is a custom attribute.
STANDARD_FIELDS = (
    ("email", "Email", "email"),
    ("external_id", "External ID", "string"),
    ("first_name", "First name", "string"),
    ("last_name", "Last name", "string"),
    ("email_subscribe", "Email subscription (opted_in/subscribed/unsubscribed)", "string"),
    ("phone", "Phone", "string"),
    ("country", "Country (ISO 3166-1 alpha-2)", "string"),
    ("language", "Language (ISO 639-1)", "string"),
    ("home_city", "Home city", "string"),
    ("time_zone", "Time zone (IANA)", "string"),
    ("dob", "Date of birth (YYYY-MM-DD)", "date"),
    ("gender", "Gender", "string"),
)
_STANDARD_KEYS = {key for key, _, _ in STANDARD_FIELDS}
_CUSTOM_TYPES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "float": "number",
    "boolean": "boolean",
    "date": "date",
    "time": "date",
    "array": "array",
    "object": "object",
    "object array": "array",
}
# The permissions this console uses, as Braze names them (shown when one is missing).
PERMISSIONS = {
    "users.track": Capability.UPSERT_CONTACTS,
    "segments.list": Capability.LIST_SEGMENTS,
    "custom_attributes.get": Capability.LIST_FIELDS,
    "users.export.ids": Capability.EXPORT_CONTACT,
}

# The permission probes (braze.md §2: a key lacking a permission answers 403 on that endpoint).
# A made-up external id no profile carries: `_update_existing_only` means the track call
# creates nobody, and the export finds nobody (it lists the id under invalid_user_ids).
PROBE_EXTERNAL_ID = "sharpsend-permission-probe"
PROBE_TRACK = {"attributes": [{"external_id": PROBE_EXTERNAL_ID, "_update_existing_only": True}]}
PROBE_EXPORT = {"external_ids": [PROBE_EXTERNAL_ID], "fields_to_export": ["external_id"]}


@register
class BrazeClient(PlatformClient):
    slug = "braze"
    label = "Braze"
    category = Category.CROSS_CHANNEL
    rate_limit_reset = "epoch"  # X-RateLimit-Reset: the Unix time the window reopens
    summary = (
        "Users and custom attributes through /users/track; segments with their size estimates; "
        "user delete and export."
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
        Capability.CREATE_SEGMENT: "Braze's REST API cannot create or edit segments; they are "
        "built from filters in the dashboard (write an attribute and filter on it)",
        Capability.ADD_TO_SEGMENT: "Braze segments are filter-based and take no members "
        "through the API; write an attribute the segment filters on instead",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "REST API key",
            "Braze dashboard → Settings → APIs and Identifiers → API Keys → Create API key, in "
            "the workspace to sync into. Tick users.track, users.delete, users.export.ids, "
            "segments.list, segments.data_series and custom_attributes.get (permissions cannot "
            "be changed later; leave the IP allow-list empty or add this server).",
        ),
        CredentialField(
            "objects_per_request",
            "Objects per request",
            "75 (the standard limit). Enter 50 if your Braze contract is the “Monthly Active "
            "Users CY 24-25” package (Settings → APIs and Identifiers → API Usage shows it).",
            secret=False,
            required=False,
        ),
    )
    regions = {
        key: f"{key.upper()} (dashboard: {dashboard})" for key, (_, dashboard) in INSTANCES.items()
    }
    hosts = {REST: {key: url for key, (url, _) in INSTANCES.items()}}
    limits = Limits(
        batch_max_records=75,
        # /users/track documents no byte limit; ours keeps a request reasonable.
        batch_max_bytes=4_000_000,
        # Ours: Braze's only per-object size limit is 100 KB for event properties.
        record_max_bytes=100_000,
        rates={
            REST: Rate(250_000, 3600.0),
            "users.track": Rate(3000, 3.0),
            "custom_attributes": Rate(1000, 3600.0),
            "users.delete": Rate(20_000, 60.0),
            "users.export.ids": Rate(250, 60.0),
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id")
    accepts_new_fields = True
    # Braze answers an invalid address with an "invalid" error for its object.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "email_subscribe", "is_subscribed", False),
        ("created_at", "sharpsend_signup_date", "", False),
    )

    def auth_for(self, surface: str):
        return BearerAuth(self.credential("api_key"))

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

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and "message" in data:
            message = str(data.get("message") or "")
            errors = data.get("errors")
            if isinstance(errors, list) and errors:
                message += " (" + "; ".join(_error_text(e) for e in errors[:3]) + ")"
            return "", message[:300]
        return None

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        permissions: dict[str, bool | None] = {}
        segments: list[dict] = []
        try:
            segments = self._segment_page(0)
            permissions["segments.list"] = True
        except AuthError:
            return self._refused_key_report()
        except PermissionDenied:
            permissions["segments.list"] = False
        # Each probe is a valid request that changes nothing, so only a missing permission
        # can refuse it (an empty array would be refused on shape, whatever the key may do).
        permissions["users.track"] = self.permits(
            "POST", REST, "/users/track", json=PROBE_TRACK, rate="users.track", ok=(200, 201)
        )
        permissions["custom_attributes.get"] = self.permits(
            "GET", REST, "/custom_attributes", rate="custom_attributes"
        )
        permissions["users.export.ids"] = self.permits(
            "POST",
            REST,
            "/users/export/ids",
            json=PROBE_EXPORT,
            rate="users.export.ids",
            ok=(200, 201),
        )
        report = {cap.value: permissions[name] for name, cap in PERMISSIONS.items()}
        report[Capability.DELETE_CONTACT.value] = None  # never probed: a delete is a delete
        instance = self.region.upper()
        account = f"Braze workspace on {instance}" + (
            f" ({len(segments)} segments)" if permissions["segments.list"] else ""
        )
        missing = [name for name, allowed in permissions.items() if not allowed]
        if not permissions["users.track"]:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=account,
                region=self.region,
                detail="This Braze key lacks the users.track permission, so it cannot write "
                "users (missing: " + ", ".join(missing) + "). Permissions cannot be edited: "
                "create a new key under Settings → APIs and Identifiers with them ticked.",
                permissions=report,
            )
        detail = f"Connected to a Braze workspace on {instance}; the key can write users."
        if missing:
            detail += (
                " It lacks " + ", ".join(missing) + ": "
                + "; ".join(_MISSING_EFFECT[name] for name in missing)
                + ". Create a new key with them ticked to use those features."
            )  # fmt: skip
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account,
            region=self.region,
            detail=detail,
            permissions=report,
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: Braze answers the same to a wrong key and to a key of another instance."""
        other = self.region_accepting_key(
            "GET", REST, "/segments/list", params={"page": 0}, forbidden_means_known=True
        )  # a 403 there: the key is known; it just may not list segments
        if other:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=other,
                detail=f"This key belongs to a Braze workspace on instance {other.upper()} "
                f"(dashboard {INSTANCES[other][1]}), but the integration is set to "
                f"{self.region.upper()}. Choose {other.upper()}.",
            )
        return ConnectionReport(
            ok=False,
            can_write=None,
            detail="Braze refused the REST API key on every instance. Check the key under "
            "Settings → APIs and Identifiers (copy it without quotes; an SDK key or an "
            "identifier does not work here), and its IP allow-list.",
        )

    def list_fields(self) -> list[TargetField]:
        fields = [TargetField(key, label, kind) for key, label, kind in STANDARD_FIELDS]
        params: dict | None = None
        while True:
            response = self.request(
                "GET", REST, "/custom_attributes", params=params, rate="custom_attributes"
            )
            for attribute in response.json().get("attributes", []):
                name = attribute.get("name")
                if not name or name in _STANDARD_KEYS:
                    continue
                kind = _CUSTOM_TYPES.get(str(attribute.get("data_type", "")).lower(), "string")
                fields.append(TargetField(name, name, kind))
            cursor = _next_cursor(response)
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
        groups = _chunks(list(self.pack(encoded, envelope_bytes=len(_ENVELOPE))), per_request)
        requests = self.batch_requests(
            groups, _ENVELOPE, "POST", REST, "/users/track", rate="users.track"
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
            describe=lambda error: ("unplaced_error", _error_text(error)),
        )

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        message = self.redact("; ".join(_error_text(e) for e in errors))[:1000]
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

    def list_segments(self) -> list[RemoteSegment]:
        found, page = [], 0
        while True:
            segments = self._segment_page(page)
            found += [
                RemoteSegment(
                    str(s["id"]),
                    s.get("name", ""),
                    kind="segment"
                    if s.get("analytics_tracking_enabled")
                    else "segment (untracked)",
                )
                for s in segments
            ]
            if len(segments) < 100:
                return found
            page += 1

    def _segment_page(self, page: int) -> list[dict]:
        response = self.request(
            "GET", REST, "/segments/list", params={"page": page, "sort_direction": "desc"}
        )
        return response.json().get("segments", [])

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        """Braze's latest daily size estimate; None when the segment tracks no analytics."""
        response = self.request(
            "GET",
            REST,
            "/segments/data_series",
            params={"segment_id": remote_id, "length": 1},
            max_wait=max_wait,
        )
        data = response.json().get("data") or []
        sizes = [point.get("size") for point in data if point.get("size") is not None]
        return int(sizes[-1]) if sizes else None

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


_MISSING_EFFECT = {
    "segments.list": "segment import is unavailable",
    "custom_attributes.get": "the mapping offers only Braze's standard fields",
    "users.export.ids": "data exports are unavailable",
}


def _error_text(error) -> str:
    if isinstance(error, dict):
        return str(error.get("type") or error.get("message") or error)
    return str(error)


def _next_cursor(response) -> str:
    """The cursor of the `Link: <…?cursor=…>; rel="next"` header, if any."""
    link = response.links.get("next", {}).get("url", "")
    values = parse_qs(urlsplit(link).query).get("cursor") if link else None
    return values[0] if values else ""


def _chunks(groups, size: int):
    """Split byte-packed groups further so none holds more than `size` objects."""
    for group in groups:
        for start in range(0, len(group), size):
            yield group[start : start + size]
