"""Keap (formerly Infusionsoft): contacts through REST v2, connected with OAuth 2.0 only.

Facts: ../shared/platforms/keap.md and oauth.md; request bodies are checked against
../shared/specs/keap/swagger.yml in the tests.

Keap has no bulk contact endpoint: every contact is one `POST /rest/v2/contacts` with
`duplicate_option=Email` (a match by email is updated, otherwise a contact is created), so a
sync's throughput is bounded by Keap's quotas (1,500 calls a minute and 150,000 a day for the
console's OAuth app, across every Keap account it is connected to). The quota headers on every
answer pace the shared rate limiter; the run says so in its warnings.

Marketability (opt-in) lives beside the contact: a new address is marketable only when it is
created with an `opt_in_reason`; addresses that unsubscribed, bounced or complained cannot be
opted in again through the API — those records are *rejected (compliance)*.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import orjson

from integrations import clock
from integrations.platforms import rules
from integrations.platforms.base import PlatformClient, parse_retry_after
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    PlatformError,
)
from integrations.platforms.registry import register
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    ConnectionReport,
    ContactRecord,
    Limits,
    OAuthSpec,
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
V2 = "/crm/rest/v2"
LEGACY_HOST = "api.infusionsoft.com"  # the same gateway as api.keap.com, used by most examples

# Email opt-in states (RestEmailAddressStatus.status in the spec).
MARKETABLE = frozenset({"UNENGAGED_MARKETABLE", "SINGLE_OPT_IN", "DOUBLE_OPT_IN", "CONFIRMED"})
# Non-marketable states Keap lets an API client opt back in from.
REOPTABLE = frozenset({"UNENGAGED_NON_MARKETABLE", "NON_MARKETABLE", "MANUAL"})
# Everything else (unsubscribes, bounces, complaints, lockdown …) stays non-marketable.

OPT_IN_REASON = "Subscribed to the newsletter (synced by SharpSend)"
OPT_OUT_REASON = "Unsubscribed from the newsletter (synced by SharpSend)"

# Standard contact properties a mapping can target: key → (label, type, max length or 0).
STANDARD = {
    "given_name": ("First name", "string", 40),
    "family_name": ("Last name", "string", 40),
    "middle_name": ("Middle name", "string", 100),
    "preferred_name": ("Preferred name", "string", 100),
    "prefix": ("Name prefix", "string", 0),
    "suffix": ("Name suffix", "string", 0),
    "job_title": ("Job title", "string", 255),
    "website": ("Website", "string", 100),
    "spouse_name": ("Spouse's name", "string", 100),
    "contact_type": ("Contact type", "string", 0),
    "time_zone": ("Time zone", "string", 0),
    "preferred_locale": ("Preferred locale", "string", 0),
    "referral_code": ("Referral code", "string", 0),
    "birth_date": ("Birth date", "date", 0),
    "anniversary_date": ("Anniversary date", "date", 0),
}
SPECIAL = {
    "email": ("Email (EMAIL1)", "email"),
    "phone": ("Phone (PHONE1)", "string"),
    "opt_in": ("Opted in to marketing email", "boolean"),
}
EMAIL1_MAX = 75

_FIELD_TYPES = {
    "DATE": "date",
    "DATE_TIME": "date",
    "WHOLE_NUMBER": "number",
    "DECIMAL_NUMBER": "number",
    "CURRENCY": "number",
    "PERCENT": "number",
    "YEAR": "number",
    "YES_NO": "boolean",
    "EMAIL": "email",
}
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# When to tell the run that the daily quota is running out.
LOW_QUOTA_SHARE = 0.1

NO_BULK_WARNING = (
    "Keap has no bulk contact endpoint: every contact is one API call, so this sync is bounded "
    "by Keap's quota (1,500 calls a minute and 150,000 a day, shared by every Keap account "
    "connected to this console)."
)


@register
class KeapClient(PlatformClient):
    slug = "keap"
    label = "Keap"
    category = Category.CRM
    summary = (
        "Contacts upserted by email (one call each: Keap has no bulk endpoint), custom fields, "
        "email opt-in status; tags with member counts."
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
        Capability.TRACK_EVENTS: "Keap has no custom-event ingestion; only API goals, which "
        "move contacts through automations",
        Capability.CREATE_SEGMENT: "Keap's segments are tags; conditions-based segments "
        "(saved searches) cannot be created through the API (tag creation is not yet wired "
        "in the console)",
        Capability.SEND_CAMPAIGN: "Keap's API cannot create or send a marketing broadcast to a "
        "tag or segment",
        Capability.CAMPAIGN_METRICS: "Keap has no campaign-level open or click report in its API",
        Capability.WEBHOOKS: "Keap's REST Hooks carry only ids and are unsigned (not yet wired "
        "in the console)",
    }
    auth_methods = (AuthMethod.OAUTH,)
    oauth = OAuthSpec(
        authorize_url="https://accounts.infusionsoft.com/app/oauth/authorize",
        token_url="https://api.infusionsoft.com/token",
        client_auth="body",  # the code exchange: client id and secret in the form body
        refresh_client_auth="basic",  # refreshes: Authorization: Basic id:secret
        scope="full",
        rotates_refresh_token=True,
    )
    credential_fields = ()  # OAuth only: nothing to type in
    regions = {"global": "Keap (one host; the token decides the account)"}
    hosts = {API: {"global": "https://api.keap.com"}}
    limits = Limits(
        # No bulk endpoint: one request per contact. The record cap is ours (the per-batch
        # checkpoint granularity); no body limit is documented beyond the field limits.
        batch_max_records=100,
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        # 1,500 queries a minute per OAuth app (also under the ~25/s spike arrest).
        rates={API: Rate(1500, 60.0)},
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email",)
    # Keap answers an invalid address with 400; its documented length limits (fact sheet:
    # given_name/family_name ≤40, EMAIL1 ≤75 …) are checked before spending a call.
    contact_rules = (
        rules.EmailSyntax(code="400"),
        rules.MaxLength(EMAIL1_MAX, ("email",), code="email_too_long", local=True),
        *(
            rules.MaxLength(limit, (key,), code="too_long", local=True)
            for key, (_, _, limit) in STANDARD.items()
            if limit
        ),
    )
    accepts_new_fields = False
    keeps_existing_natively = False
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "given_name", "", False),
        ("last_name", "family_name", "", False),
        ("status", "opt_in", "is_subscribed", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._model: dict[str, dict] | None = None  # field_name → custom field metadata
        self._quota_warned = False

    # --- hosts, auth, errors -------------------------------------------------------------------

    @classmethod
    def published_hosts(cls) -> set[str]:
        return super().published_hosts() | {LEGACY_HOST}

    def base_url(self, surface: str, region: str | None = None) -> str:
        override = self.integration.api_base_url.strip()
        if override and urlsplit(override).netloc == LEGACY_HOST:
            self.check_base_url(override)
            return f"https://{LEGACY_HOST}"
        return super().base_url(surface, region)

    def auth_for(self, surface: str):
        if not self.uses_oauth():
            raise ConfigurationError(
                "Keap is not connected: use “Connect with Keap” on the integration."
            )
        return self.oauth_auth()

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("fault"), dict):
            # The gateway's own refusals (bad or expired token).
            fault = data["fault"]
            code = str((fault.get("detail") or {}).get("errorcode", ""))
            return code, str(fault.get("faultstring", ""))[:300]
        if isinstance(data, dict) and "error" in data and "error_description" in data:
            return str(data["error"]), str(data["error_description"])[:300]
        return None

    def retry_after_for(self, response) -> float | None:
        """Retry-After when given; on a 429, otherwise, what the quota headers say."""
        told = parse_retry_after(response.headers.get("Retry-After"))
        if told is not None or response.status_code != 429:
            return told
        waits = []
        quota = _bucket(response.headers, "x-keap-product-quota")
        if quota and quota["available"] is not None and quota["available"] <= 0:
            waits.append(_seconds_until(response.headers.get("x-keap-product-quota-expiry-time")))
        for prefix in ("x-keap-product-throttle", "x-keap-tenant-throttle"):
            bucket = _bucket(response.headers, prefix)
            if bucket and bucket["available"] is not None and bucket["available"] <= 0:
                waits.append(bucket["window"])
        waits = [w for w in waits if w is not None]
        return max(waits) if waits else None

    @classmethod
    def account_key_from_token(cls, token: dict) -> str:
        # The scope reply is "full|ab123.infusionsoft.com": the customer's Keap app.
        return str(token.get("scope", "")).partition("|")[2]

    def rate_scope(self) -> str:
        # Keap's quotas cover the console's whole OAuth app, not one connection.
        return "app"

    def call(self, method: str, path: str, **kwargs):
        """One v2 API call; its quota headers then pace every worker of the app."""
        response = self.request(method, API, V2 + path, **kwargs)
        self._watch_quota(response)
        return response

    def _watch_quota(self, response) -> None:
        headers = response.headers
        for prefix in ("x-keap-product-throttle", "x-keap-tenant-throttle"):
            bucket = _bucket(headers, prefix)
            if bucket and bucket["available"] is not None and bucket["available"] <= 0:
                # The minute's allowance is spent: hold every worker off until it refills,
                # rather than collecting 429s.
                self.hold_off(API, bucket["window"])
        quota = _bucket(headers, "x-keap-product-quota")
        if (
            quota
            and not self._quota_warned
            and quota["limit"]
            and quota["available"] is not None
            and quota["available"] < quota["limit"] * LOW_QUOTA_SHARE
        ):
            self._quota_warned = True
            self.warnings.append(
                f"Keap's daily API quota is nearly used up ({quota['available']:,} of "
                f"{quota['limit']:,} calls left); it renews at midnight UTC, and calls past it "
                "are refused until then."
            )

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        if not self.uses_oauth():
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Keap is not connected yet: use “Connect with Keap” and allow access.",
            )
        try:
            info = self.call("GET", "/oauth/connect/userinfo").json()
        except (AuthError, PermissionDenied) as exc:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Keap refused the connection's access token (revoked, or the user lost "
                f"access): reconnect with “Connect with Keap”. ({exc.message})",
            )
        permissions: dict[str, bool | None] = {Capability.UPSERT_CONTACTS.value: True}
        for capability, path in (
            (Capability.LIST_FIELDS, "/contacts/model"),
            (Capability.LIST_SEGMENTS, "/tags"),
        ):
            try:
                params = {"page_size": 1} if path == "/tags" else None
                response = self.call("GET", path, params=params)
                if capability is Capability.LIST_FIELDS:
                    self._remember_model(response.json())
                permissions[capability.value] = True
            except (AuthError, PermissionDenied):
                permissions[capability.value] = False
        tenant = str(info.get("tenant_id") or "")
        user = str(info.get("email") or info.get("keap_id") or "")
        account = f"Keap account {tenant}" if tenant else "Keap account"
        detail = f"Connected to {account} as {user or 'the authorizing user'}."
        if info.get("is_admin") is False:
            detail += (
                " That user is not a Keap admin: the console sees only the contacts this user "
                "may see, so contacts owned by others can be invisible (and duplicated). "
                "Reconnect as an admin to avoid this."
            )
        missing = [name for name, allowed in permissions.items() if allowed is False]
        if missing:
            detail += f" Keap refused: {', '.join(missing)}."
        return ConnectionReport(
            ok=True,
            can_write=True,  # Keap has no read-only token: scope "full" is the only one
            account=account + (f" ({user})" if user else ""),
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    def list_fields(self) -> list[TargetField]:
        self._load_model(force=True)
        fields = [TargetField("email", SPECIAL["email"][0], "email", required=True)]
        fields += [
            TargetField(key, label, kind)
            for key, (label, kind) in SPECIAL.items()
            if key != "email"
        ]
        fields += [TargetField(key, label, kind) for key, (label, kind, _) in STANDARD.items()]
        for name, meta in sorted(self._model.items()):
            if name in STANDARD or name in SPECIAL:
                continue  # a standard property of the same name wins
            kind = _FIELD_TYPES.get(str(meta.get("field_type", "")).upper(), "string")
            label = f"{meta.get('label') or name} (custom field)"
            fields.append(TargetField(name, label, kind))
        return fields

    def _load_model(self, force: bool = False) -> dict[str, dict]:
        if self._model is None or force:
            self._remember_model(self.call("GET", "/contacts/model").json())
        return self._model

    def _remember_model(self, data: dict) -> None:
        self._model = {
            str(f["field_name"]): f
            for f in data.get("custom_fields") or []
            if f.get("field_name") and str(f.get("record_type", "CONTACT")).upper() == "CONTACT"
        }

    # --- contacts ------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        if NO_BULK_WARNING not in self.warnings:
            self.warnings.append(NO_BULK_WARNING)
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_each(
            plan.requests,
            lambda planned: self._upsert_one(planned, update_existing),
            self._data_rejection,
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        pending = []
        for record, _ in encoded:
            local = self._local_problem(record)
            if local is not None:
                rejected.append(local)
            else:
                pending.append(record)
        # Encoded again: _local_problem has loaded the custom-field model when one is mapped,
        # and the custom fields' ids come from it.
        entries = [(record, orjson.dumps(self.entry_for(record))) for record in pending]
        note = "One request a contact; Keap merges it into a contact with this email."
        if not update_existing:
            note += " The client first looks the email up and sends nothing for an existing one."
        requests = self.request_each(
            entries,
            "POST",
            API,
            V2 + "/contacts",
            note=note,
            params=(("duplicate_option", "Email"),),
        )
        return UpsertPlan(requests, rejected)

    def entry_for(self, record: ContactRecord) -> dict:
        """The `CreateUpdateContactRequest` body for one record."""
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        email: dict[str, Any] = {"email": record.identifier, "field": "EMAIL1"}
        if fields.get("opt_in") is True:
            email["opt_in_reason"] = OPT_IN_REASON
        body: dict[str, Any] = {"email_addresses": [email]}
        custom = []
        model = self._model or {}
        for key, value in fields.items():
            if key == "opt_in":
                continue
            if key == "phone":
                if value not in (None, ""):
                    body["phone_numbers"] = [{"number": str(value), "field": "PHONE1"}]
            elif key in STANDARD:
                body[key] = (
                    _as_date(value) if STANDARD[key][1] == "date" else self.format_value(value)
                )
            elif key in model:
                meta = model[key]
                kind = str(meta.get("field_type", "")).upper()
                content = _as_date(value) if kind == "DATE" else self.format_value(value)
                custom.append({"id": str(meta["id"]), "content": content})
        if custom:
            body["custom_fields"] = custom
        return body

    def _local_problem(self, record: ContactRecord) -> RecordResult | None:
        """A field Keap does not have (length limits are in contact_rules)."""
        unknown = [
            k
            for k in record.fields
            if k != record.identifier_field
            and k not in STANDARD
            and k not in SPECIAL
            and k not in self._load_model()
        ]
        if unknown:
            return RecordResult(
                record.key,
                Outcome.REJECTED_DATA,
                code="unknown_field",
                message=f"Keap has no contact field {', '.join(sorted(unknown))}.",
                hint="Create the custom field in Keap (Settings → Custom fields) or change the "
                "field mapping.",
            )
        return None

    def _upsert_one(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        if not update_existing and self._find_ids(record.identifier):
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code="kept_existing",
                message="A Keap contact with this email exists; left as it is.",
                hint="The integration keeps existing contacts; switch to update to overwrite.",
            )
        response = self.send_planned(planned, ok=(200, 201))
        self._watch_quota(response)
        outcome = Outcome.CREATED if response.status_code == 201 else Outcome.UPDATED
        contact = response.json()
        wanted = record.fields.get("opt_in")
        if wanted is None:
            return RecordResult(record.key, outcome, code=str(contact.get("id", "")))
        return self._settle_opt_in(record, outcome, contact, bool(wanted))

    def _settle_opt_in(
        self, record: ContactRecord, outcome: Outcome, contact: dict, wanted: bool
    ) -> RecordResult:
        """Make the address's marketability follow the subscriber's status where Keap allows."""
        email = record.identifier
        entry = next(
            (
                e
                for e in contact.get("email_addresses") or []
                if str(e.get("email", "")).lower() == email.lower()
            ),
            {},
        )
        status = entry.get("email_opt_status")
        if status is None:
            status = self._email_status(email).get("status")
        status = str(status or "").upper()
        contact_id = str(contact.get("id", ""))
        if wanted and status in MARKETABLE:
            return RecordResult(record.key, outcome, code=contact_id)
        if not wanted:
            if status in MARKETABLE:
                self._set_opt_in(email, False)
            return RecordResult(record.key, outcome, code=contact_id)
        if status in REOPTABLE or not status:
            answer = self._set_opt_in(email, True)
            if answer.get("opted_in"):
                return RecordResult(record.key, outcome, code=contact_id)
            status = str(answer.get("status") or status).upper()
        return RecordResult(
            record.key,
            Outcome.REJECTED_COMPLIANCE,
            code=status or "NON_MARKETABLE",
            message=f"Keap keeps {email} non-marketable ({status or 'unknown status'}); the "
            "contact's other data was written.",
            hint="Keap does not let an API opt an address back in after an unsubscribe, bounce "
            "or complaint; the reader must opt in again through a Keap form.",
        )

    def _email_status(self, email: str) -> dict:
        try:
            return self.call("GET", f"/emailAddresses/{_path(email)}/status").json()
        except NotFound:
            return {}

    def _set_opt_in(self, email: str, opted_in: bool) -> dict:
        body = {"opted_in": opted_in, "reason": OPT_IN_REASON if opted_in else OPT_OUT_REASON}
        return self.call("PATCH", f"/emailAddresses/{_path(email)}/status", json=body).json()

    def _data_rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=exc.code or str(exc.status or ""),
            message=exc.message,
            hint="Keap refused this contact's data: fix the subscriber's values or the field "
            "mapping (see the message).",
        )

    def _find_ids(self, email: str) -> list[str]:
        """Ids of every Keap contact with this email (email is not unique in Keap)."""
        ids, token = [], None
        while True:
            params = {"filter": f"email=={email}", "fields": "id", "page_size": 100}
            if token:
                params["page_token"] = token
            data = self.call("GET", "/contacts", params=params).json()
            ids += [str(c["id"]) for c in data.get("contacts") or [] if c.get("id") is not None]
            token = data.get("next_page_token")
            if not token:
                return ids

    def delete_contact(self, identifier: str) -> None:
        """Delete every Keap contact with this email (a hard delete of the record)."""
        for contact_id in self._find_ids(identifier):
            try:
                self.call("DELETE", f"/contacts/{contact_id}", ok=(204,))
            except NotFound:
                continue  # already gone

    def export_contact(self, identifier: str) -> dict:
        """What Keap holds about this email: contacts with every property, tags, opt-in status."""
        contacts = []
        for contact_id in self._find_ids(identifier):
            contact = self.call(
                "GET", f"/contacts/{contact_id}", params={"fields": EXPORT_FIELDS}
            ).json()
            contact["tags"] = self._contact_tags(contact_id)
            contacts.append(contact)
        return {
            "platform": self.slug,
            "email": identifier,
            "contacts": contacts,
            "email_status": self._email_status(identifier) or None,
        }

    def _contact_tags(self, contact_id: str) -> list[dict]:
        tags, token = [], None
        while True:
            params = {"page_size": 1000, **({"page_token": token} if token else {})}
            data = self.call("GET", f"/contacts/{contact_id}/tags", params=params).json()
            tags += data.get("tags") or []
            token = data.get("next_page_token")
            if not token:
                return tags

    # --- tags (Keap's segments) ----------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments, token = [], None
        while True:
            params = {"page_size": 1000, **({"page_token": token} if token else {})}
            data = self.call("GET", "/tags", params=params).json()
            segments += [
                RemoteSegment(str(t["id"]), t.get("name", ""), kind="tag")
                for t in data.get("tags") or []
            ]
            token = data.get("next_page_token")
            if not token:
                return segments

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        """Keap gives no tag count: page through the tagged contacts (1,000 a call)."""
        count, token = 0, None
        while True:
            params = {"page_size": 1000, **({"page_token": token} if token else {})}
            data = self.call(
                "GET", f"/tags/{remote_id}/contacts", params=params, max_wait=max_wait
            ).json()
            count += len(data.get("contacts") or [])
            token = data.get("next_page_token")
            if not token:
                return count


EXPORT_FIELDS = (
    "addresses,anniversary_date,birth_date,company,contact_type,create_time,custom_fields,"
    "email_addresses,family_name,given_name,id,job_title,middle_name,origin,owner_id,"
    "phone_numbers,preferred_locale,preferred_name,prefix,source_type,spouse_name,suffix,"
    "tag_ids,time_zone,update_time,website"
)


def _path(email: str) -> str:
    return quote(email, safe="@")


def _as_date(value: Any) -> Any:
    """Keap's date properties take YYYY-MM-DD."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _bucket(headers, prefix: str) -> dict | None:
    """One of Keap's quota header families: limit, available, and its window in seconds."""
    available = _int(headers.get(f"{prefix}-available"))
    limit = _int(headers.get(f"{prefix}-limit"))
    if available is None and limit is None:
        return None
    unit = str(headers.get(f"{prefix}-time-unit") or "minute").lower().rstrip("s")
    interval = _int(headers.get(f"{prefix}-interval")) or 1
    return {
        "limit": limit,
        "available": available,
        "window": float(interval * _UNIT_SECONDS.get(unit, 60)),
    }


def _seconds_until(value) -> float | None:
    """Seconds until a quota expiry time: epoch milliseconds or seconds, or an HTTP date;
    without one, until the next midnight UTC (when Keap's daily quota renews)."""
    now = clock.now()
    number = _int(value)
    if number is not None:
        when = number / 1000 if number > 10**11 else number
        return max(0.0, when - now)
    if value:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    return 86400 - (now % 86400)
