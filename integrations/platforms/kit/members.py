"""Who carries a Kit tag (v4 cursor paging); Kit's API lists no members of a segment."""

from __future__ import annotations

from integrations.platforms.errors import UnsupportedCapability
from integrations.platforms.kit.api import API, TAG, KitPaging
from integrations.platforms.types import MemberPage

MEMBERS_PER_PAGE = 1000  # v4's per_page maximum


class KitMembers(KitPaging):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        kind, _, number = remote_id.partition(":")
        if kind != TAG:
            raise UnsupportedCapability(
                "Kit's API lists the members of a tag, not of a segment: segments are read with "
                "their names only."
            )
        params = {"per_page": MEMBERS_PER_PAGE, **({"after": cursor} if cursor else {})}
        data = self.request("GET", API, f"/v4/tags/{number}/subscribers", params=params).json()
        members = [
            (s.get("email_address") or "", str(s.get("id") or ""))
            for s in data.get("subscribers") or []
        ]
        pagination = data.get("pagination") or {}
        more = pagination.get("has_next_page") and pagination.get("end_cursor")
        return MemberPage(members, pagination["end_cursor"] if more else None)
