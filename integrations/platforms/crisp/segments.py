"""Crisp segments: the free-text segments of profiles, with counts, from people/suggest."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.crisp.api import API, MAX_PAGES, PER_PAGE
from integrations.platforms.types import RemoteSegment


class CrispSegments(PlatformClient):
    """The suggest routes (segments and data keys, page by page) and segment counts."""

    def _suggestions(self, kind: str, max_wait: float | None = None):
        """Every item of people/suggest/<kind>/<page>, page by page until an empty one."""
        for page in range(1, MAX_PAGES + 1):
            items = (
                self.request(
                    "GET",
                    API,
                    f"{self.website}/people/suggest/{kind}/{page}",
                    params={"per_page": PER_PAGE},
                    max_wait=max_wait,
                ).json()
                or {}
            ).get("data") or []
            yield from items
            if len(items) < PER_PAGE:
                return

    def list_segments(self) -> list[RemoteSegment]:
        return [
            RemoteSegment(
                str(item["segment"]),
                str(item["segment"]),
                kind="segment",
                member_count=int(item["count"]) if item.get("count") is not None else None,
            )
            for item in self._suggestions("segments")
            if item.get("segment")
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        for item in self._suggestions("segments", max_wait=max_wait):
            if str(item.get("segment")) == remote_id:
                return int(item.get("count") or 0)
        return 0
