"""Klaviyo lists and segments, with their profile counts."""

from __future__ import annotations

from urllib.parse import quote

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.klaviyo.api import API, next_cursor
from integrations.platforms.types import RemoteSegment


class KlaviyoSegments(PlatformClient):
    """Lists and segments (both offered as segments) and each one's profile count."""

    def list_segments(self) -> list[RemoteSegment]:
        found = []
        for kind, path in (("list", "/api/lists"), ("segment", "/api/segments")):
            params: dict = {"page[size]": 10}
            while True:
                data = self.request("GET", API, path, params=params).json()
                for item in data.get("data", []):
                    attributes = item.get("attributes", {})
                    label = kind
                    if kind == "segment" and attributes.get("is_processing"):
                        label = "segment (processing)"
                    found.append(
                        RemoteSegment(f"{kind}:{item['id']}", attributes.get("name") or "", label)
                    )
                cursor = next_cursor((data.get("links") or {}).get("next"))
                if not cursor:
                    break
                params = {"page[size]": 10, "page[cursor]": cursor}
        return found

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, path = group_path(remote_id)
        data = self.request(
            "GET",
            API,
            path,
            params={f"additional-fields[{kind}]": "profile_count"},
            rate=f"{kind}_count",
            max_wait=max_wait,
        ).json()
        count = data["data"]["attributes"].get("profile_count")
        return int(count) if count is not None else None


def group_path(remote_id: str) -> tuple[str, str]:
    """A Segment's remote id (`list:<id>` or `segment:<id>`, as list_segments names them) as
    its kind and its API path, /api/lists/<id> or /api/segments/<id>."""
    kind, _, klaviyo_id = remote_id.partition(":")
    if kind not in ("list", "segment") or not klaviyo_id:
        raise ValidationFailed(f"Klaviyo: '{remote_id}' is not a list or segment id.")
    return kind, f"/api/{kind}s/{quote(klaviyo_id, safe='')}"
