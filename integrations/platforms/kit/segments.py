"""Kit tags (with member counts) and segments (read-only, uncounted) as segments."""

from __future__ import annotations

from integrations.platforms.kit.api import API, SEGMENT, TAG, KitPaging
from integrations.platforms.types import RemoteSegment


class KitSegments(KitPaging):
    def list_segments(self) -> list[RemoteSegment]:
        tags = [
            RemoteSegment(f"{TAG}:{t['id']}", t.get("name", ""), kind=TAG)
            for t in self._pages("/v4/tags", "tags")
        ]
        found = [
            RemoteSegment(f"{SEGMENT}:{s['id']}", s.get("name", ""), kind=SEGMENT)
            for s in self._pages("/v4/segments", "segments")
        ]
        return tags + found

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, number = remote_id.partition(":")
        if kind != TAG:
            return None  # Kit's API gives no member list or count for segments
        data = self.request(
            "GET",
            API,
            f"/v4/tags/{number}/subscribers",
            params={"include_total_count": "true", "per_page": 1},
            max_wait=max_wait,
        ).json()
        total = (data.get("pagination") or {}).get("total_count")
        return int(total) if total is not None else None
