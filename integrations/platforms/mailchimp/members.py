"""Who is in a Mailchimp segment or tag (offset-paged, 1,000 a page)."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.types import MemberPage

MEMBERS_PER_PAGE = 1000  # Mailchimp's `count` maximum


class MailchimpMembers(PlatformClient):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        offset = int(cursor or 0)
        data = self.request(
            "GET",
            API,
            f"{self.list_path}/segments/{remote_id}/members",
            params={
                "count": MEMBERS_PER_PAGE,
                "offset": offset,
                "fields": "members.email_address,members.id,total_items",
            },
        ).json()
        page = data.get("members") or []
        members = [(m.get("email_address") or "", m.get("id") or "") for m in page]
        after = offset + len(page)
        more = page and after < int(data.get("total_items") or 0)
        return MemberPage(members, str(after) if more else None)
