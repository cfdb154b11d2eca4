"""Front: the API token or OAuth, the rate bucket, paging, error bodies, the connection test."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError
from integrations.platforms.front.api import API, OAUTH_RATE, PAGE, TOKEN_RATE, alias
from integrations.platforms.types import Capability, ConnectionReport


class FrontConnection(PlatformClient):
    """Token or OAuth, the rate bucket every call counts in, paging, errors, the connection test."""

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

    def test_connection(self) -> ConnectionReport:
        how = "OAuth connection" if self.uses_oauth() else "API token"
        try:
            me = self.call("GET", "/me").json()
        except AuthError:
            return ConnectionReport.refused(
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
            permissions[capability.value] = self.permits("GET", API, path, rate=self.rate)
            if not permissions[capability.value]:
                missing.append(scope)
        # The write probe: an update of a contact that cannot exist writes nothing; a token
        # without contacts:write is refused (403) before Front looks the contact up (404).
        can_write = self.permits(
            "PATCH",
            API,
            f"/contacts/{alias('connection-check@sharpsend.invalid')}",
            json={},
            ok=(204, 400, 404),
            rate=self.rate,
        )
        if not can_write:
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
        return ConnectionReport.writable(
            account=company,
            region=self.region,
            detail=detail,
            permissions=permissions,
        )

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
