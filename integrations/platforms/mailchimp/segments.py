"""Mailchimp's segments and tags, with member counts."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.types import RemoteSegment


class MailchimpSegments(PlatformClient):
    """The audience's segments and tags (saved and static), and one's member count."""

    # --- segments and tags -------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments, offset = [], 0
        while True:
            data = self.request(
                "GET",
                API,
                f"{self.list_path}/segments",
                params={"count": 1000, "offset": offset},
            ).json()
            page = data.get("segments") or []
            segments += [
                RemoteSegment(
                    str(s["id"]),
                    s.get("name", ""),
                    kind=s.get("type", ""),
                    member_count=s.get("member_count"),
                )
                for s in page
            ]
            offset += len(page)
            if not page or offset >= int(data.get("total_items") or 0):
                return segments

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        data = self.request(
            "GET",
            API,
            f"{self.list_path}/segments/{remote_id}",
            params={"fields": "id,member_count"},
            max_wait=max_wait,
        ).json()
        count = data.get("member_count")
        return int(count) if count is not None else None
