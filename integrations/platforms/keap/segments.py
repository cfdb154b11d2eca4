"""Keap's segments: tags, counted by paging through their contacts."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.types import RemoteSegment

PAGE = 1000  # v2's page_size maximum


class KeapSegments(PlatformClient):
    """Tags as segments, and a tag's member count."""

    # --- tags (Keap's segments) ----------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments, token = [], None
        while True:
            params = {"page_size": PAGE, **({"page_token": token} if token else {})}
            data = self.call("GET", "/tags", params=params).json()
            segments += [
                RemoteSegment(str(t["id"]), t.get("name", ""), kind="tag")
                for t in data.get("tags") or []
            ]
            token = data.get("next_page_token")
            if not token:
                return segments

    def _tagged(
        self, remote_id: str, token: str | None, max_wait: float | None = None, size: int = PAGE
    ) -> dict:
        """One page of `GET /tags/{id}/contacts` (id, email, names, applied_time)."""
        params = {"page_size": size, **({"page_token": token} if token else {})}
        return self.call(
            "GET", f"/tags/{remote_id}/contacts", params=params, max_wait=max_wait
        ).json()

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        """Keap gives no tag count: page through the tagged contacts (1,000 a call)."""
        count, token = 0, None
        while True:
            data = self._tagged(remote_id, token, max_wait)
            count += len(data.get("contacts") or [])
            token = data.get("next_page_token")
            if not token:
                return count
