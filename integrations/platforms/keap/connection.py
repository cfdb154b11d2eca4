"""Keap's hosts, OAuth-only auth, error shapes, quota headers (pacing every worker of the
app) and connection test."""

from __future__ import annotations

from urllib.parse import urlsplit

from integrations.platforms.base import PlatformClient, parse_retry_after
from integrations.platforms.errors import AuthError, ConfigurationError, PermissionDenied
from integrations.platforms.keap.api import (
    API,
    LEGACY_HOST,
    LOW_QUOTA_SHARE,
    V2,
    _bucket,
    _seconds_until,
)
from integrations.platforms.types import Capability, ConnectionReport


class KeapConnection(PlatformClient):
    """Hosts (with the legacy one), OAuth auth, errors, quotas, call() and test_connection."""

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
            return ConnectionReport.refused(
                detail="Keap is not connected yet: use “Connect with Keap” and allow access.",
            )
        try:
            info = self.call("GET", "/oauth/connect/userinfo").json()
        except (AuthError, PermissionDenied) as exc:
            return ConnectionReport.refused(
                detail="Keap refused the connection's access token (revoked, or the user lost "
                f"access): reconnect with “Connect with Keap”. ({exc.message})",
            )
        permissions: dict[str, bool | None] = {Capability.UPSERT_CONTACTS.value: True}
        for capability, path in (
            (Capability.LIST_FIELDS, "/contacts/model"),
            (Capability.LIST_SEGMENTS, "/tags"),
        ):
            params = {"page_size": 1} if path == "/tags" else None
            response = self.probe(
                lambda path=path, params=params: self.call("GET", path, params=params),
                unauthorized_means_no=True,
            )
            permissions[capability.value] = response is not None
            if response is not None and capability is Capability.LIST_FIELDS:
                self._remember_model(response.json())
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
