"""Iterable lists as segments, with their sizes and members.

A list's members come as one newline-separated text of emails (`GET /api/lists/getUsers
?listId=`, text/plain, 5 requests a minute per project: specs/iterable/api-docs.json getUsers),
not in pages: the whole list is one page.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API
from integrations.platforms.types import MemberPage, RemoteSegment


class IterableSegments(PlatformClient):
    def list_segments(self) -> list[RemoteSegment]:
        lists = self.request("GET", API, "/api/lists").json().get("lists", [])
        return [
            RemoteSegment(str(item["id"]), item.get("name", ""), kind=item.get("listType", ""))
            for item in lists
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        response = self.request(
            "GET", API, f"/api/lists/{remote_id}/size", rate="lists.size", max_wait=max_wait
        )
        return int(response.text.strip().strip('"'))

    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        response = self.request(
            "GET", API, "/api/lists/getUsers", params={"listId": remote_id}, rate="lists.getUsers"
        )
        emails = (line.strip() for line in response.text.splitlines())
        return MemberPage([(email, "") for email in emails if "@" in email], None)
