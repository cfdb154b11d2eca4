"""Campaign Monitor's lists and segments of the client, with active-subscriber counts."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.types import RemoteSegment


class CampaignMonitorSegments(PlatformClient):
    """The client's lists and segments, and one's count of active subscribers."""

    # --- lists and segments --------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        lists = self.request("GET", API, f"{V}/clients/{self.client_id}/lists.json").json()
        segments = self.request("GET", API, f"{V}/clients/{self.client_id}/segments.json").json()
        return [
            RemoteSegment(f"list:{item['ListID']}", item.get("Name", ""), kind="list")
            for item in lists
        ] + [
            RemoteSegment(f"segment:{item['SegmentID']}", item.get("Title", ""), kind="segment")
            for item in segments
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, remote = remote_id.partition(":")
        if kind == "segment":
            data = self.request(
                "GET",
                API,
                f"{V}/segments/{remote}/active.json",
                params={"page": 1, "pagesize": 10},
                max_wait=max_wait,
            ).json()
            return int(data.get("TotalNumberOfRecords", 0))
        remote = remote if kind == "list" else remote_id
        data = self.request("GET", API, f"{V}/lists/{remote}/stats.json", max_wait=max_wait)
        return int(data.json().get("TotalActiveSubscribers", 0))
