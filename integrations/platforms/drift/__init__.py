"""Drift (Salesloft): contacts and their attributes, connected with OAuth 2.0 only.

Facts: ../shared/platforms/drift.md and oauth.md. Drift has no bulk or upsert endpoint and email
is not a unique key: each record is a lookup by email, then a create or a partial update of the
chosen contact. Scopes are frozen into the grant (ticked on the app, not asked for in the
authorize URL); `POST /app/token_info` tells which ones this connection has. Drift's Data
Privacy API (GDPR retrieval and deletion) is open only to apps an org builds for itself, so a
console connected as a third-party app cannot use it.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
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
    TargetField,
    TimestampFormat,
    UpsertPlan,
)

API = "api"
NEEDED_SCOPES = ("contact_read", "contact_write")
FIELDS_SCOPE = "all_contact_read"
GDPR_REASON = (
    "Drift's Data Privacy API (gdpr_read / gdpr_write) is available only to apps an org builds "
    "for itself, not to third-party apps like this console; run the request in Drift → Settings "
    "→ Data Privacy"
)

_ATTRIBUTE_TYPES = {
    "STRING": "string",
    "NUMERIC": "number",
    "BOOLEAN": "boolean",
    "DATETIME": "date",
    "DATE": "date",
}
# Drift's standard contact attributes (the contact model), offered even without the elevated
# scope that lists custom ones.
STANDARD = (
    TargetField("email", "Email", "email", required=True),
    TargetField("name", "Name", "string"),
    TargetField("first_name", "First name", "string"),
    TargetField("last_name", "Last name", "string"),
    TargetField("phone", "Phone", "string"),
    TargetField("externalId", "External id", "string"),
)


@register
class DriftClient(PlatformClient):
    slug = "drift"
    label = "Drift"
    category = Category.CONVERSATIONS
    summary = (
        "Contacts looked up by email, then created or updated (no bulk endpoint); custom "
        "attributes created on first write."
    )
    capabilities = frozenset(
        {Capability.TEST_CONNECTION, Capability.LIST_FIELDS, Capability.UPSERT_CONTACTS}
    )
    unsupported_reasons = {
        Capability.DELETE_CONTACT: GDPR_REASON,
        Capability.EXPORT_CONTACT: GDPR_REASON,
        Capability.LIST_SEGMENTS: "Drift has no segment or list API; contact tags exist but "
        "cannot be listed or counted",
        Capability.CREATE_SEGMENT: "Drift has no segment or list API",
        Capability.ADD_TO_SEGMENT: "Drift has no segment or list API (only per-contact tags)",
        Capability.SEND_CAMPAIGN: "Drift's API sends chat messages into conversations, not "
        "email campaigns",
        Capability.CAMPAIGN_METRICS: "Drift's API has no campaign metrics",
        Capability.TRACK_EVENTS: "Drift's contact timeline endpoint is documented only by "
        "third parties (not yet wired in the console)",
    }
    auth_methods = (AuthMethod.OAUTH,)
    oauth = OAuthSpec(
        authorize_url="https://dev.drift.com/authorize",
        token_url="https://driftapi.com/oauth2/token",
        client_auth="body",
        scope="",  # scopes are ticked on the app and frozen into the grant
        rotates_refresh_token=True,  # not documented; Drift's own sample app treats them so
    )
    credential_fields = ()  # OAuth only: nothing to type in
    regions = {"global": "Drift (one host)"}
    hosts = {API: {"global": "https://driftapi.com"}}
    limits = Limits(
        # No bulk endpoint: a lookup and a write per contact. The record cap is ours (the
        # per-batch checkpoint granularity); Drift documents no body limit.
        batch_max_records=100,
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        # Drift publishes no rate limit (a leaky bucket answering 429 is reported); this is
        # a conservative pace of our own.
        rates={API: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.UNIX_MILLISECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = True  # an unknown attribute becomes a custom attribute on first write
    # Drift wants a valid email (validation_error); custom attributes take any type.
    contact_rules = (rules.EmailSyntax(code="validation_error"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "sharpsend_status", "", False),
    )

    @classmethod
    def account_key_from_token(cls, token: dict) -> str:
        return str(token.get("orgId") or token.get("org_id") or "")

    def auth_for(self, surface: str):
        if not self.uses_oauth():
            raise ConfigurationError(
                "Drift is not connected: use “Connect with Drift” on the integration."
            )
        return self.oauth_auth()

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("errors"), list) and data["errors"]:
            first = data["errors"][0] if isinstance(data["errors"][0], dict) else {}
            param = f" ({first['param']})" if first.get("param") else ""
            return str(first.get("type", "")), f"{first.get('message', '')}{param}"[:300]
        if isinstance(data, dict) and isinstance(data.get("error"), dict):
            error = data["error"]
            return str(error.get("type", "")), str(error.get("message", ""))[:300]
        return None

    # --- capabilities ------------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        if not self.uses_oauth():
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Drift is not connected yet: use “Connect with Drift” and allow access.",
            )
        try:
            info = self._token_info()
        except (AuthError, PermissionDenied) as exc:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Drift refused the connection's token (the app was uninstalled or the "
                f"token revoked): reconnect with “Connect with Drift”. ({exc.message})",
            )
        scopes = set(str(info.get("scope") or "").split())
        org = str(info.get("authenticated_userid") or "").removeprefix("orgId:")
        account = f"Drift org {org}" if org else "Drift org"
        permissions = {
            Capability.UPSERT_CONTACTS.value: set(NEEDED_SCOPES) <= scopes,
            Capability.LIST_FIELDS.value: FIELDS_SCOPE in scopes,
        }
        missing = [s for s in NEEDED_SCOPES if s not in scopes]
        if missing:
            return ConnectionReport(
                ok=False,
                can_write="contact_write" in scopes,
                account=account,
                region=self.region,
                detail=f"This Drift connection lacks the {' and '.join(missing)} scope"
                f"{'s' if len(missing) > 1 else ''}: Drift freezes scopes when the app is "
                "installed, so the console's Drift app must ask for them and the org must "
                "reconnect.",
                permissions=permissions,
            )
        detail = f"Connected to {account}; the connection can read and write contacts."
        if FIELDS_SCOPE not in scopes:
            detail += (
                f" Without {FIELDS_SCOPE} Drift will not list custom attributes: the mapping "
                "offers the standard ones, and any name you type is created on first write."
            )
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=account,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    def _token_info(self) -> dict:
        """POST /app/token_info, which takes the access token in its body too."""
        token = self.oauth_auth().token  # fresh: refreshed ahead of expiry
        try:
            return self.request("POST", API, "/app/token_info", json={"access_token": token}).json()
        except AuthError:
            # Refused, the base refreshed the token and resent the same body: ask again with
            # the new token, once.
            renewed = self.oauth_auth().token
            if renewed == token:
                raise
            return self.request(
                "POST", API, "/app/token_info", json={"access_token": renewed}
            ).json()

    def list_fields(self) -> list[TargetField]:
        try:
            data = self.request("GET", API, "/contacts/attributes").json()
        except PermissionDenied:
            # The custom attribute list needs the elevated all_contact_read scope.
            return list(STANDARD)
        properties = (data.get("data") or {}).get("properties") or []
        fields = {f.key: f for f in STANDARD}
        for prop in properties:
            name = prop.get("name")
            if not name or name in fields:
                continue
            kind = _ATTRIBUTE_TYPES.get(str(prop.get("type", "")).upper(), "string")
            fields[name] = TargetField(name, prop.get("displayName") or name, kind)
        return list(fields.values())

    # --- contacts ------------------------------------------------------------------------------

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        return plan.rejected + self.send_each(
            plan.requests,
            lambda planned: self._upsert_one(planned, update_existing),
            self._data_rejection,
        )

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        existing = (
            "PATCH /contacts/{id} with this body"
            if update_existing
            else "nothing (the integration keeps existing contacts)"
        )
        note = (
            "As sent for a new contact. The client first looks the email up "
            f"(GET /contacts?email=…); an existing contact gets {existing}."
        )
        return UpsertPlan(self.request_each(encoded, "POST", API, "/contacts", note=note), rejected)

    def entry_for(self, record: ContactRecord) -> dict:
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        attributes = {record.identifier_field: record.identifier, **self.format_fields(fields)}
        return {"attributes": {k: v for k, v in attributes.items() if v is not None}}

    def _upsert_one(self, planned: PlannedRequest, update_existing: bool) -> RecordResult:
        [record] = planned.records
        existing = self._find(record.identifier)
        if existing is None:
            created = self.send_planned(planned)
            contact_id = str((created.json().get("data") or {}).get("id", ""))
            return RecordResult(record.key, Outcome.CREATED, code=contact_id)
        contact_id = str(existing["id"])
        if not update_existing:
            return RecordResult(
                record.key,
                Outcome.UNCHANGED,
                code="kept_existing",
                message=f"Drift contact {contact_id} has this email; left as it is.",
                hint="The integration keeps existing contacts; switch to update to overwrite.",
            )
        self.request("PATCH", API, f"/contacts/{contact_id}", content=planned.content)
        return RecordResult(record.key, Outcome.UPDATED, code=contact_id)

    def _find(self, email: str) -> dict | None:
        """The contact to update for this email, if any.

        Email is not unique in Drift: of several matches, the most recently active (then the
        most recently created) one wins.
        """
        data = (
            self.request("GET", API, "/contacts", params={"email": email, "limit": 50})
            .json()
            .get("data")
        )
        matches = [data] if isinstance(data, dict) else list(data or [])
        matches = [m for m in matches if isinstance(m, dict) and m.get("id") is not None]
        if not matches:
            return None

        def recency(contact: dict) -> tuple:
            attributes = contact.get("attributes") or {}
            return (_number(attributes.get("last_active")), _number(contact.get("createdAt")))

        return max(matches, key=recency)

    def _data_rejection(self, record: ContactRecord, exc: PlatformError) -> RecordResult:
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code=exc.code or str(exc.status or ""),
            message=exc.message,
            hint="Drift refused this contact's data: fix the subscriber's values or the field "
            "mapping (see the message).",
        )


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0
