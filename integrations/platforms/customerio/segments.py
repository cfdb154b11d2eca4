"""Customer.io segments (App API) with their customer counts."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP
from integrations.platforms.types import RemoteSegment


class CustomerIoSegments(PlatformClient):
    def list_segments(self) -> list[RemoteSegment]:
        data = self.request("GET", APP, "/v1/segments").json()
        return [
            RemoteSegment(str(s["id"]), s.get("name", ""), kind=s.get("type", ""))
            for s in data.get("segments", [])
        ]

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        path = f"/v1/segments/{remote_id}/customer_count"
        return int(self.request("GET", APP, path, max_wait=max_wait).json()["count"])
