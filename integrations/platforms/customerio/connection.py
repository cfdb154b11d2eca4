"""Customer.io: the two credentials, error bodies, and the connection test (region, both keys)."""

from __future__ import annotations

from requests.auth import HTTPBasicAuth

from integrations.platforms.auth import BearerAuth
from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP, TRACK
from integrations.platforms.errors import AuthError
from integrations.platforms.types import Capability, ConnectionReport


class CustomerIoConnection(PlatformClient):
    def auth_for(self, surface: str):
        if surface == TRACK:
            return HTTPBasicAuth(self.credential("site_id"), self.credential("track_api_key"))
        return BearerAuth(self.credential("app_api_key"))

    def error_detail(self, data) -> tuple[str, str] | None:
        if isinstance(data, dict) and isinstance(data.get("meta"), dict):
            return "", str(data["meta"].get("error", ""))
        if isinstance(data, dict) and data.get("errors"):
            first = data["errors"][0]
            return str(first.get("reason", "")), str(
                first.get("message") or first.get("detail", "")
            )
        return None

    def test_connection(self) -> ConnectionReport:
        try:
            region_info = self.request("GET", TRACK, "/api/v1/accounts/region").json()
        except AuthError:
            other = self.region_accepting_key("GET", TRACK, "/api/v1/accounts/region")
            if other:
                return ConnectionReport.refused(
                    region=other,
                    detail=f"This workspace is in Customer.io's {other.upper()} region, but "
                    f"the integration is set to {self.region.upper()}. Choose {other.upper()}.",
                )
            return ConnectionReport.refused(
                detail="Customer.io refused the Site ID and Track API key. Check both on "
                "Account Settings → API Credentials (an App API key does not work here).",
            )
        actual = str(region_info.get("region", "")).lower()
        if actual and actual != self.region:
            return ConnectionReport.refused(
                region=actual,
                detail=f"This workspace is in Customer.io's {actual.upper()} region, but the "
                f"integration is set to {self.region.upper()}. Choose {actual.upper()}.",
            )
        try:
            workspaces = self.request("GET", APP, "/v1/workspaces").json().get("workspaces", [])
        except AuthError:
            return ConnectionReport(
                ok=False,
                can_write=True,
                region=actual,
                detail="The Track key works, but Customer.io refused the App API key (wrong "
                "key, or a key of another region).",
            )
        env_id = str(region_info.get("environment_id", ""))
        account = next(
            (w.get("name", "") for w in workspaces if str(w.get("id")) == env_id),
            workspaces[0].get("name", "") if workspaces else "",
        )
        # Track keys can only write; deleting a person is a Track API write too.
        permissions = {
            Capability.UPSERT_CONTACTS.value: True,
            Capability.DELETE_CONTACT.value: True,
        }
        # A 401 here refuses the segments, not the connection.
        can_read_segments = self.permits("GET", APP, "/v1/segments", unauthorized_means_no=True)
        permissions[Capability.LIST_SEGMENTS.value] = can_read_segments
        detail = (
            f"Connected to workspace {account or env_id} ({actual.upper() or self.region.upper()})."
        )
        if not can_read_segments:
            detail += " The App API key may not read segments: segment import is unavailable."
        return ConnectionReport.writable(
            account=account or env_id,
            region=actual or self.region,
            detail=detail,
            permissions=permissions,
        )
