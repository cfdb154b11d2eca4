"""SendGrid's lists and segments, with contact counts."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.sendgrid.api import API, _next_token
from integrations.platforms.types import RemoteSegment


class SendGridSegments(PlatformClient):
    """Marketing lists (paged) and segments, and one's contact count."""

    # --- lists and segments --------------------------------------------------------------------

    def list_segments(self) -> list[RemoteSegment]:
        segments = []
        token = None
        while True:
            params = {"page_size": 1000}
            if token:
                params["page_token"] = token
            data = self.request("GET", API, "/v3/marketing/lists", params=params).json()
            for item in data.get("result") or []:
                segments.append(
                    RemoteSegment(
                        f"list:{item['id']}",
                        item.get("name", ""),
                        kind="list",
                        member_count=item.get("contact_count"),
                    )
                )
            token = _next_token((data.get("_metadata") or {}).get("next"))
            if not token:
                break
        data = self.request("GET", API, "/v3/marketing/segments/2.0").json()
        for item in data.get("results") or []:
            segments.append(
                RemoteSegment(
                    f"segment:{item['id']}",
                    item.get("name", ""),
                    kind="segment",
                    member_count=item.get("contacts_count"),
                )
            )
        return segments

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        kind, _, remote = remote_id.partition(":")
        if kind == "segment":
            path = f"/v3/marketing/segments/2.0/{remote}"
            data = self.request("GET", API, path, max_wait=max_wait).json()
            return int(data.get("contacts_count", 0))
        remote = remote if kind == "list" else remote_id
        path = f"/v3/marketing/lists/{remote}/contacts/count"
        data = self.request("GET", API, path, max_wait=max_wait).json()
        return int(data.get("contact_count", 0))
