"""Campaign Monitor's API surface, the path prefix of its v3.3 calls, and the paging of its
subscriber lists.

Paging (../shared/platforms/campaign_monitor.md §6, §12): a list's state lists
(`/lists/{listid}/active.json`, `unsubscribed`, `bounced`, `deleted`) and a segment's
`/segments/{segmentid}/active.json` take `page` (from 1), `pagesize` (10–1000), `orderfield`
and `orderdirection`, and answer `{"Results": [...], "PageNumber", "NumberOfPages", ...}`.
"""

from __future__ import annotations

API = "api"
V = "/api/v3.3"
PAGE_MAX = 1000  # pagesize's maximum
PAGE_MIN = 10  # pagesize's minimum


def subscribers_page(client, path: str, page: int, size: int = PAGE_MAX) -> dict:
    """One page of the subscribers at `path` (a state list), ordered by email ascending."""
    params = {"page": page, "pagesize": size, "orderfield": "email", "orderdirection": "asc"}
    return client.request("GET", API, path, params=params).json()


def next_page(data: dict, page: int) -> int | None:
    """The page after `page` of a paged answer, or None when `page` was its last."""
    return page + 1 if page < int(data.get("NumberOfPages") or 0) else None
