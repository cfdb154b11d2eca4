"""Who is in a Customer.io segment (App API membership, cursor-paged)."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP
from integrations.platforms.types import MemberPage

# GET /v1/segments/{id}/membership takes `limit` up to 30,000 (default 1,000): 5,000 keeps a
# page's answer near a megabyte and the number of calls a twentieth of the default's.
MEMBERS_PER_PAGE = 5000


class CustomerIoMembers(PlatformClient):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        params = {"limit": MEMBERS_PER_PAGE, **({"start": cursor} if cursor else {})}
        path = f"/v1/segments/{remote_id}/membership"
        data = self.request("GET", APP, path, params=params).json()
        if "identifiers" in data:
            members = [
                (p.get("email") or "", str(p.get("id") or p.get("cio_id") or ""))
                for p in data.get("identifiers") or []
            ]
        else:  # workspaces identified by id only answer the legacy `ids`
            members = [("", str(i)) for i in data.get("ids") or []]
        return MemberPage(members, data.get("next") or None)
