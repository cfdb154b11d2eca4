"""Drift: OAuth only; the org from the token, error bodies, and the connection test (the grant's
scopes, read from POST /app/token_info)."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.drift.api import API
from integrations.platforms.errors import AuthError, ConfigurationError, PermissionDenied
from integrations.platforms.types import Capability, ConnectionReport

NEEDED_SCOPES = ("contact_read", "contact_write")
FIELDS_SCOPE = "all_contact_read"


class DriftConnection(PlatformClient):
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

    def test_connection(self) -> ConnectionReport:
        if not self.uses_oauth():
            return ConnectionReport.refused(
                detail="Drift is not connected yet: use “Connect with Drift” and allow access.",
            )
        try:
            info = self._token_info()
        except (AuthError, PermissionDenied) as exc:
            return ConnectionReport.refused(
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
        return ConnectionReport.writable(
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
