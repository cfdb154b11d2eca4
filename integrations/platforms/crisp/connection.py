"""Crisp: the plugin token and its daily quota, paths, error bodies, the connection test."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from requests.auth import HTTPBasicAuth

from integrations import clock
from integrations.platforms.base import PlatformClient, parse_retry_after
from integrations.platforms.crisp.api import API, DEFAULT_QUOTA
from integrations.platforms.errors import (
    AuthError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
)
from integrations.platforms.types import Capability, ConnectionReport, Rate


class CrispConnection(PlatformClient):
    """The plugin token, its daily quota, the website's paths, errors, and the connection test."""

    def __init__(self, integration):
        super().__init__(integration)
        quota = self.quota
        if quota != DEFAULT_QUOTA:
            burst = max(1, min(500, quota // 10))
            rates = {API: Rate(quota - burst, 86_400.0, burst=burst)}
            self.limits = replace(type(self).limits, rates=rates)

    @property
    def quota(self) -> int:
        try:
            value = int(str(self._secrets.get("daily_quota") or "").replace(",", "").strip())
        except ValueError:
            return DEFAULT_QUOTA
        return value if value >= 100 else DEFAULT_QUOTA

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

    def test_connection(self) -> ConnectionReport:
        try:
            plugin = self.request("GET", API, "/v1/plugin/connect/account").json()
        except AuthError:
            return ConnectionReport.refused(
                detail="Crisp refused the plugin token. Check the identifier and key under "
                "Marketplace → Plugins → your plugin → Tokens (a development token or a "
                "website token does not work with the plugin tier).",
            )
        plugin_id = str((plugin.get("data") or {}).get("plugin_id", ""))
        try:
            website = self.request("GET", API, self.website).json().get("data") or {}
        except (AuthError, PermissionDenied, NotFound):
            return ConnectionReport.refused(
                detail="The plugin token works, but Crisp refused the website "
                f"{self.credential('website_id')}: check the Website ID, and that the "
                "website installed the plugin (the plugin's install link on the Marketplace).",
            )
        name = str(website.get("name") or website.get("domain") or self.credential("website_id"))
        can_read = self.permits(
            "GET", API, f"{self.website}/people/profiles/1", params={"per_page": 20}
        )
        permissions: dict[str, bool | None] = {
            Capability.LIST_SEGMENTS.value: can_read,
            Capability.EXPORT_CONTACT.value: can_read,
        }
        # The write probe: an update of a profile that cannot exist writes nothing; a token
        # without the write scope is refused (403 not_allowed) before the lookup (404).
        can_write = self.permits(
            "PATCH",
            API,
            self.people("profile", "connection-check@sharpsend.invalid"),
            json={},
            ok=(200, 400, 404),
        )
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
        return ConnectionReport.writable(
            account=name,
            region=self.region,
            detail=f"Connected to website {name} (plugin {plugin_id or 'unknown'}); the token "
            f"can write people. {quota}",
            permissions=permissions,
        )
