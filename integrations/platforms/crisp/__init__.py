"""Crisp: people profiles by email, their custom data, email subscription, segments with counts.

Facts: ../shared/platforms/crisp.md (no official OpenAPI document exists). Auth is a
Marketplace plugin token (identifier + key, HTTP Basic) with `X-Crisp-Tier: plugin`; every
people route is scoped by the website id. Plugin tokens have a daily request quota (5,000 by
default), so the client spends as few requests a contact as it can and says what it used.

Writing one contact: GET its email subscription (this tells whether the profile exists and
whether the person unsubscribed from email in Crisp), then POST a new profile or PATCH the
existing one, then PATCH its custom data, then — only to unsubscribe — PATCH the subscription.
Crisp takes the email in place of the people id in these routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import orjson
from requests.auth import HTTPBasicAuth

from integrations import clock
from integrations.platforms import rules
from integrations.platforms.base import PlatformClient, parse_retry_after
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
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
)

API = "api"
DEFAULT_QUOTA = 5000
# Profile targets (everything else is a custom data key).
_PROFILE_TARGETS = {
    "nickname": ("person", "nickname"),
    "phone": ("person", "phone"),
    "company": ("company", "name"),
}
_NAME_PARTS = ("first_name", "last_name")
SUBSCRIBED = "email_subscribed"
SEGMENTS = "segments"
_RESERVED = {"email", SUBSCRIBED, SEGMENTS, *_PROFILE_TARGETS, *_NAME_PARTS}
PER_PAGE = 50
MAX_PAGES = 200


@register
class CrispClient(PlatformClient):
    slug = "crisp"
    label = "Crisp"
    category = Category.CONVERSATIONS
    summary = (
        "People profiles by email with their custom data and email subscription; segments "
        "with counts. Plugin token; daily request quota."
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
    rate_limited_by = ("identifier",)  # Crisp counts its quota per plugin token
    unsupported_reasons = {
        Capability.CREATE_SEGMENT: "Crisp segments are free-text tags on profiles; there is no "
        "segment object to create",
        Capability.ADD_TO_SEGMENT: "tagging profiles with a segment (batch/segments) is not yet "
        "wired in the console",
        Capability.TRACK_EVENTS: "people events are not yet wired in the console",
        Capability.SEND_CAMPAIGN: "Crisp campaigns cannot be sent with a plugin token",
        Capability.CAMPAIGN_METRICS: "Crisp campaigns cannot be read with a plugin token",
        Capability.TRIGGER_JOURNEY: "Crisp has no journeys in its API",
        Capability.WEBHOOKS: "Crisp plugin hooks are not yet wired in the console",
    }
    credential_fields = (
        CredentialField(
            "identifier",
            "Plugin token identifier",
            "Crisp Marketplace (marketplace.crisp.chat, its own login) → Plugins → your "
            "plugin → Tokens → Production: the Identifier. Scopes needed: "
            "website:people:profiles and website:people:data (read and write).",
            secret=False,
        ),
        CredentialField(
            "key",
            "Plugin token key",
            "Same place, the Key next to that Identifier.",
        ),
        CredentialField(
            "website_id",
            "Website ID",
            "Crisp app → Settings → Workspace Settings → Setup & Integrations: the Website "
            "ID. The website must have installed your plugin (its private install link is "
            "in the plugin's Settings on the Marketplace).",
            secret=False,
        ),
        CredentialField(
            "daily_quota",
            "Daily request quota",
            "Optional: your plugin's daily request quota if Crisp raised it (Marketplace → "
            "plugin → Settings → quota). Blank: 5,000 a day, Crisp's default.",
            secret=False,
            required=False,
        ),
    )
    regions = {"global": "Crisp (one API host)"}
    hosts = {API: {"global": "https://api.crisp.chat"}}
    limits = Limits(
        # No bulk profile write for plugin tokens: one contact at a time. The record cap is
        # the checkpoint granularity; the byte cap guards one profile's JSON body.
        batch_max_records=25,
        batch_max_bytes=500_000,
        record_max_bytes=500_000,
        # The plugin quota is per day. Bursts of 500 are allowed, the rest is spread so no
        # 24 hours ever holds more than the quota.
        rates={API: Rate(DEFAULT_QUOTA - 500, 86_400.0, burst=500)},
        timestamp_format=TimestampFormat.UNIX_MILLISECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = True
    # Crisp refuses a profile without a valid email (invalid_data).
    contact_rules = (rules.EmailSyntax(code="invalid_data"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", SUBSCRIBED, "is_subscribed", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        quota = self.quota
        if quota != DEFAULT_QUOTA:
            burst = max(1, min(500, quota // 10))
            rates = {API: Rate(quota - burst, 86_400.0, burst=burst)}
            from dataclasses import replace

            self.limits = replace(type(self).limits, rates=rates)

    @property
    def quota(self) -> int:
        try:
            value = int(str(self._secrets.get("daily_quota") or "").replace(",", "").strip())
        except ValueError:
            return DEFAULT_QUOTA
        return value if value >= 100 else DEFAULT_QUOTA

    # --- auth and errors ---------------------------------------------------------------------

    def auth_for(self, surface: str):
        return HTTPBasicAuth(self.credential("identifier"), self.credential("key"))

    def headers_for(self, surface: str) -> dict[str, str]:
        return {"X-Crisp-Tier": "plugin"}

    @property
    def website(self) -> str:
        return f"/v1/website/{quote(self.credential('website_id'), safe='')}"

    def people(self, route: str, email: str) -> str:
        return f"{self.website}/people/{route}/{quote(email, safe='@')}"

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and "reason" in data:
            detail = data.get("data")
            message = detail.get("message", "") if isinstance(detail, dict) else ""
            return str(data.get("reason") or ""), str(message or data.get("reason"))[:300]
        return None

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        if status == 420:  # "Enhance Your Calm": Crisp's other over-limit answer
            return RateLimited
        return super().error_class_for(status, code)

    def retry_after_for(self, response) -> float | None:
        """Crisp sends no Retry-After. Over the limit on the plugin tier means the daily
        quota is spent: hold every worker off for an hour (or until midnight UTC, sooner),
        so later runs do not burn requests on refusals."""
        told = parse_retry_after(response.headers.get("Retry-After"))
        if told is not None or response.status_code not in (420, 429):
            return told
        now = datetime.fromtimestamp(clock.now(), tz=UTC)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        wait = min(3600.0, (midnight - now).total_seconds())
        self._quota_warning(spent=True)
        return max(60.0, wait)

    def _quota_warning(self, spent: bool = False) -> None:
        text = (
            f"Crisp refused requests over the plugin's daily quota ({self.quota:,} a day): "
            "the remaining contacts are sent on a later run."
            if spent
            else f"Crisp allows this plugin {self.quota:,} requests a day; a contact costs 2 "
            "to 4 requests (lookup, profile, custom data, unsubscribe)."
        )
        if text not in self.warnings:
            self.warnings.append(text)

    # --- test_connection ---------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        try:
            plugin = self.request("GET", API, "/v1/plugin/connect/account").json()
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="Crisp refused the plugin token. Check the identifier and key under "
                "Marketplace → Plugins → your plugin → Tokens (a development token or a "
                "website token does not work with the plugin tier).",
            )
        plugin_id = str((plugin.get("data") or {}).get("plugin_id", ""))
        try:
            website = self.request("GET", API, self.website).json().get("data") or {}
        except (AuthError, PermissionDenied, NotFound):
            return ConnectionReport(
                ok=False,
                can_write=None,
                detail="The plugin token works, but Crisp refused the website "
                f"{self.credential('website_id')}: check the Website ID, and that the "
                "website installed the plugin (the plugin's install link on the Marketplace).",
            )
        name = str(website.get("name") or website.get("domain") or self.credential("website_id"))
        permissions: dict[str, bool | None] = {}
        try:
            self.request("GET", API, f"{self.website}/people/profiles/1", params={"per_page": 20})
            permissions[Capability.LIST_SEGMENTS.value] = True
            permissions[Capability.EXPORT_CONTACT.value] = True
        except PermissionDenied:
            permissions[Capability.LIST_SEGMENTS.value] = False
            permissions[Capability.EXPORT_CONTACT.value] = False
        # The write probe: an update of a profile that cannot exist writes nothing; a token
        # without the write scope is refused (403 not_allowed) before the lookup (404).
        try:
            self.request(
                "PATCH",
                API,
                self.people("profile", "connection-check@sharpsend.invalid"),
                json={},
                ok=(200, 400, 404),
            )
            can_write = True
        except PermissionDenied:
            can_write = False
        permissions[Capability.UPSERT_CONTACTS.value] = can_write
        permissions[Capability.DELETE_CONTACT.value] = can_write
        quota = (
            f"Daily quota: {self.quota:,} requests; a contact costs 2 to 4 requests, so about "
            f"{self.quota // 3:,} contacts a day."
        )
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=name,
                region=self.region,
                detail=f"The plugin token reads {name} but may not write people: give the "
                "production token the write scope of website:people:profiles and "
                "website:people:data (Marketplace → plugin → Tokens). " + quota,
                permissions=permissions,
            )
        return ConnectionReport(
            ok=True,
            can_write=True,
            account=name,
            region=self.region,
            detail=f"Connected to website {name} (plugin {plugin_id or 'unknown'}); the token "
            f"can write people. {quota}",
            permissions=permissions,
        )

    # --- fields ------------------------------------------------------------------------------

    def list_fields(self) -> list[TargetField]:
        fields = [
            TargetField("email", "Email", "email", required=True),
            TargetField("nickname", "Nickname (full name)", "string"),
            TargetField("first_name", "First name (joined into the nickname)", "string"),
            TargetField("last_name", "Last name (joined into the nickname)", "string"),
            TargetField("phone", "Phone", "string"),
            TargetField("company", "Company name", "string"),
            TargetField(SEGMENTS, "Segments (text or list)", "string"),
            TargetField(SUBSCRIBED, "Email subscription (true/false)", "boolean"),
        ]
        seen = set(_RESERVED)
        for item in self._suggestions("data"):
            key = str(item.get("key", ""))
            if key and key not in seen:
                seen.add(key)
                fields.append(TargetField(key, f"{key} (custom data)", "string"))
        return fields

    def _suggestions(self, kind: str, max_wait: float | None = None):
        """Every item of people/suggest/<kind>/<page>, page by page until an empty one."""
        for page in range(1, MAX_PAGES + 1):
            items = (
                self.request(
                    "GET",
                    API,
                    f"{self.website}/people/suggest/{kind}/{page}",
                    params={"per_page": PER_PAGE},
                    max_wait=max_wait,
                ).json()
                or {}
            ).get("data") or []
            yield from items
            if len(items) < PER_PAGE:
                return

    # --- upsert ------------------------------------------------------------------------------

    def _parts(self, record: ContactRecord) -> tuple[dict, dict, bool | None]:
        """(profile body fields, custom data, wanted email subscription or None)."""
        fields = self.format_fields(
            {k: v for k, v in record.fields.items() if k != record.identifier_field}
        )
        profile: dict[str, Any] = {}
        names = [str(fields[p]).strip() for p in _NAME_PARTS if fields.get(p) not in (None, "")]
        if names:
            profile.setdefault("person", {})["nickname"] = " ".join(n for n in names if n)
        for target, (group, key) in _PROFILE_TARGETS.items():
            if fields.get(target) not in (None, ""):
                profile.setdefault(group, {})[key] = str(fields[target])
        segments = fields.get(SEGMENTS)
        if segments not in (None, "", []):
            values = segments if isinstance(segments, list) else [segments]
            profile[SEGMENTS] = [str(v) for v in values if v not in (None, "")]
        data = {
            k: v
            for k, v in fields.items()
            if k not in _RESERVED and v is not None and not k.startswith("_")
        }
        wanted = fields.get(SUBSCRIBED)
        return profile, data, (bool(wanted) if wanted is not None else None)

    def entry_for(self, record: ContactRecord) -> dict:
        profile, data, wanted = self._parts(record)
        entry: dict[str, Any] = {"profile": {"email": record.identifier, **profile}}
        if data:
            entry["data"] = {"data": data}
        if wanted is not None:
            entry["subscription"] = {"email": wanted}
        return entry

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        plan = self.plan_upsert(records, update_existing)
        by_record: dict[int, list[PlannedRequest]] = {}
        for planned in plan.requests:
            by_record.setdefault(planned.records[0].key, []).append(planned)
        # Each record's first request stands for all of its requests in send_groups.
        results = plan.rejected + self.send_groups(
            [requests[0] for requests in by_record.values()],
            lambda first: [self._write(by_record[first.records[0].key], update_existing)],
        )
        if by_record:
            self._quota_warning()
        return results

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        encoded, rejected = self.encode_records(records, self.entry_for)
        requests = []
        for record, _ in encoded:
            bad = self._bad_data(record)
            if bad:
                rejected.append(bad)
            else:
                requests += self._new_profile_requests(record)
        return UpsertPlan(requests, rejected)

    def _new_profile_requests(self, record: ContactRecord) -> list[PlannedRequest]:
        """A new profile's requests: create it, then its custom data, then (opted out) its
        email subscription. An existing profile gets its profile and data PATCHed instead."""
        profile, data, wanted = self._parts(record)
        email = record.identifier
        note = (
            "As sent for a new profile. The client first reads the profile's subscription "
            "(GET …/people/subscription/…); an existing profile gets PATCH …/people/profile/… "
            "with these profile fields."
        )
        bodies = [("POST", f"{self.website}/people/profile", {"email": email, **profile}, note)]
        if data:
            bodies.append(("PATCH", self.people("data", email), {"data": data}, ""))
        if wanted is False:
            bodies.append(("PATCH", self.people("subscription", email), {"email": False}, ""))
        requests = []
        for method, path, body, text in bodies:
            raw = orjson.dumps(body)
            requests.append(PlannedRequest(method, API, path, raw, ((record, raw),), note=text))
        return requests

    def _bad_data(self, record: ContactRecord) -> RecordResult | None:
        _, data, _ = self._parts(record)
        wrong = sorted(k for k, v in data.items() if not isinstance(v, str | int | float | bool))
        if not wrong:
            return None
        return RecordResult(
            record.key,
            Outcome.REJECTED_DATA,
            code="invalid_data",
            message=f"Crisp custom data takes text, numbers and booleans; not {', '.join(wrong)}.",
            hint="Map those fields to plain values, or leave them out.",
        )

    def _write(self, planned: list[PlannedRequest], update_existing: bool) -> RecordResult:
        create, *rest = planned
        [record] = create.records
        by_path = {request.path: request for request in rest}
        profile, data, wanted = self._parts(record)
        email = record.identifier
        try:
            try:
                current = self.request("GET", API, self.people("subscription", email)).json()
                subscribed = bool((current.get("data") or {}).get("email", True))
                exists = True
            except NotFound:
                exists, subscribed = False, True
            if exists and not update_existing:
                return RecordResult(
                    record.key,
                    Outcome.UNCHANGED,
                    code="exists",
                    message="The profile already exists in Crisp; kept as it is.",
                )
            if exists and wanted and not subscribed:
                return RecordResult(
                    record.key,
                    Outcome.REJECTED_COMPLIANCE,
                    code="unsubscribed",
                    message="The person unsubscribed from email in Crisp.",
                    hint="Crisp records their opt-out; the console does not resubscribe "
                    "anyone. Sent again once they resubscribe in Crisp.",
                )
            if exists:
                if profile:
                    self.request("PATCH", API, self.people("profile", email), json=profile)
            else:
                try:
                    self.send_planned(create, ok=(200, 201))
                except ValidationFailed as exc:
                    if exc.code != "people_exists":
                        raise
                    exists = True  # created meanwhile: update it instead
                    if profile:
                        self.request("PATCH", API, self.people("profile", email), json=profile)
            if data:
                self.send_planned(by_path[self.people("data", email)])
            if wanted is False and subscribed:
                self.send_planned(by_path[self.people("subscription", email)])
        except ValidationFailed as exc:
            return RecordResult(
                record.key,
                Outcome.REJECTED_DATA,
                code=exc.code,
                message=exc.message,
                hint="Crisp refused the profile; fix the subscriber's data or the mapping "
                "(custom data keys: letters, digits, _ and -).",
            )
        return RecordResult(record.key, Outcome.UPDATED if exists else Outcome.CREATED)

    # --- segments ----------------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        return [
            RemoteSegment(
                str(item["segment"]),
                str(item["segment"]),
                kind="segment",
                member_count=int(item["count"]) if item.get("count") is not None else None,
            )
            for item in self._suggestions("segments")
            if item.get("segment")
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        for item in self._suggestions("segments", max_wait=max_wait):
            if str(item.get("segment")) == remote_id:
                return int(item.get("count") or 0)
        return 0

    # --- one person --------------------------------------------------------------------------

    def delete_contact(self, identifier: str) -> None:
        """Remove the people profile (its conversations are separate objects in Crisp)."""
        try:
            self.request("DELETE", API, self.people("profile", identifier))
        except NotFound:
            pass

    def export_contact(self, identifier: str) -> dict:
        """The profile, its custom data and its email subscription."""
        try:
            profile = self.request("GET", API, self.people("profile", identifier)).json()
        except NotFound:
            return {"found": False, "profile": {}, "data": {}, "subscription": {}}
        data = self.request("GET", API, self.people("data", identifier)).json()
        subscription = self.request("GET", API, self.people("subscription", identifier)).json()
        return {
            "found": True,
            "profile": profile.get("data") or {},
            "data": (data.get("data") or {}).get("data") or {},
            "subscription": subscription.get("data") or {},
        }
