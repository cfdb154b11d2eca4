"""Who is in a Klaviyo list or segment, page by page, as (email, profile id).

Facts (../shared/platforms/klaviyo.md §6, §12; specs/klaviyo/stable.json
get_profiles_for_list and get_profiles_for_segment): `GET /api/lists/{id}/profiles` and
`GET /api/segments/{id}/profiles` take `fields[profile]` (sparse: the email only here),
`page[size]` (1 to 100) and `page[cursor]`, and answer JSON:API profile resources with
`links.next`, a full URL holding the next `page[cursor]`. That URL is never requested as
given: its cursor is kept (the console's resumable cursor) and the same path asked again with
it. Both are 75/s and 750/m (the client's default API rate stays under that); scopes
profiles:read with lists:read or segments:read.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.klaviyo.api import API, next_cursor
from integrations.platforms.klaviyo.segments import group_path
from integrations.platforms.types import MemberPage

MEMBERS_PER_PAGE = 100  # page[size] maximum of both operations


class KlaviyoMembers(PlatformClient):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        _, path = group_path(remote_id)
        params = {"fields[profile]": "email", "page[size]": MEMBERS_PER_PAGE}
        if cursor:
            params["page[cursor]"] = cursor
        data = self.request("GET", API, f"{path}/profiles", params=params).json()
        members = [
            (
                str((resource.get("attributes") or {}).get("email") or ""),
                str(resource.get("id") or ""),
            )
            for resource in data.get("data") or []
        ]
        return MemberPage(members, next_cursor((data.get("links") or {}).get("next")) or None)
