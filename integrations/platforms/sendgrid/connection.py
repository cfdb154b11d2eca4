"""SendGrid's auth (a bearer key, never sent to the errors file's host), error shape and
connection test (scopes, probes, the EU host)."""

from __future__ import annotations

from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, NotFound
from integrations.platforms.sendgrid.api import API, DOWNLOAD, FIELDS, may_write_marketing
from integrations.platforms.types import Capability, ConnectionReport


class SendGridConnection(PlatformClient):
    """Bearer auth, {errors: [...]} decoding, test_connection and the other region's key."""

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
        permissions = {
            Capability.LIST_FIELDS.value: self.permits("GET", API, FIELDS),
            Capability.LIST_SEGMENTS.value: self.permits(
                "GET", API, "/v3/marketing/lists", params={"page_size": 1}
            ),
        }
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
        return ConnectionReport.writable(
            account=account,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

    def _refused_key_report(self) -> ConnectionReport:
        """A 401: tell a key of the other host (EU subusers) from a wrong key."""
        other = self.region_accepting_key("GET", API, "/v3/scopes")
        if other:
            return ConnectionReport.refused(
                region=other,
                detail=f"This key works on SendGrid's {self.regions[other]} host, but the "
                f"integration is set to {self.regions[self.region]}. Choose "
                f"{other.upper()}.",
            )
        return ConnectionReport.refused(
            detail="SendGrid refused the API key. Check it under Settings → API Keys (the "
            "key is shown once; create a new one if in doubt).",
        )
