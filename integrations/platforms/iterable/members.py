"""Who is in an Iterable list.

A list's members come as one newline-separated text of emails (`GET /api/lists/getUsers
?listId=`, text/plain, 5 requests a minute per project: specs/iterable/api-docs.json getUsers),
not in pages: the whole list is one page.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API
from integrations.platforms.types import MemberPage


class IterableMembers(PlatformClient):
    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        response = self.request(
            "GET", API, "/api/lists/getUsers", params={"listId": remote_id}, rate="lists.getUsers"
        )
        emails = (line.strip() for line in response.text.splitlines())
        return MemberPage([(email, "") for email in emails if "@" in email], None)
