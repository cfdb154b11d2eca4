"""Mailchimp's data centres, auth, error shape and connection test."""

from __future__ import annotations

from urllib.parse import urlsplit

from requests.auth import HTTPBasicAuth

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import AuthError, NotFound, PermissionDenied
from integrations.platforms.mailchimp.api import _HOST, _READ_ONLY_ROLES, API, AUTO, key_data_centre
from integrations.platforms.types import Capability, ConnectionReport
from integrations.platforms.urlpolicy import is_sandbox_url


class MailchimpConnection(PlatformClient):
    """Data centres (from the key's ending), Basic auth, problem+json errors, test_connection."""

    # --- data centres and auth ---------------------------------------------------------------

    def data_centre(self, region: str | None = None) -> str:
        """The data centre calls go to: the region set, or the API key's suffix on `auto`."""
        region = region or self.region
        if region == AUTO:
            return key_data_centre(self._secrets.get("api_key", ""))
        return region

    def base_url(self, surface: str, region: str | None = None) -> str:
        dc = self.data_centre(region)
        default = f"https://{dc}.api.mailchimp.com" if dc else self.hosts[surface][AUTO]
        override = self.integration.api_base_url.strip()
        if not override:
            return default
        if is_sandbox_url(override, self.slug):
            return f"{override.rstrip('/')}/{urlsplit(default).netloc}"
        self.check_base_url(override)
        return override.rstrip("/")

    @classmethod
    def accepts_host(cls, netloc: str) -> bool:
        return bool(_HOST.match(netloc))

    @classmethod
    def describe_hosts(cls) -> str:
        return "api.mailchimp.com or a data centre host such as us6.api.mailchimp.com"

    def auth_for(self, surface: str):
        # Basic auth: any user name, the key as password.
        return HTTPBasicAuth("sharpsend", self.credential("api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        """Mailchimp errors are problem+json: title, detail and per-field errors."""
        if isinstance(data, dict) and "title" in data:
            detail = str(data.get("detail") or "")
            fields = "; ".join(
                f"{e.get('field', '')}: {e.get('message', '')}".strip(": ")
                for e in data.get("errors") or []
                if isinstance(e, dict)
            )
            text = f"{data['title']}: {detail}".strip(": ")
            return str(data["title"]), (f"{text} ({fields})" if fields else text)[:300]
        return None

    @property
    def list_path(self) -> str:
        return f"/3.0/lists/{self.credential('list_id')}"

    # --- test_connection -----------------------------------------------------------------------

    def test_connection(self) -> ConnectionReport:
        key_dc = key_data_centre(self.credential("api_key"))
        if self.region != AUTO and key_dc and key_dc != self.region:
            return ConnectionReport.refused(
                region=key_dc,
                detail=f"This API key belongs to Mailchimp data centre {key_dc} (the ending of "
                f"the key), but the integration is set to {self.region}. Choose {key_dc}, or "
                "'From the API key'.",
            )
        if self.region == AUTO and not key_dc:
            return ConnectionReport.refused(
                detail="The API key has no data-centre ending (such as -us6): paste the whole "
                "key from Profile → Extras → API keys, or choose the data centre.",
            )
        dc = self.data_centre()
        try:
            root = self.request(
                "GET", API, "/3.0/", params={"fields": "account_id,account_name,email,role"}
            ).json()
        except AuthError:
            return ConnectionReport.refused(
                region=dc,
                detail=f"Mailchimp refused the API key on data centre {dc}: it is wrong, was "
                "deleted, or its user was removed from the account (Profile → Extras → API "
                "keys).",
            )
        except PermissionDenied as exc:
            return ConnectionReport(
                ok=False,
                can_write=False,
                region=dc,
                detail=f"Mailchimp refused access for this key's user ({exc.message}).",
            )
        account = str(root.get("account_name") or root.get("account_id") or "")
        role = str(root.get("role") or "").lower()
        try:
            audience = self.request(
                "GET", API, self.list_path, params={"fields": "id,name,stats.member_count"}
            ).json()
        except NotFound:
            return ConnectionReport.refused(
                account=account,
                region=dc,
                detail=f"The key works, but account {account} has no audience with the ID "
                f"'{self.credential('list_id')}'. Copy it from Audience → All contacts → "
                "Settings → Audience name and defaults.",
            )
        can_write = role not in _READ_ONLY_ROLES
        permissions = {
            Capability.LIST_FIELDS.value: True,
            Capability.LIST_SEGMENTS.value: True,
            Capability.EXPORT_CONTACT.value: True,
            Capability.UPSERT_CONTACTS.value: can_write,
            Capability.DELETE_CONTACT.value: can_write,
            # Unsubscribing a member is a member write too.
            Capability.SUPPRESS_CONTACT.value: can_write,
        }
        name = audience.get("name", "")
        members = (audience.get("stats") or {}).get("member_count")
        where = f"audience '{name}'" + (f" ({members} members)" if members is not None else "")
        if not can_write:
            return ConnectionReport(
                ok=False,
                can_write=False,
                account=account,
                region=dc,
                detail=f"This key's user has the {role} role in Mailchimp, which cannot change "
                "audience members. Create the key as a user with the Manager, Admin or Owner "
                "role.",
                permissions=permissions,
            )
        return ConnectionReport.writable(
            account=account,
            region=dc,
            detail=f"Connected to {account}, {where}, data centre {dc} (user role: {role}).",
            permissions=permissions,
        )
