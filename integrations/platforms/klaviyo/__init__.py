"""Klaviyo: profiles through the asynchronous bulk import job; lists and segments with counts.

Facts: ../shared/platforms/klaviyo.md; request bodies are checked against Klaviyo's OpenAPI
document (../shared/specs/klaviyo/stable.json) in the tests. JSON:API everywhere, a pinned
`revision` header on every call, and `Authorization: Klaviyo-API-Key <private key>`.

A chunk of profiles goes out as one bulk import job (or a few, when the bytes demand it); the
sync service checkpoints the submitted job ids, so a run that dies while Klaviyo works resumes
by reading the same jobs. Per-profile failures come from the job's import-errors.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

from requests.auth import AuthBase

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
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
REVISION = "2026-07-15"
MEDIA_TYPE = "application/vnd.api+json"
JOBS = "/api/profile-bulk-import-jobs"

# Top-level profile attributes; every other target is a custom property.
PROFILE_ATTRIBUTES = (
    ("email", "Email", "email"),
    ("phone_number", "Phone number (E.164)", "string"),
    ("external_id", "External ID", "string"),
    ("first_name", "First name", "string"),
    ("last_name", "Last name", "string"),
    ("organization", "Organization", "string"),
    ("title", "Job title", "string"),
    ("locale", "Locale (e.g. en-US)", "string"),
    ("image", "Image URL", "string"),
)
LOCATION_FIELDS = (
    "address1", "address2", "city", "country", "region", "zip", "timezone", "ip",
    "latitude", "longitude",
)  # fmt: skip
_ATTRIBUTE_KEYS = {key for key, _, _ in PROFILE_ATTRIBUTES}
_ENVELOPE = b'{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":[]}}}}'
# Words in an import error that mean Klaviyo holds the profile back for consent reasons.
_COMPLIANCE_WORDS = ("suppress", "unsubscrib", "spam", "privacy", "deleted")
_AUTH_CODES = {"not_authenticated", "authentication_failed"}


class KlaviyoKeyAuth(AuthBase):
    """`Authorization: Klaviyo-API-Key <key>`, and the JSON:API media type on bodies.

    The base client labels every body application/json; Klaviyo's documented type is set here,
    after the request is prepared, so it wins.
    """

    def __init__(self, key: str):
        self.key = key

    def __call__(self, request):
        request.headers["Authorization"] = f"Klaviyo-API-Key {self.key}"
        if request.body is not None:
            request.headers["Content-Type"] = MEDIA_TYPE
        return request


@register
class KlaviyoClient(PlatformClient):
    slug = "klaviyo"
    label = "Klaviyo"
    category = Category.EMAIL
    summary = (
        "Profiles through the bulk profile import job; lists and segments with profile counts; "
        "profile deletion through a data privacy request."
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
        Capability.CREATE_SEGMENT: "Klaviyo can create segments from a definition (100 a day), "
        "but the console does not translate its segments into Klaviyo conditions yet",
        Capability.ADD_TO_SEGMENT: "Klaviyo segments take no members directly (they follow "
        "their definition); list membership is not wired in the console yet",
    }
    credential_fields = (
        CredentialField(
            "private_api_key",
            "Private API key",
            "Klaviyo → account menu (bottom left) → Settings → Account → API keys → Create "
            "Private API Key. Choose Custom with Profiles: Full, Lists: Full, Segments: Read, "
            "Accounts: Read and Data Privacy: Full (or Full Access). Starts with pk_; shown once.",
        ),
    )
    regions = {"global": "Global (a.klaviyo.com)"}
    hosts = {API: {"global": "https://a.klaviyo.com"}}
    limits = Limits(
        batch_max_records=10_000,
        batch_max_bytes=5_000_000,
        record_max_bytes=100_000,
        rates={
            API: Rate(700, 60.0, burst=75),
            "bulk_import": Rate(150, 60.0, burst=10),
            "bulk_import.read": Rate(150, 60.0, burst=10),
            "accounts": Rate(15, 60.0),
            # get_list / get_segment asking for profile_count: 1/s, 15/m each
            "list_count": Rate(15, 60.0),
            "segment_count": Rate(15, 60.0),
            "data_privacy": Rate(60, 60.0, burst=3),
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id", "phone_number")
    accepts_new_fields = True
    # Klaviyo's bulk import reports an invalid email as "invalid"; properties are untyped.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        # Marketing consent is separate from profile data in Klaviyo (subscription jobs): the
        # reader's status goes in a property a segment can filter on.
        ("status", "sharpsend_status", "", False),
        ("created_at", "sharpsend_signup_date", "", False),
    )

    def auth_for(self, surface: str):
        return KlaviyoKeyAuth(self.credential("private_api_key"))

    def headers_for(self, surface: str) -> dict[str, str]:
        return {"revision": REVISION, "Accept": MEDIA_TYPE}

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0]
            text = str(first.get("detail") or first.get("title") or "")
            return str(first.get("code", "")), text[:300]
        return None

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        # Klaviyo documents a refused key as 400 in places and 401 in others.
        if status == 400 and code in _AUTH_CODES:
            return AuthError
        return super().error_class_for(status, code)

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        account = ""
        try:
            data = self.request("GET", API, "/api/accounts", rate="accounts").json()
            first = (data.get("data") or [{}])[0]
            info = first.get("attributes", {}).get("contact_information", {}) or {}
            account = info.get("organization_name") or str(first.get("id", ""))
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Klaviyo refused the private API key. Check it under Settings → API "
                "keys (a public key / site ID does not work here, and a revoked key is refused).",
            )
        except PermissionDenied:
            pass  # a Custom key without Accounts: Read; the other probes still tell
        can_write = self.permits(
            "POST",
            API,
            JOBS,
            json={
                "data": {
                    "type": "profile-bulk-import-job",
                    "attributes": {"profiles": {"data": []}},
                }
            },
            rate="bulk_import",
            ok=(202, 400),
        )
        can_poll = self.permits(
            "GET", API, JOBS, params={"page[size]": 1}, rate="bulk_import.read", ok=(200,)
        )
        lists = self.permits("GET", API, "/api/lists", params={"page[size]": 1})
        segments = self.permits("GET", API, "/api/segments", params={"page[size]": 1})
        permissions = {
            Capability.UPSERT_CONTACTS.value: can_write and can_poll,
            Capability.LIST_SEGMENTS.value: lists and segments,
            Capability.LIST_FIELDS.value: can_poll,
            Capability.EXPORT_CONTACT.value: can_poll,
            Capability.DELETE_CONTACT.value: None,  # never probed: a deletion is a deletion
        }
        label = account or "Klaviyo account"
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=label,
                region=self.region,
                detail="This Klaviyo key cannot write profiles (a Read-only key, or a Custom "
                "key without Profiles: Full and Lists: Full). Create a key with those scopes "
                "under Settings → API keys.",
                permissions=permissions,
            )
        if not can_poll:
            return ConnectionReport(
                ok=False,
                can_write=True,
                account=label,
                region=self.region,
                detail="This Klaviyo key can start profile imports but cannot read their "
                "results (it lacks Profiles: Read or Lists: Read), so no sync could tell what "
                "was imported. Give the key read access too.",
                permissions=permissions,
            )
        detail = f"Connected to Klaviyo account {label}; the key can import profiles."
        if not permissions[Capability.LIST_SEGMENTS.value]:
            detail += " It cannot read lists or segments: segment import is unavailable."
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=label,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    def list_fields(self) -> list[TargetField]:
        """Klaviyo's profile attributes, then the custom properties seen on recent profiles
        (Klaviyo has no catalogue of property names)."""
        fields = [TargetField(key, label, kind) for key, label, kind in PROFILE_ATTRIBUTES]
        fields += [
            TargetField(f"location.{name}", f"Location: {name}", "string")
            for name in LOCATION_FIELDS
        ]
        response = self.request(
            "GET",
            API,
            "/api/profiles",
            params={"fields[profile]": "properties", "page[size]": 100},
        ).json()
        seen: dict[str, str] = {}
        for profile in response.get("data", []):
            for name, value in (profile.get("attributes", {}).get("properties") or {}).items():
                seen.setdefault(name, _value_type(value))
        fields += [TargetField(name, name, kind) for name, kind in sorted(seen.items())]
        return fields

    # --- profiles: the bulk import job -------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        # The import is always an upsert (no create-only option): "keep existing" is left to
        # the sync service.
        return self.run_job(records, self._submit)

    def _profile(self, record: ContactRecord) -> dict:
        attributes: dict = {record.identifier_field: record.identifier}
        location: dict = {}
        properties: dict = {}
        for key, value in self.format_fields(record.fields).items():
            if key == record.identifier_field:
                continue
            if key in _ATTRIBUTE_KEYS:
                attributes[key] = value
            elif key.startswith("location.") and key[9:] in LOCATION_FIELDS:
                location[key[9:]] = value
            else:
                properties[key.removeprefix("properties.")] = value
        if location:
            attributes["location"] = location
        if properties:
            attributes["properties"] = properties
        return {"type": "profile", "attributes": attributes}

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self._profile)
        groups = self.pack(encoded, envelope_bytes=len(_ENVELOPE))
        return UpsertPlan(
            self.batch_requests(groups, _ENVELOPE, "POST", API, JOBS, rate="bulk_import"),
            rejected,
        )

    def _submit(self, records: Sequence[ContactRecord]) -> dict:
        """Start one job per byte-limited group; the job dict says which records each holds,
        and what happened to records that never reached a job."""
        plan = self.plan_upsert(records, update_existing=True)
        jobs: list[dict] = []

        def start(planned: PlannedRequest) -> list[RecordResult]:
            data = self.send_planned(planned, ok=(202,)).json()
            jobs.append({"id": data["data"]["id"], "keys": [r.key for r in planned.records]})
            return []

        refused = self.send_groups(plan.requests, start)
        return {
            "jobs": jobs,
            "results": [
                [r.key, r.outcome.value, r.code, r.message, r.hint] for r in plan.rejected + refused
            ],
        }

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        by_key = {record.key: record for record in records}
        results = [
            RecordResult(key, Outcome(outcome), code, message, hint)
            for key, outcome, code, message, hint in job.get("results", [])
            if key in by_key
        ]
        for number, entry in enumerate(job.get("jobs", []), start=1):
            members = [by_key[key] for key in entry["keys"] if key in by_key]
            label = f"import job {number}/{len(job['jobs'])}"
            results += self._collect_one(entry["id"], members, label)
        return results

    def _collect_one(self, job_id: str, records: list[ContactRecord], label: str):
        state: dict = {}

        def check() -> tuple[bool, str]:
            data = self.request("GET", API, f"{JOBS}/{job_id}", rate="bulk_import.read").json()
            state.update(data["data"]["attributes"])
            status = state.get("status", "")
            progress = f"{state.get('completed_count') or 0}/{state.get('total_count') or 0}"
            return status in ("complete", "cancelled"), f"Klaviyo {label}: {status} ({progress})"

        try:
            self.poll(check)
        except NotFound:
            return [
                RecordResult(
                    r.key,
                    Outcome.UNKNOWN,
                    code="job_not_found",
                    message=f"Klaviyo no longer knows import job {job_id} (jobs expire).",
                    hint="Sent again on the next run.",
                )
                for r in records
            ]
        errors = self._import_errors(job_id) if state.get("failed_count") else []
        placed, unplaced = self._place_errors(errors, records)
        results = []
        for index, record in enumerate(records):
            if index in placed:
                results.append(self._rejection(record, placed[index]))
            elif state.get("status") == "cancelled":
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code="job_cancelled",
                        message=f"Klaviyo cancelled import job {job_id}.",
                        hint="Sent again on the next run.",
                    )
                )
            elif unplaced:
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code=str(unplaced[0].get("code") or "unplaced_error"),
                        message=self.redact(_error_message(unplaced[0]))[:300],
                        hint="Klaviyo reported a failure in this import job without saying "
                        "which profile; the job's profiles are sent again on the next run.",
                    )
                )
            else:
                results.append(RecordResult(record.key, Written.WRITTEN))
        return results

    def _import_errors(self, job_id: str) -> list[dict]:
        errors: list[dict] = []
        params: dict = {"page[size]": 100}
        while True:
            data = self.request(
                "GET",
                API,
                f"{JOBS}/{job_id}/import-errors",
                params=params,
                rate="bulk_import.read",
            ).json()
            errors += [e.get("attributes", {}) for e in data.get("data", [])]
            cursor = _cursor((data.get("links") or {}).get("next"))
            if not cursor:
                return errors
            params = {"page[size]": 100, "page[cursor]": cursor}

    def _place_errors(self, errors: list[dict], records: list[ContactRecord]):
        """Tie each import error to the record it is about: by the identifiers of its
        original payload, else by the profile index in its source pointer."""
        index_of: dict[tuple[str, str], int] = {}
        for index, record in enumerate(records):
            index_of[_identity(record.identifier_field, record.identifier)] = index
        placed: dict[int, list[dict]] = {}
        unplaced = []
        for error in errors:
            index = None
            payload = error.get("original_payload") or {}
            attributes = payload.get("attributes", payload) if isinstance(payload, dict) else {}
            for field in ("email", "external_id", "phone_number"):
                value = attributes.get(field) if isinstance(attributes, dict) else None
                if value and _identity(field, value) in index_of:
                    index = index_of[_identity(field, value)]
                    break
            if index is None:
                index = _pointer_index((error.get("source") or {}).get("pointer") or "")
                if index is not None and not 0 <= index < len(records):
                    index = None
            if index is None:
                unplaced.append(error)
            else:
                placed.setdefault(index, []).append(error)
        return placed, unplaced

    def _rejection(self, record: ContactRecord, errors: list[dict]) -> RecordResult:
        message = self.redact("; ".join(_error_message(e) for e in errors))[:1000]
        code = str(errors[0].get("code") or "invalid")
        if any(word in (code + " " + message).lower() for word in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=code,
                message=message,
                hint="Klaviyo holds this profile back (suppressed or deleted for privacy); "
                "resolve it in Klaviyo to sync this subscriber.",
            )
        pointer = str((errors[0].get("source") or {}).get("pointer") or "")
        field = pointer.rsplit("/", 1)[-1] if "/attributes/" in pointer else ""
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=code,
            message=message,
            hint=f"Fix the subscriber's {field or 'data'} in SharpSend, or the field mapping.",
        )

    # --- lists and segments ------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        found = []
        for kind, path in (("list", "/api/lists"), ("segment", "/api/segments")):
            params: dict = {"page[size]": 10}
            while True:
                data = self.request("GET", API, path, params=params).json()
                for item in data.get("data", []):
                    attributes = item.get("attributes", {})
                    label = kind
                    if kind == "segment" and attributes.get("is_processing"):
                        label = "segment (processing)"
                    found.append(
                        RemoteSegment(f"{kind}:{item['id']}", attributes.get("name") or "", label)
                    )
                cursor = _cursor((data.get("links") or {}).get("next"))
                if not cursor:
                    break
                params = {"page[size]": 10, "page[cursor]": cursor}
        return found

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, klaviyo_id = remote_id.partition(":")
        if kind not in ("list", "segment") or not klaviyo_id:
            raise ValidationFailed(f"Klaviyo: '{remote_id}' is not a list or segment id.")
        data = self.request(
            "GET",
            API,
            f"/api/{kind}s/{klaviyo_id}",
            params={f"additional-fields[{kind}]": "profile_count"},
            rate=f"{kind}_count",
            max_wait=max_wait,
        ).json()
        count = data["data"]["attributes"].get("profile_count")
        return int(count) if count is not None else None

    # --- privacy -----------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Ask Klaviyo to delete every profile with this email, phone number or profile id."""
        if "@" in identifier:
            profile = {"type": "profile", "attributes": {"email": identifier}}
        elif identifier.startswith("+"):
            profile = {"type": "profile", "attributes": {"phone_number": identifier}}
        else:
            profile = {"type": "profile", "id": identifier, "attributes": {}}
        body = {
            "data": {
                "type": "data-privacy-deletion-job",
                "attributes": {"profile": {"data": profile}},
            }
        }
        self.request(
            "POST", API, "/api/data-privacy-deletion-jobs", json=body, rate="data_privacy",
            ok=(202,),
        )  # fmt: skip

    def export_contact(self, identifier: str) -> dict:
        """The profiles with this email / phone / external id, with their subscriptions."""
        field = "email" if "@" in identifier else (
            "phone_number" if identifier.startswith("+") else "external_id"
        )  # fmt: skip
        value = identifier.replace("\\", "\\\\").replace('"', '\\"')
        data = self.request(
            "GET",
            API,
            "/api/profiles",
            params={
                "filter": f'equals({field},"{value}")',
                "additional-fields[profile]": "subscriptions",
            },
        ).json()
        return {"profiles": data.get("data", [])}


def _identity(field: str, value) -> tuple[str, str]:
    text = str(value)
    return (field, text.lower() if field == "email" else text)


def _pointer_index(pointer: str) -> int | None:
    """The profile index of a pointer like /data/attributes/profiles/data/3/attributes/email."""
    marker = "/profiles/data/"
    if marker not in pointer:
        return None
    head = pointer.split(marker, 1)[1].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def _error_message(error: dict) -> str:
    title, detail = error.get("title") or "", error.get("detail") or ""
    return f"{title}: {detail}" if title and detail and detail != title else (detail or title)


def _cursor(url: str | None) -> str:
    if not url:
        return ""
    values = parse_qs(urlsplit(url).query).get("page[cursor]")
    return values[0] if values else ""


def _value_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"
