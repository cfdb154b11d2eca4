"""Front contact lists, and their member counts (counted page by page)."""

from __future__ import annotations

from urllib.parse import quote

from integrations.platforms.base import PlatformClient
from integrations.platforms.types import RemoteSegment


class FrontSegments(PlatformClient):
    """Contact lists offered as segments; Front gives no count, so members are counted."""

    def list_segments(self) -> list[RemoteSegment]:
        return [
            RemoteSegment(str(item["id"]), str(item.get("name", "")), kind="contact list")
            for item in self._pages("/contact_lists")
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        # Front gives no count: page through the list's contacts (100 a page).
        path = f"/contact_lists/{quote(remote_id, safe='')}/contacts"
        return sum(1 for _ in self._pages(path, max_wait=max_wait))
