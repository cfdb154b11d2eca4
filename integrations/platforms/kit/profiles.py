"""Every Kit subscriber, whatever their state, for a profile import (v4 cursor paging).

Facts (../shared/platforms/kit.md §3, §12): `GET /v4/subscribers` lists subscribers with
`id`, `first_name`, `email_address`, `state` and `fields` (custom field values keyed by the
field's key); `status` filters by state and defaults to active, so the import asks for `all`;
pages are `per_page` (at most 1000) and `after=<end_cursor>` while `has_next_page`.
"""

from __future__ import annotations

from integrations.platforms.kit.api import API, KitPaging
from integrations.platforms.types import ContactPage, RemoteProfile

PROFILES_PER_PAGE = 1000  # v4's per_page maximum
# Kit's subscriber state → SharpSend's; "inactive" (never confirmed) says nothing either way.
_STATUS = {
    "active": "subscribed",
    "cancelled": "unsubscribed",
    "bounced": "bounced",
    "complained": "complained",
}


class KitProfiles(KitPaging):
    def contacts_page(self, cursor: str | None) -> ContactPage:
        params = {"status": "all", "per_page": PROFILES_PER_PAGE}
        if cursor:
            params["after"] = cursor
        data = self.request("GET", API, "/v4/subscribers", params=params).json()
        profiles = [_profile(s) for s in data.get("subscribers") or []]
        pagination = data.get("pagination") or {}
        more = pagination.get("has_next_page") and pagination.get("end_cursor")
        return ContactPage(profiles, str(pagination["end_cursor"]) if more else None)


def _profile(subscriber: dict) -> RemoteProfile:
    fields = dict(subscriber.get("fields") or {})
    if subscriber.get("first_name") is not None:
        fields["first_name"] = subscriber["first_name"]
    return RemoteProfile(
        email=subscriber.get("email_address") or "",
        platform_id=str(subscriber.get("id") or ""),
        fields=fields,
        status=_STATUS.get(str(subscriber.get("state") or ""), ""),
    )
