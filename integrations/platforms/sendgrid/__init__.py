"""SendGrid (new Marketing Campaigns): contacts through the asynchronous upsert job.

Facts: ../shared/platforms/sendgrid.md; request shapes checked against
../shared/specs/sendgrid/tsg_mc_contacts_v3.json in the tests.

`PUT /v3/marketing/contacts` only queues a job: the client submits it through `run_job` (the
sync checkpoints the job id on the run), polls the import status until the job is done, and
reads its errors file to tell which contacts were refused and why. Custom fields are written
by their definition id (`e1_T`), so the client reads the field definitions and translates the
names the mappings use.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import orjson

from integrations.platforms import rules
from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    TransientError,
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
from integrations.platforms.urlpolicy import is_sandbox_url

API = "api"
DOWNLOAD = "download"  # the job's errors file: a URL SendGrid gives, fetched without our key

CONTACTS = "/v3/marketing/contacts"
IMPORTS = "/v3/marketing/contacts/imports"
FIELDS = "/v3/marketing/field_definitions"


def may_write_marketing(scopes: Sequence[str]) -> bool:
    """Whether a key's scopes (`GET /v3/scopes`) let it write Marketing contacts.

    sendgrid.md §2: Marketing read access shows up as read scopes only (`marketing.read`,
    `marketing.automation.read`); write access adds create/update scopes. Deciding from the
    scopes needs no write: an upsert with no contact would be refused on shape (400) before
    SendGrid looked at the key's permission, so it proves nothing.
    """
    return any(s.startswith("marketing") and not s.endswith(".read") for s in scopes)


# Reserved fields the contacts upsert takes at the top level: those of the spec's
# ContactRequest. Others SendGrid lists as reserved (phone_number, whatsapp, unique_name …)
# are not accepted there, and read-only ones are computed.
WRITABLE_RESERVED = (
    "email", "external_id", "anonymous_id", "phone_number_id", "first_name", "last_name",
    "alternate_emails", "address_line_1", "address_line_2", "city", "state_province_region",
    "postal_code", "country",
)  # fmt: skip
_FIELD_TYPES = {"Text": "string", "Number": "number", "Date": "date"}
_DONE = {"completed", "errored", "failed"}
# Words in an errors-file reason that mean the contact is refused for consent/suppression.
_COMPLIANCE_WORDS = ("suppress", "unsubscrib", "bounce", "spam", "blocked", "erase")
_CONTACT_FIELD = re.compile(r"^contacts\[(\d+)\]")
_IDENTIFIER_COLUMNS = ("email", "external_id", "phone_number_id", "anonymous_id")
_REASON_COLUMNS = ("error", "errors", "error_message", "message", "reason")


@register
class SendGridClient(PlatformClient):
    slug = "sendgrid"
    label = "SendGrid"
    category = Category.EMAIL
    rate_limit_reset = "epoch"  # X-RateLimit-Reset: the Unix time the window reopens
    summary = (
        "Marketing contacts through the asynchronous upsert job (polled to the end, errors per "
        "contact); custom fields by id; lists and segments with counts; contact deletion."
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
        Capability.TRACK_EVENTS: "Marketing Campaigns has no custom-event ingestion",
        Capability.CREATE_SEGMENT: "segments are SQL queries built in SendGrid; lists can be "
        "created through the API but are not yet wired in the console",
        Capability.ADD_TO_SEGMENT: "segments have no static members; list membership is "
        "written with the contacts upsert (set a List ID on the integration)",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "SendGrid → Settings → API Keys → Create API Key. Choose Full Access, or Restricted "
            "Access with Marketing set to Full Access. Shown once when created.",
        ),
        CredentialField(
            "list_id",
            "List ID (optional)",
            "Marketing → Contacts → open the list: the ID at the end of the page's URL. "
            "Synced contacts are added to this list; leave blank to only upsert contacts.",
            secret=False,
            required=False,
        ),
    )
    regions = {"global": "Global (api.sendgrid.com)", "eu": "EU subuser (api.eu.sendgrid.com)"}
    hosts = {
        API: {"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"},
    }
    limits = Limits(
        # 30,000 contacts or 6 MB a request, whichever is lower. The record cap is ours: one
        # job per sync chunk (the checkpoint), and a job SendGrid processes in reasonable time.
        batch_max_records=5000,
        batch_max_bytes=6_000_000,
        record_max_bytes=6_000_000 - 64,
        # SendGrid does not publish per-endpoint numbers; it answers 429 with X-RateLimit-*.
        rates={
            API: Rate(10, 1.0),
            "contacts.upsert": Rate(3, 1.0),
            "contacts.imports": Rate(5, 1.0),
            DOWNLOAD: Rate(10, 1.0),  # the errors file's host, not the API: our own pacing
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id")
    # What SendGrid's upsert job refuses a contact for (fact sheet §1: reserved field limits);
    # its errors file names them, recorded as invalid_contact.
    contact_rules = (
        rules.EmailSyntax(code="invalid_contact"),
        rules.MaxLength(254, ("email",), code="invalid_contact"),
        rules.MaxLength(50, ("first_name", "last_name"), code="invalid_contact"),
        rules.MaxLength(100, ("address_line_1", "address_line_2"), code="invalid_contact"),
        rules.TypedFields(code="invalid_contact"),
    )
    accepts_new_fields = False
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._definitions: dict[str, tuple[str, str]] | None = None  # name → (id, type)

    def _warn(self, message: str) -> None:
        if message not in self.warnings:  # once per run, not once per record
            self.warnings.append(message)

    def auth_for(self, surface: str):
        if surface == DOWNLOAD:
            return None  # never send the key to the errors file's host
        return BearerAuth(self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0] if isinstance(data["errors"][0], dict) else {}
            code = str(first.get("error_id") or first.get("field") or "")
            messages = "; ".join(
                str(e.get("message", "")) for e in data["errors"][:3] if isinstance(e, dict)
            )
            return code, messages[:300]
        if isinstance(data, dict) and isinstance(data.get("errors"), dict):
            error = data["errors"]
            return str(error.get("error_id", "")), str(error.get("message", ""))[:300]
        return None

    # --- connection ----------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            scopes = self.request("GET", API, "/v3/scopes").json().get("scopes", [])
        except AuthError:
            return self._refused_key_report()
        marketing = sorted(s for s in scopes if s.startswith("marketing"))
        permissions = {}
        try:
            self.request("GET", API, FIELDS)
            permissions[Capability.LIST_FIELDS.value] = True
        except PermissionDenied:
            permissions[Capability.LIST_FIELDS.value] = False
        try:
            self.request("GET", API, "/v3/marketing/lists", params={"page_size": 1})
            permissions[Capability.LIST_SEGMENTS.value] = True
        except PermissionDenied:
            permissions[Capability.LIST_SEGMENTS.value] = False
        permissions[Capability.UPSERT_CONTACTS.value] = may_write_marketing(scopes)
        can_write = permissions[Capability.UPSERT_CONTACTS.value]
        account = f"SendGrid ({self.regions[self.region]})"
        if not can_write:
            if not marketing and not permissions[Capability.LIST_FIELDS.value]:
                detail = (
                    "This restricted SendGrid key has no Marketing access (its scopes: "
                    f"{', '.join(sorted(scopes)[:8]) or 'none'}). Edit the key under Settings "
                    "→ API Keys and give Marketing Full Access."
                )
            else:
                detail = (
                    "This restricted SendGrid key can read Marketing data but may not write "
                    "contacts. Edit the key under Settings → API Keys and give Marketing Full "
                    "Access."
                )
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=account,
                region=self.region,
                detail=detail,
                permissions=permissions,
            )
        detail = f"Connected to {account}; the key can write marketing contacts."
        list_id = self.integration.secrets.get("list_id")
        if list_id:
            try:
                listed = self.request("GET", API, f"/v3/marketing/lists/{list_id}").json()
                detail += f" Contacts are added to the list '{listed.get('name', list_id)}'."
            except NotFound:
                return ConnectionReport(
                    ok=False,
                    can_write=True,
                    account=account,
                    region=self.region,
                    detail=f"SendGrid has no list with the ID {list_id}. Copy the ID from "
                    "Marketing → Contacts → the list's page URL, or leave it blank.",
                    permissions=permissions,
                )
        if not permissions[Capability.LIST_SEGMENTS.value]:
            detail += " The key may not read lists: segment import is unavailable."
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: tell a key of the other host (EU subusers) from a wrong key."""
        other = self.region_accepting_key("GET", API, "/v3/scopes")
        if other:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=other,
                detail=f"This key works on SendGrid's {self.regions[other]} host, but the "
                f"integration is set to {self.regions[self.region]}. Choose "
                f"{other.upper()}.",
            )
        return ConnectionReport(
            ok=False,
            can_write=None,
            detail="SendGrid refused the API key. Check it under Settings → API Keys (the "
            "key is shown once; create a new one if in doubt).",
        )

    # --- fields --------------------------------------------------------------------------------

    def _field_definitions(self) -> dict[str, tuple[str, str]]:
        """Writable fields by name → (definition id, SendGrid type); custom ones by id."""
        if self._definitions is None:
            data = self.request("GET", API, FIELDS).json()
            definitions = {}
            for field in data.get("reserved_fields") or []:
                name = field.get("name", "")
                if name in WRITABLE_RESERVED and not field.get("read_only"):
                    definitions[name] = ("", field.get("field_type", "Text"))
            for field in data.get("custom_fields") or []:
                definitions[field["name"]] = (field["id"], field.get("field_type", "Text"))
            self._definitions = definitions
        return self._definitions

    def list_fields(self) -> list[TargetField]:
        self._definitions = None  # always fresh when asked
        definitions = self._field_definitions()
        fields = []
        for name, (field_id, kind) in definitions.items():
            label = f"{name} (custom, {kind})" if field_id else name
            fields.append(TargetField(name, label, _FIELD_TYPES.get(kind, "string")))
        return fields

    # --- upsert --------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(plan.requests, self._send_job)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        definitions = self._field_definitions()
        list_id = self.integration.secrets.get("list_id")
        self._envelope = (
            b'{"list_ids":' + orjson.dumps([list_id]) + b',"contacts":[]}'
            if list_id
            else b'{"contacts":[]}'
        )
        checked, rejected = [], []
        for record in records:
            problem = _type_problem(record, definitions)
            if problem:
                rejected.append(
                    RecordResult(
                        record.key,
                        Outcome.REJECTED_DATA,
                        code="wrong_type",
                        message=problem,
                        hint="SendGrid refuses the whole request for one such value: fix the "
                        "subscriber's value or map another field.",
                    )
                )
            else:
                checked.append(record)
        encoded, too_large = self.encode_records(
            checked, lambda record: self._contact(record, definitions)
        )
        rejected += too_large
        groups = self.pack(encoded, envelope_bytes=len(self._envelope))
        return UpsertPlan([self._contacts_request(group) for group in groups], rejected)

    def _contacts_request(self, group: Sequence[tuple[ContactRecord, bytes]]) -> PlannedRequest:
        [planned] = self.batch_requests(
            [list(group)], self._envelope, "PUT", API, CONTACTS, rate="contacts.upsert"
        )
        return planned

    def _contact(self, record: ContactRecord, definitions: dict) -> dict:
        identifier = record.identifier
        if record.identifier_field == "email":
            identifier = identifier.strip().lower()  # SendGrid lowercases emails itself
        contact: dict = {record.identifier_field: identifier}
        custom: dict = {}
        for name, value in record.fields.items():
            if name == record.identifier_field:
                continue
            field_id, kind = definitions.get(name, (None, None))
            if field_id is None:
                self._warn(f"SendGrid has no field '{name}'; it was not sent.")
                continue
            value = self.format_value(value)
            if kind == "Number" and isinstance(value, str):
                number = float(value)
                value = int(number) if number.is_integer() else number
            if kind == "Text" and not isinstance(value, str):
                value = str(value).lower() if isinstance(value, bool) else str(value)
            if field_id:
                custom[field_id] = value
            else:
                contact[name] = value
        if custom:
            contact["custom_fields"] = custom
        return contact

    def _send_job(self, planned: PlannedRequest) -> list[RecordResult]:
        def submit(records: Sequence[ContactRecord]) -> dict:
            return self._submit(planned)

        return self.run_job(planned.records, submit)

    def _submit(self, planned: PlannedRequest) -> dict:
        """PUT the contacts; a 400 that names contacts by position rejects those and sends
        the others again (once). Returns the job: its id, the keys it carries, and the
        records refused before it started."""
        refused: list[list] = []
        group = list(planned.group)
        for attempt in range(2):
            if attempt:
                planned = self._contacts_request(group)
            response = self.send_planned(planned, ok=(202, 400))
            data = response.json() if response.content else {}
            if response.status_code == 202:
                job_id = str(data.get("job_id") or "")
                if not job_id:
                    raise TransientError("SendGrid accepted the contacts but gave no job id.")
                return {
                    "job_id": job_id,
                    "keys": [record.key for record, _ in group],
                    "refused": refused,
                }
            by_index = _errors_by_index(data.get("errors") or [], len(group))
            if by_index is None or attempt == 1:
                code, message = self.describe_error(response)
                raise ValidationFailed(
                    self.redact(f"SendGrid refused the contacts: {message}"),
                    status=400,
                    code=code or "400",
                )
            refused += [
                [group[i][0].key, self.redact(msg)[:500]] for i, msg in sorted(by_index.items())
            ]
            group = [item for i, item in enumerate(group) if i not in by_index]
            if not group:
                return {"job_id": "", "keys": [], "refused": refused}
        raise AssertionError("unreachable")  # pragma: no cover

    def collect_job(self, job: dict, records: Sequence[ContactRecord]) -> list[RecordResult]:
        """Poll the upsert job to its end and map its results to the records it carried."""
        by_key = {r.key: r for r in records}
        out = [
            self._rejection(by_key[key], message)
            for key, message in job.get("refused") or []
            if key in by_key
        ]
        keys = set(job.get("keys") or [])
        mine = [r for r in records if r.key in keys]
        if not job.get("job_id") or not mine:
            return out
        status = self._wait_for_job(job["job_id"])
        state = status.get("status")
        results = status.get("results") or {}
        if state == "completed":
            return out + [RecordResult(r.key, Written.WRITTEN) for r in mine]
        errors = self._job_errors(results.get("errors_url"))
        if errors is None:
            if state == "failed":
                return out + [
                    RecordResult(
                        r.key,
                        Outcome.REJECTED_DATA,
                        code="job_failed",
                        message="SendGrid could not process any contact of the job.",
                        hint="Check the mapped fields' values against SendGrid's field types.",
                    )
                    for r in mine
                ]
            return out + [
                RecordResult(
                    r.key,
                    Outcome.UNKNOWN,
                    code="errors_unreadable",
                    message=f"SendGrid reported {results.get('errored_count', '?')} errors "
                    "but its errors file could not be read.",
                    hint="The contacts are sent again on the next run.",
                )
                for r in mine
            ]
        for record in mine:
            reason = errors.get(_match_key(record.identifier_field, record.identifier))
            if reason is None and state == "failed":
                reason = "the job failed"
            if reason is None:
                out.append(RecordResult(record.key, Written.WRITTEN))
            else:
                out.append(self._rejection(record, reason))
        return out

    def _wait_for_job(self, job_id: str) -> dict:
        seen: dict = {}

        def check() -> tuple[bool, str]:
            data = self.request("GET", API, f"{IMPORTS}/{job_id}", rate="contacts.imports").json()
            seen.update(data)
            state = str(data.get("status", ""))
            return state in _DONE, f"SendGrid job {job_id}: {state or 'unknown'}"

        self.poll(check, first_wait=1.0, max_wait=30.0, timeout=3600.0)
        return seen

    def _rejection(self, record: ContactRecord, reason: str) -> RecordResult:
        reason = self.redact(reason)[:500]
        if any(word in reason.lower() for word in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code="suppressed",
                message=reason,
                hint="SendGrid refuses this contact (suppressed or erased); resolve it in "
                "SendGrid's Suppressions before it can sync.",
            )
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code="invalid_contact",
            message=reason,
            hint="Fix the subscriber's data in SharpSend, or the field mapping (values must "
            "match the SendGrid field's type).",
        )

    def _job_errors(self, url: str | None) -> dict[tuple[str, str], str] | None:
        """The errors file as identifier → reason; None when it cannot be read."""
        if not url:
            return None
        parts = urlsplit(url)
        override = self.integration.api_base_url.strip()
        in_sandbox = bool(override) and is_sandbox_url(override, self.slug)
        if parts.scheme != "https" and not (in_sandbox and url.startswith(override.rstrip("/"))):
            return None
        try:
            response = self.request("GET", DOWNLOAD, parts.path, url=url)
        except PlatformError:  # expired link, forbidden, or still failing after the retries
            return None
        return parse_errors_file(response.content)

    # --- lists and segments --------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments = []
        token = None
        while True:
            params = {"page_size": 1000}
            if token:
                params["page_token"] = token
            data = self.request("GET", API, "/v3/marketing/lists", params=params).json()
            for item in data.get("result") or []:
                segments.append(
                    RemoteSegment(
                        f"list:{item['id']}",
                        item.get("name", ""),
                        kind="list",
                        member_count=item.get("contact_count"),
                    )
                )
            token = _next_token((data.get("_metadata") or {}).get("next"))
            if not token:
                break
        data = self.request("GET", API, "/v3/marketing/segments/2.0").json()
        for item in data.get("results") or []:
            segments.append(
                RemoteSegment(
                    f"segment:{item['id']}",
                    item.get("name", ""),
                    kind="segment",
                    member_count=item.get("contacts_count"),
                )
            )
        return segments

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, remote = remote_id.partition(":")
        if kind == "segment":
            path = f"/v3/marketing/segments/2.0/{remote}"
            data = self.request("GET", API, path, max_wait=max_wait).json()
            return int(data.get("contacts_count", 0))
        remote = remote if kind == "list" else remote_id
        path = f"/v3/marketing/lists/{remote}/contacts/count"
        data = self.request("GET", API, path, max_wait=max_wait).json()
        return int(data.get("contact_count", 0))

    # --- one person ----------------------------------------------------------------------------

    def _find(self, email: str) -> dict | None:
        try:
            data = self.request(
                "POST", API, f"{CONTACTS}/search/emails", json={"emails": [email.lower()]}
            ).json()
        except NotFound:
            return None  # "no contact matches any of the emails"
        for found, entry in (data.get("result") or {}).items():
            if found.lower() == email.lower() and isinstance(entry, dict):
                return entry.get("contact")
        return None

    def export_contact(self, identifier: str) -> dict:
        """The contact's profile as SendGrid holds it (lists, segments, fields)."""
        contact = self._find(identifier)
        return {"found": contact is not None, "contact": contact or {}}

    def delete_contact(self, identifier: str) -> None:
        """Delete the contact (a job, polled to its end). Suppressions stay: SendGrid keeps
        unsubscribes and bounces apart from contacts."""
        contact = self._find(identifier)
        if contact is None:
            return
        response = self.request(
            "DELETE", API, CONTACTS, params={"ids": contact["id"]}, ok=(202,)
        ).json()
        job_id = response.get("job_id")
        if isinstance(job_id, dict):  # the spec types it as an object; it is a string
            job_id = job_id.get("id")
        if job_id:
            status = self._wait_for_job(str(job_id))
            if status.get("status") in ("failed", "errored"):
                raise ValidationFailed(f"SendGrid could not delete the contact (job {job_id}).")


def _type_problem(record: ContactRecord, definitions: dict) -> str:
    """Why a mapped value cannot go into its SendGrid Number field ("" when it can)."""
    for name, value in record.fields.items():
        _, kind = definitions.get(name, (None, None))
        if kind != "Number" or isinstance(value, bool):
            if kind == "Number":
                return f"'{name}' is a Number field in SendGrid; got true/false."
            continue
        if isinstance(value, (int, float)):
            continue
        try:
            float(str(value))
        except ValueError:
            return f"'{name}' is a Number field in SendGrid; got {str(value)[:40]!r}."
    return ""


def _match_key(kind: str, value) -> tuple[str, str]:
    value = str(value).strip()
    return (kind, value.lower() if kind == "email" else value)


def _errors_by_index(errors: list, count: int) -> dict[int, str] | None:
    """{contact position: message} when every error names a contact (`contacts[3].email`)."""
    found: dict[int, str] = {}
    for error in errors:
        if not isinstance(error, dict):
            return None
        match = _CONTACT_FIELD.match(str(error.get("field") or ""))
        if not match or int(match.group(1)) >= count:
            return None
        index = int(match.group(1))
        message = f"{error.get('field')}: {error.get('message', '')}"
        found[index] = f"{found[index]}; {message}" if index in found else message
    return found or None


def _next_token(next_url: str | None) -> str | None:
    if not next_url:
        return None
    token = parse_qs(urlsplit(next_url).query).get("page_token", [""])[0]
    return token or None


def parse_errors_file(content: bytes) -> dict[tuple[str, str], str] | None:
    """A job's errors file → {(identifier kind, value): reason}.

    SendGrid does not document the file's layout. It is read as JSON (a list of rows, or
    {"errors": [...]}) or as CSV with a header; a row counts when it names an identifier
    (email, external_id …) and a reason (error, message …). None when nothing can be read.
    """
    text = content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return None
    rows: list[dict] = []
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        data = data.get("errors") or data.get("results")
    if isinstance(data, list):
        rows = [row for row in data if isinstance(row, dict)]
    elif data is None:
        reader = csv.DictReader(io.StringIO(text))
        rows = [row for row in reader if row]
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        reason = next((lowered[c] for c in _REASON_COLUMNS if lowered.get(c)), None)
        if isinstance(reason, list):
            reason = "; ".join(
                str(r.get("message", r) if isinstance(r, dict) else r) for r in reason
            )
        if not reason:
            continue
        for column in _IDENTIFIER_COLUMNS:
            if lowered.get(column):
                found[_match_key(column, lowered[column])] = str(reason)
    if rows and not found:
        return None
    return found
