"""Iterable lists as segments, with their sizes."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API
from integrations.platforms.types import RemoteSegment


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
