"""Kit: the v4 API key header, its error bodies, and the connection test."""

from __future__ import annotations

from integrations.platforms.auth import HeaderKeyAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, PermissionDenied
from integrations.platforms.kit.api import API
from integrations.platforms.types import Capability, ConnectionReport


class KitConnection(PlatformClient):
    def auth_for(self, surface: str):
        return HeaderKeyAuth("X-Kit-Api-Key", self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        """v4 errors are {"errors": [...]}; a 429 is plain text ("Retry later")."""
        if isinstance(data, dict) and isinstance(data.get("errors"), list):
            return "", "; ".join(str(e) for e in data["errors"])[:300]
        return None

    def test_connection(self) -> ConnectionReport:
        try:
            data = self.request("GET", API, "/v4/account").json()
        except (AuthError, PermissionDenied):
            return ConnectionReport.refused(
                detail="Kit refused the API key. Use a v4 key from Settings → Developer → API "
                "keys (the v3 API key and API secret are not accepted).",
            )
        account = data.get("account") or {}
        name = str(account.get("name") or (data.get("user") or {}).get("email") or "")
        return ConnectionReport(
            ok=True,
            can_write=True,  # Kit keys have no scopes: every key may write
            account=name,
            region="global",
            detail=f"Connected to Kit account {name}. With an API key the console writes one "
            "subscriber a request (120 a minute); Kit's bulk endpoints need OAuth, which the "
            "console does not offer yet.",
            permissions={
                Capability.UPSERT_CONTACTS.value: True,
                Capability.LIST_FIELDS.value: True,
                Capability.LIST_SEGMENTS.value: True,
                Capability.EXPORT_CONTACT.value: True,
                "bulk_upsert": False,  # OAuth only
            },
        )
