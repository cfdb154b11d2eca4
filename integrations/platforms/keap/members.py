"""Who carries a Keap tag: its contacts page by page (v2 page tokens)."""

from __future__ import annotations

from integrations.platforms.keap.segments import KeapSegments
from integrations.platforms.types import MemberPage

MEMBERS_PER_PAGE = 1000  # v2's page_size maximum


class KeapMembers(KeapSegments):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        """One page of the tag's contacts as (email, contact id); the cursor is Keap's token."""
        data = self._tagged(remote_id, cursor, size=MEMBERS_PER_PAGE)
        members = [
            (str(c.get("email") or ""), str(c.get("id") or "")) for c in data.get("contacts") or []
        ]
        return MemberPage(members, data.get("next_page_token") or None)
