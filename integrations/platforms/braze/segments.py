"""Braze segments: the list (100 a page) and each one's latest size estimate."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.braze.api import REST
from integrations.platforms.types import RemoteSegment


class BrazeSegments(PlatformClient):
    """Segments and their size estimates (read only: Braze segments are filters)."""

    def list_segments(self) -> list[RemoteSegment]:
        found, page = [], 0
        while True:
            segments = self._segment_page(page)
            found += [
                RemoteSegment(
                    str(s["id"]),
                    s.get("name", ""),
                    kind="segment"
                    if s.get("analytics_tracking_enabled")
                    else "segment (untracked)",
                )
                for s in segments
            ]
            if len(segments) < 100:
                return found
            page += 1

    def _segment_page(self, page: int) -> list[dict]:
        response = self.request(
            "GET", REST, "/segments/list", params={"page": page, "sort_direction": "desc"}
        )
        return response.json().get("segments", [])

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        """Braze's latest daily size estimate; None when the segment tracks no analytics."""
        response = self.request(
            "GET",
            REST,
            "/segments/data_series",
            params={"segment_id": remote_id, "length": 1},
            max_wait=max_wait,
        )
        data = response.json().get("data") or []
        sizes = [point.get("size") for point in data if point.get("size") is not None]
        return int(sizes[-1]) if sizes else None
