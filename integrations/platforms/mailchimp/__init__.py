"""Mailchimp (Marketing API 3.0): audience members through batch subscribe, merge fields,
segments and tags with member counts, permanent deletion and a member export.

Facts: ../shared/platforms/mailchimp.md. One audience (list) per integration: its id is a
credential. The data centre comes from the API key's suffix (`…-us6` → us6.api.mailchimp.com)
unless the integration names one.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import urlsplit

from requests.auth import HTTPBasicAuth

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
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
from integrations.platforms.urlpolicy import is_sandbox_url

API = "api"
AUTO = "auto"
DATA_CENTRES = tuple(f"us{n}" for n in range(1, 22))
_DC = re.compile(r"^[a-z]{2,4}\d{1,3}$")
_HOST = re.compile(r"^(?:[a-z]{2,4}\d{1,3}\.)?api\.mailchimp\.com$")
BATCH_MAX = 500
# Roles that may not change audience members (Mailchimp user levels).
_READ_ONLY_ROLES = {"viewer", "author"}
# SharpSend status → what the member should become. A subscribed reader is only subscribed when
# new (status_if_new): re-subscribing someone who left in Mailchimp is theirs to do.
_STATUS = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "bounced": "unsubscribed",
    "cleaned": "unsubscribed",
}
_FIELD_TYPES = {
    "number": "number",
    "date": "date",
    "birthday": "date",
    "address": "object",
}
# Words in Mailchimp's per-member error text that mean "refused for compliance".
_COMPLIANCE_WORDS = (
    "compliance state",
    "permanently deleted",
    "forgotten",
    "unsubscribed",
    "cleaned",
)


def key_data_centre(key: str) -> str:
    """`us6` from `0123…-us6`; "" when the key carries no data centre."""
    _, dash, suffix = (key or "").rpartition("-")
    return suffix.lower() if dash and _DC.match(suffix.lower()) else ""


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lower-cased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - an id, not security


@register
class MailchimpClient(PlatformClient):
    slug = "mailchimp"
    label = "Mailchimp"
    category = Category.EMAIL
    summary = (
        "Audience members and merge fields through batch subscribe (500 a call, per-member "
        "results); segments and tags with member counts; permanent deletion and export."
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
        Capability.CREATE_SEGMENT: "Mailchimp's API can create tags and saved segments, but "
        "the console does not wire it yet",
        Capability.ADD_TO_SEGMENT: "Mailchimp's API can add members to tags and static "
        "segments, but the console does not wire it yet",
        Capability.TRACK_EVENTS: "Mailchimp takes custom events one member at a time; the "
        "console does not wire them yet",
        Capability.SEND_CAMPAIGN: "campaigns are not wired for Mailchimp yet",
        Capability.CAMPAIGN_METRICS: "campaign reports are not wired for Mailchimp yet",
        Capability.WEBHOOKS: "Mailchimp's audience webhooks are not wired yet",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Mailchimp → your profile picture → Profile → Extras → API keys → Create A Key. "
            "Shown once; keep the whole key including its ending (such as -us6), which names "
            "the data centre. Create it as a user with the Manager, Admin or Owner role.",
        ),
        CredentialField(
            "list_id",
            "Audience ID",
            "Mailchimp → Audience → All contacts → Settings → Audience name and defaults: the "
            "Audience ID (letters and digits, such as a1b2c3d4e5).",
            secret=False,
        ),
    )
    regions = {
        AUTO: "From the API key (its -usN ending)",
        **{dc: f"Data centre {dc}" for dc in DATA_CENTRES},
    }
    hosts = {
        API: {
            AUTO: "https://api.mailchimp.com",
            **{dc: f"https://{dc}.api.mailchimp.com" for dc in DATA_CENTRES},
        }
    }
    limits = Limits(
        # Batch subscribe takes at most 500 members a call; no byte limit is documented (the
        # 120 s call timeout is the ceiling), so the byte caps are ours.
        batch_max_records=BATCH_MAX,
        batch_max_bytes=8_000_000,
        record_max_bytes=64_000,
        # Mailchimp limits simultaneous connections (10 per user), not requests per second;
        # the console calls one at a time per integration and keeps a gentle pace.
        rates={API: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.SPACE_SEPARATED_UTC,
    )
    identifier_fields = ("email",)  # sent as email_address
    keeps_existing_natively = True  # update_existing: false leaves existing members alone
    # Mailchimp refuses an invalid address, or a merge field value of the wrong type
    # (number, date), as ERROR_GENERIC. Text is truncated to 255 bytes, not refused.
    contact_rules = (
        rules.EmailSyntax(code="ERROR_GENERIC"),
        rules.TypedFields(code="ERROR_GENERIC"),
    )
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "FNAME", "", False),
        ("last_name", "LNAME", "", False),
        ("status", "status", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._merge_types: dict[str, str] | None = None
        self._types_unavailable = False

    # --- data centres and auth ---------------------------------------------------------------

    def data_centre(self, region: str | None = None) -> str:
        """The data centre calls go to: the region set, or the API key's suffix on `auto`."""
        region = region or self.region
        if region == AUTO:
            return key_data_centre(self._secrets.get("api_key", ""))
        return region

    def base_url(self, surface: str, region: str | None = None) -> str:
        dc = self.data_centre(region)
        default = f"https://{dc}.api.mailchimp.com" if dc else self.hosts[surface][AUTO]
        override = self.integration.api_base_url.strip()
        if not override:
            return default
        if is_sandbox_url(override, self.slug):
            return f"{override.rstrip('/')}/{urlsplit(default).netloc}"
        self.check_base_url(override)
        return override.rstrip("/")

    @classmethod
    def accepts_host(cls, netloc: str) -> bool:
        return bool(_HOST.match(netloc))

    @classmethod
    def describe_hosts(cls) -> str:
        return "api.mailchimp.com or a data centre host such as us6.api.mailchimp.com"

    def auth_for(self, surface: str):
        # Basic auth: any user name, the key as password.
        return HTTPBasicAuth("sharpsend", self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        """Mailchimp errors are problem+json: title, detail and per-field errors."""
        if isinstance(data, dict) and "title" in data:
            detail = str(data.get("detail") or "")
            fields = "; ".join(
                f"{e.get('field', '')}: {e.get('message', '')}".strip(": ")
                for e in data.get("errors") or []
                if isinstance(e, dict)
            )
            text = f"{data['title']}: {detail}".strip(": ")
            return str(data["title"]), (f"{text} ({fields})" if fields else text)[:300]
        return None

    @property
    def list_path(self) -> str:
        return f"/3.0/lists/{self.credential('list_id')}"

    # --- test_connection -----------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        key_dc = key_data_centre(self.credential("api_key"))
        if self.region != AUTO and key_dc and key_dc != self.region:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=key_dc,
                detail=f"This API key belongs to Mailchimp data centre {key_dc} (the ending of "
                f"the key), but the integration is set to {self.region}. Choose {key_dc}, or "
                "'From the API key'.",
            )
        if self.region == AUTO and not key_dc:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="The API key has no data-centre ending (such as -us6): paste the whole "
                "key from Profile → Extras → API keys, or choose the data centre.",
            )
        dc = self.data_centre()
        try:
            root = self.request(
                "GET", API, "/3.0/", params={"fields": "account_id,account_name,email,role"}
            ).json()
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=None,
                region=dc,
                detail=f"Mailchimp refused the API key on data centre {dc}: it is wrong, was "
                "deleted, or its user was removed from the account (Profile → Extras → API "
                "keys).",
            )
        except PermissionDenied as exc:
            return ConnectionReport(
                ok=False,
                can_write=False,
                region=dc,
                detail=f"Mailchimp refused access for this key's user ({exc.message}).",
            )
        account = str(root.get("account_name") or root.get("account_id") or "")
        role = str(root.get("role") or "").lower()
        try:
            audience = self.request(
                "GET", API, self.list_path, params={"fields": "id,name,stats.member_count"}
            ).json()
        except NotFound:
            return ConnectionReport(
                ok=False,
                can_write=None,
                account=account,
                region=dc,
                detail=f"The key works, but account {account} has no audience with the ID "
                f"'{self.credential('list_id')}'. Copy it from Audience → All contacts → "
                "Settings → Audience name and defaults.",
            )
        can_write = role not in _READ_ONLY_ROLES
        permissions = {
            Capability.LIST_FIELDS.value: True,
            Capability.LIST_SEGMENTS.value: True,
            Capability.EXPORT_CONTACT.value: True,
            Capability.UPSERT_CONTACTS.value: can_write,
            Capability.DELETE_CONTACT.value: can_write,
        }
        name = audience.get("name", "")
        members = (audience.get("stats") or {}).get("member_count")
        where = f"audience '{name}'" + (f" ({members} members)" if members is not None else "")
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=account,
                region=dc,
                detail=f"This key's user has the {role} role in Mailchimp, which cannot change "
                "audience members. Create the key as a user with the Manager, Admin or Owner "
                "role.",
                permissions=permissions,
            )
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account,
            region=dc,
            detail=f"Connected to {account}, {where}, data centre {dc} (user role: {role}).",
            permissions=permissions,
        )

    # --- fields ---------------------------------------------------------------------------------

    def list_fields(self) -> list[TargetField]:
        data = self.request(
            "GET", API, f"{self.list_path}/merge-fields", params={"count": 1000}
        ).json()
        merge_fields = data.get("merge_fields", [])
        self._merge_types = {f["tag"]: f.get("type", "text") for f in merge_fields}
        return [
            TargetField("email", "Email address", "email", required=True),
            TargetField("status", "Subscription status (subscribed / unsubscribed)", "string"),
            TargetField("timestamp_signup", "Signup time", "date"),
            *(
                TargetField(
                    f["tag"],
                    f.get("name") or f["tag"],
                    _FIELD_TYPES.get(f.get("type", ""), "string"),
                    required=bool(f.get("required")),
                )
                for f in merge_fields
            ),
        ]

    def _types(self) -> dict[str, str]:
        if self._merge_types is None:
            self.list_fields()
        return self._merge_types or {}

    # --- upsert_contacts ------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_groups(
            plan.requests, lambda planned: self._send_batch(planned, update_existing)
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        types = self._types()
        encoded, rejected = self.encode_records(records, lambda r: self._member(r, types))
        flag = b"true" if update_existing else b"false"
        envelope = b'{"members":[],"update_existing":' + flag + b',"sync_tags":false}'
        groups = self.pack(encoded, envelope_bytes=len(envelope))
        return UpsertPlan(
            self.batch_requests(groups, envelope, "POST", API, self.list_path), rejected
        )

    def entry_for(self, record: ContactRecord) -> dict:
        """The batch-subscribe member this record becomes (dates as their merge fields want)."""
        if self._merge_types is None and not self._types_unavailable:
            try:
                self.list_fields()
            except PlatformError:
                self._types_unavailable = True  # asked once; a preview still shows the rest
        return self._member(record, self._merge_types or {})

    def _member(self, record: ContactRecord, types: dict[str, str]) -> dict:
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        member: dict[str, Any] = {"email_address": record.identifier}
        status = _STATUS.get(str(fields.pop("status", "subscribed")).lower(), "subscribed")
        if status == "subscribed":
            member["status_if_new"] = "subscribed"
        else:
            member["status"] = status
        if "timestamp_signup" in fields:
            member["timestamp_signup"] = self.format_value(fields.pop("timestamp_signup"))
        if fields:
            member["merge_fields"] = {
                tag: self._merge_value(value, types.get(tag, "text"))
                for tag, value in fields.items()
            }
        return member

    def _merge_value(self, value: Any, kind: str) -> Any:
        """Dates as the merge field's type wants them; everything else as the base formats."""
        if isinstance(value, (date, datetime)) and kind in ("date", "birthday"):
            if isinstance(value, datetime) and value.tzinfo is not None:
                value = value.astimezone(UTC)
            return value.strftime("%Y-%m-%d" if kind == "date" else "%m/%d")
        return self.format_value(value)

    def _send_batch(self, planned: PlannedRequest, update_existing: bool) -> list[RecordResult]:
        group = planned.group
        data = self.send_planned(planned).json()
        created = {_email(m) for m in data.get("new_members") or []}
        updated = {_email(m) for m in data.get("updated_members") or []}
        errors: dict[str, dict] = {}
        for error in data.get("errors") or []:
            errors.setdefault(_email(error), error)
        results = []
        for record, _ in group:
            email = record.identifier.strip().lower()
            if email in errors:
                results.append(self._rejection(record, errors[email], update_existing))
            elif email in created:
                results.append(RecordResult(record.key, Outcome.CREATED))
            elif email in updated:
                results.append(RecordResult(record.key, Outcome.UPDATED))
            else:
                results.append(
                    RecordResult(
                        record.key,
                        Outcome.UNKNOWN,
                        code="not_reported",
                        message="Mailchimp's answer did not mention this address.",
                        hint="Sent again on the next run.",
                    )
                )
        return results

    def _rejection(self, record: ContactRecord, error: dict, update_existing: bool) -> RecordResult:
        code = str(error.get("error_code") or "ERROR_GENERIC")
        field = str(error.get("field") or "")
        text = str(error.get("error") or "")
        if error.get("field_message"):
            text = f"{text} ({field}: {error['field_message']})" if text else error["field_message"]
        message = self.redact(text)[:500]
        if code == "ERROR_CONTACT_EXISTS" and not update_existing:
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code=code,
                message=message,
                hint="Already in the audience; kept as it is (update existing is off).",
            )
        lowered = text.lower()
        if any(word in lowered for word in _COMPLIANCE_WORDS):
            return RecordResult(
                record.key,
                Outcome.REJECTED_COMPLIANCE,
                code=code,
                message=message,
                hint="Mailchimp keeps this address out (unsubscribed, cleaned, under compliance "
                "review or permanently deleted); only the reader can re-subscribe, through a "
                "Mailchimp signup form.",
            )
        if field and field != "email_address":
            hint = f"Fix the value sent to the merge field {field} (or the field mapping)."
        elif field == "email_address" or "email" in lowered:
            hint = "Correct the subscriber's email address in SharpSend."
        else:
            hint = "Mailchimp refused this member; see the message."
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code=code, message=message, hint=hint
        )

    # --- segments and tags -------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments, offset = [], 0
        while True:
            data = self.request(
                "GET",
                API,
                f"{self.list_path}/segments",
                params={"count": 1000, "offset": offset},
            ).json()
            page = data.get("segments") or []
            segments += [
                RemoteSegment(
                    str(s["id"]),
                    s.get("name", ""),
                    kind=s.get("type", ""),
                    member_count=s.get("member_count"),
                )
                for s in page
            ]
            offset += len(page)
            if not page or offset >= int(data.get("total_items") or 0):
                return segments

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        data = self.request(
            "GET",
            API,
            f"{self.list_path}/segments/{remote_id}",
            params={"fields": "id,member_count"},
            max_wait=max_wait,
        ).json()
        count = data.get("member_count")
        return int(count) if count is not None else None

    # --- privacy ------------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Permanent (GDPR) deletion; irreversible. An address already gone is not an error."""
        path = f"{self.list_path}/members/{subscriber_hash(identifier)}/actions/delete-permanent"
        try:
            self.request("POST", API, path, ok=(204,))
        except NotFound:
            return

    def export_contact(self, identifier: str) -> dict:
        """The member, its tags and its events ({} when the audience does not hold it)."""
        member_path = f"{self.list_path}/members/{subscriber_hash(identifier)}"
        try:
            member = self.request("GET", API, member_path).json()
        except NotFound:
            return {}
        tags = self.request("GET", API, f"{member_path}/tags", params={"count": 1000}).json()
        events = self.request("GET", API, f"{member_path}/events", params={"count": 1000}).json()
        return {
            "member": member,
            "tags": tags.get("tags", []),
            "events": events.get("events", []),
        }


def _email(entry: dict) -> str:
    return str(entry.get("email_address") or "").strip().lower()
