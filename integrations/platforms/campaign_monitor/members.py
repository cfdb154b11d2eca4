"""Who is in a Campaign Monitor list or segment: its active subscribers, page by page.

Facts (../shared/platforms/campaign_monitor.md §6, §12): a list's `GET /lists/{listid}/
active.json` and a segment's `GET /segments/{segmentid}/active.json`, both paged by `page`
(from 1) and `pagesize` (10–1000), ordered by email; each row's `EmailAddress` is the
subscriber (Campaign Monitor gives subscribers no id of their own). A segment is rules on
its list's fields, so its active subscribers are whoever matches them now. The lists the
console pushes (segment_push.py) are lists too. The cursor is the next page's number.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import (
    PAGE_MAX,
    PAGE_MIN,
    V,
    next_page,
    subscribers_page,
)
from integrations.platforms.types import MemberPage

MEMBERS_PER_PAGE = PAGE_MAX
MEMBERS_PAGE_MIN = PAGE_MIN  # the smallest pagesize Campaign Monitor takes
SEGMENT = "segment"


class CampaignMonitorMembers(PlatformClient):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        """One page of the list's or segment's active subscribers as (email, "")."""
        if cursor is not None and not cursor.isdigit():
            raise ValueError(f"Not a Campaign Monitor member cursor: {cursor!r}")
        page = int(cursor or 1)
        kind, _, ref = remote_id.partition(":")
        if kind == SEGMENT:
            path = f"{V}/segments/{ref}/active.json"
        else:  # "list:<ListID>" (an imported or a pushed list), or a bare ListID
            path = f"{V}/lists/{ref if kind == 'list' else remote_id}/active.json"
        data = subscribers_page(self, path, page, MEMBERS_PER_PAGE)
        members = [(str(row.get("EmailAddress") or ""), "") for row in data.get("Results") or []]
        following = next_page(data, page)
        return MemberPage(members, str(following) if following is not None else None)
