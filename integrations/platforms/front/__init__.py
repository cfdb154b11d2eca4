"""Front: contacts (email handles, names, contact custom fields), contact lists with counts.

Facts: ../shared/platforms/front.md; request bodies are checked against Front's own OpenAPI
document (../shared/specs/front/core-api.json) in the tests.

Front has no bulk contact write: each contact is looked up by its email alias
(`alt:email:<address>`), then created (POST) or updated (PATCH). A PATCH replaces the whole
`custom_fields` object, so the contact's current custom fields (from the lookup) are merged
with ours before writing, and fields the console does not map are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from integrations.platforms import rules
from integrations.platforms.auth import BearerAuth
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
    AuthMethod,
    Capability,
    Category,
    ConnectionReport,
    ContactRecord,
    CredentialField,
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
# Rate names: an API token shares the company's bucket (50 a minute on Starter, the lowest
# plan); a partner OAuth app has its own bucket of 120 a minute per company.
TOKEN_RATE = API
OAUTH_RATE = "oauth"

CUSTOM = "custom_fields."
# Targets that are parts of the contact itself, not custom fields.
_NAME_PARTS = ("first_name", "last_name")
_CONTACT_KEYS = ("name", "description")
_FIELD_TYPES = {
    "string": "string",
    "enum": "string",
    "number": "number",
    "boolean": "boolean",
    "datetime": "date",
    "teammate": "string",
    "inbox": "string",
}
PAGE = 100


def alias(email: str) -> str:
    """The contact resource alias of an email handle, escaped for a path segment."""
    return quote(f"alt:email:{email}", safe=":")


@register
class FrontClient(PlatformClient):
    slug = "front"
    label = "Front"
    category = Category.CONVERSATIONS
    summary = (
        "Contacts with their email handle, name and contact custom fields; contact lists "
        "with member counts. API token or OAuth."
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
    rate_limited_by = ("api_token",)  # Front counts per company: one token, one company
    unsupported_reasons = {
        Capability.TRACK_EVENTS: "Front has no events on contacts",
        Capability.SEND_CAMPAIGN: "Front sends conversation messages one by one, not campaigns",
        Capability.CAMPAIGN_METRICS: "Front has no campaigns",
        Capability.TRIGGER_JOURNEY: "Front has no journeys; its rules run inside Front",
        Capability.CREATE_SEGMENT: "Front's API can create a contact list, but answers without "
        "its id (not yet wired in the console)",
        Capability.ADD_TO_SEGMENT: "adding contacts to a Front contact list is not yet wired "
        "in the console",
        Capability.WEBHOOKS: "Front application webhooks are not yet wired in the console",
    }
    auth_methods = (AuthMethod.API_KEY, AuthMethod.OAUTH)
    oauth = OAuthSpec(
        authorize_url="https://app.frontapp.com/oauth/authorize",
        token_url="https://app.frontapp.com/oauth/token",
        client_auth="basic",
        # Scopes are chosen on the Front app, not in the authorize URL.
        scope="",
        # Front returns "the same, or a new" refresh token; keep the old one when none comes.
        rotates_refresh_token=False,
    )
    credential_fields = (
        CredentialField(
            "api_token",
            "API token",
            "Only when not connecting with OAuth. Front → Settings (gear) → Company → "
            "Developers → API tokens → Create API token (company admins only). Give it the "
            "shared namespace and the scopes contacts:read, contacts:write, contacts:delete "
            "and custom_fields:read.",
            required=False,
        ),
    )
    regions = {"global": "Front (one API host for every company)"}
    hosts = {API: {"global": "https://api2.frontapp.com"}}
    limits = Limits(
        # No bulk endpoint: one contact a request. The record cap is ours (the checkpoint
        # granularity); the byte cap is a guard for one contact's JSON body.
        batch_max_records=10,  # one call a contact: a checkpoint (and progress) every ~25 s
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        rates={
            TOKEN_RATE: Rate(50, 60.0),
            OAUTH_RATE: Rate(120, 60.0),
        },
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = False
    # Front answers an invalid email handle, or a value of the wrong type for a contact
    # custom field, with 400 "Bad request".
    contact_rules = (rules.EmailSyntax(code="Bad request"), rules.TypedFields(code="Bad request"))
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )

    # --- auth --------------------------------------------------------------------------------

    def auth_for(self, surface: str):
        if self.uses_oauth():
            return self.oauth_auth()
        return BearerAuth(self.credential("api_token"))

    @property
    def rate(self) -> str:
        """The rate bucket: a partner OAuth app's own, or the company's (API token)."""
        if not hasattr(self, "_rate"):
            self._rate = OAUTH_RATE if self.uses_oauth() else TOKEN_RATE
        return self._rate

    def call(self, method: str, path: str, **kwargs):
        return self.request(method, API, path, rate=self.rate, **kwargs)

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("_error"), dict):
            error = data["_error"]
            message = str(error.get("message") or error.get("title") or "")
            details = error.get("details")
            if isinstance(details, list) and details:
                message += " (" + "; ".join(str(d) for d in details)[:200] + ")"
            return str(error.get("title") or error.get("status") or ""), message[:300]
        return None

    # --- test_connection ---------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        how = "OAuth connection" if self.uses_oauth() else "API token"
        try:
            me = self.call("GET", "/me").json()
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail=f"Front refused the {how}. "
                + (
                    "Reconnect with OAuth (a Front company admin must allow it)."
                    if self.uses_oauth()
                    else "Check it under Settings → Company → Developers → API tokens."
                ),
            )
        company = str(me.get("name") or me.get("id") or "Front company")
        permissions: dict[str, bool | None] = {}
        missing = []
        for capability, path, scope in (
            (Capability.LIST_SEGMENTS, "/contact_lists", "contacts:read"),
            (Capability.LIST_FIELDS, "/contacts/custom_fields", "custom_fields:read"),
        ):
            try:
                self.call("GET", path)
                permissions[capability.value] = True
            except PermissionDenied:
                permissions[capability.value] = False
                missing.append(scope)
        # The write probe: an update of a contact that cannot exist writes nothing; a token
        # without contacts:write is refused (403) before Front looks the contact up (404).
        try:
            self.call(
                "PATCH",
                f"/contacts/{alias('connection-check@sharpsend.invalid')}",
                json={},
                ok=(204, 400, 404),
            )
            can_write = True
        except PermissionDenied:
            can_write = False
            missing.append("contacts:write")
        permissions[Capability.UPSERT_CONTACTS.value] = can_write
        permissions[Capability.DELETE_CONTACT.value] = None  # contacts:delete: not probed
        permissions[Capability.EXPORT_CONTACT.value] = permissions[Capability.LIST_SEGMENTS.value]
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=company,
                region=self.region,
                detail=f"The {how} works for {company} but may not write contacts (missing "
                f"scope: {', '.join(missing)}). "
                + (
                    "Add the scope on the Front app, then reconnect."
                    if self.uses_oauth()
                    else "Create a token with contacts:write (Settings → Company → "
                    "Developers → API tokens)."
                ),
                permissions=permissions,
            )
        detail = f"Connected to {company} with an {how}; it can write contacts."
        if missing:
            detail += f" Missing scopes: {', '.join(missing)}."
        rate = self.limits.rates[self.rate]
        detail += (
            f" Front has no bulk contact write: about two requests a contact, at "
            f"{rate.count} a minute."
        )
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=company,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    # --- fields ------------------------------------------------------------------------------

    def list_fields(self) -> list[TargetField]:
        fields = [
            TargetField("email", "Email handle", "email", required=True),
            TargetField("name", "Name (full)", "string"),
            TargetField("first_name", "First name (joined into the name)", "string"),
            TargetField("last_name", "Last name (joined into the name)", "string"),
            TargetField("description", "Description", "string"),
        ]
        data = self.call("GET", "/contacts/custom_fields").json()
        for field in data.get("_results", []):
            name = str(field.get("name", ""))
            if name:
                fields.append(
                    TargetField(
                        f"{CUSTOM}{name}",
                        f"{name} (custom field)",
                        _FIELD_TYPES.get(str(field.get("type")), "string"),
                    )
                )
        return fields

    # --- upsert ------------------------------------------------------------------------------

    def entry_for(self, record: ContactRecord) -> dict:
        """The contact body for a new contact (the wizard's preview shows it)."""
        contact, custom = self._split(record)
        body: dict[str, Any] = {"handles": [{"source": "email", "handle": record.identifier}]}
        body.update(contact)
        if custom:
            body["custom_fields"] = custom
        return body

    def _split(self, record: ContactRecord) -> tuple[dict, dict]:
        """(contact properties, custom fields) of a record."""
        fields = self.format_fields(
            {k: v for k, v in record.fields.items() if k != record.identifier_field}
        )
        contact: dict[str, Any] = {}
        parts = [str(fields[p]).strip() for p in _NAME_PARTS if fields.get(p) not in (None, "")]
        if parts:
            contact["name"] = " ".join(p for p in parts if p)
        for key in _CONTACT_KEYS:
            if key in fields and fields[key] is not None:
                contact[key] = str(fields[key])
        custom = {k[len(CUSTOM) :]: v for k, v in fields.items() if k.startswith(CUSTOM)}
        return contact, custom

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        # One contact a request: each record is its own group, so an auth failure stops
        # the rest (send_groups) while a data error rejects only its record.
        results = plan.rejected + self.send_groups(
            plan.requests, lambda planned: [self._write(planned, update_existing)]
        )
        if plan.requests:
            rate = self.limits.rates[self.rate]
            self.warnings.append(
                f"Front has no bulk contact write: each contact takes a lookup and a write, "
                f"at {rate.count} requests a minute."
            )
        return results

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        existing = "an update of the fields that differ" if update_existing else "nothing"
        note = (
            "As sent for a new contact. The client first looks the email up "
            f"(GET /contacts/alt:email:…); an existing contact gets {existing}."
        )
        requests = self.request_each(encoded, "POST", API, "/contacts", note=note, rate=self.rate)
        return UpsertPlan(requests, rejected)

    def _write(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        try:
            current = self.call("GET", f"/contacts/{alias(record.identifier)}").json()
        except NotFound:
            current = None
        try:
            if current is None:
                try:
                    self.send_planned(planned, ok=(200, 201))
                    return RecordResult(record.key, Outcome.CREATED)
                except ValidationFailed as exc:
                    if exc.status != 409:
                        raise
                    # Created meanwhile by someone else: update it instead.
                    current = self.call("GET", f"/contacts/{alias(record.identifier)}").json()
            if not update_existing:
                return RecordResult(
                    record.key,
                    Outcome.UNCHANGED,
                    code="exists",
                    message="The contact already exists in Front; kept as it is.",
                )
            body = self._update_body(record, current)
            if body is None:
                return RecordResult(record.key, Outcome.UNCHANGED)
            self.call("PATCH", f"/contacts/{alias(record.identifier)}", json=body, ok=(204,))
            return RecordResult(record.key, Outcome.UPDATED)
        except ValidationFailed as exc:
            return self._rejection(record, exc)

    def _update_body(self, record: ContactRecord, current: dict) -> dict | None:
        """The PATCH body, or None when the contact already holds these values.

        custom_fields is sent whole: Front erases every custom field left out of it.
        """
        contact, custom = self._split(record)
        body = {k: v for k, v in contact.items() if current.get(k) != v}
        existing = current.get("custom_fields") or {}
        if any(existing.get(k) != v for k, v in custom.items()):
            body["custom_fields"] = {**existing, **custom}
        return body or None

    def _rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        if exc.status == 404:
            hint = "The contact disappeared between lookup and write; sent again next run."
            return RecordResult(
                record.key, Outcome.UNKNOWN, code=exc.code, message=exc.message, hint=hint
            )
        hint = (
            "A custom field refused the value: check the field's type in Front (Settings → "
            "Contacts → Custom fields) against the mapping."
            if "custom" in exc.message.lower() or "field" in exc.message.lower()
            else "Front refused the contact; fix the subscriber's data or the mapping."
        )
        return RecordResult(
            record.key, Outcome.REJECTED_DATA, code=exc.code, message=exc.message, hint=hint
        )

    # --- contact lists -----------------------------------------------------------------------

    def _pages(self, path: str, params: dict | None = None, max_wait: float | None = None):
        """Every `_results` item of a paginated list, following `_pagination.next`."""
        params = {"limit": PAGE, **(params or {})}
        while True:
            data = self.call("GET", path, params=params, max_wait=max_wait).json()
            yield from data.get("_results", [])
            following = (data.get("_pagination") or {}).get("next")
            if not following:
                return
            # `next` may name the company's own host: keep our host, follow its page token.
            parts = urlsplit(following)
            params = dict(parse_qsl(parts.query))
            if not params.get("page_token"):
                return

    def list_segments(self) -> list[RemoteSegment]:
        return [
            RemoteSegment(str(item["id"]), str(item.get("name", "")), kind="contact list")
            for item in self._pages("/contact_lists")
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        # Front gives no count: page through the list's contacts (100 a page).
        path = f"/contact_lists/{quote(remote_id, safe='')}/contacts"
        return sum(1 for _ in self._pages(path, max_wait=max_wait))

    # --- one person --------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Delete the contact (its conversations stay: Front keeps them separately)."""
        try:
            self.call("DELETE", f"/contacts/{alias(identifier)}", ok=(204,))
        except NotFound:
            pass  # already gone

    def export_contact(self, identifier: str) -> dict:
        """The contact and the list of its conversations (ids, subjects, statuses)."""
        try:
            contact = self.call("GET", f"/contacts/{alias(identifier)}").json()
        except NotFound:
            return {"found": False, "contact": {}, "conversations": []}
        conversations = [
            {
                "id": c.get("id"),
                "subject": c.get("subject"),
                "status": c.get("status"),
                "created_at": c.get("created_at"),
            }
            for c in self._pages(f"/contacts/{alias(identifier)}/conversations")
        ]
        contact.pop("_links", None)
        return {"found": True, "contact": contact, "conversations": conversations}
