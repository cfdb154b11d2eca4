"""Kit's surface, its segment kinds, and the cursor pagination every v4 list shares."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient

API = "api"
TAG, SEGMENT = "tag", "segment"


class KitPaging(PlatformClient):
    def _pages(self, path: str, key: str, params: dict | None = None, max_wait=None):
        """Every item of a cursor-paginated v4 list."""
        params = {"per_page": 1000, **(params or {})}
        while True:
            data = self.request("GET", API, path, params=params, max_wait=max_wait).json()
            yield from data.get(key) or []
            pagination = data.get("pagination") or {}
            if not pagination.get("has_next_page") or not pagination.get("end_cursor"):
                return
            params = {**params, "after": pagination["end_cursor"]}
