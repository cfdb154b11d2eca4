"""Every member of the Mailchimp audience, for a profile import (offset-paged, 1,000 a page).

Facts (../shared/platforms/mailchimp.md §3, §12): `GET /3.0/lists/{list_id}/members` with
`count` (at most 1000) and `offset`, `total_items` in the answer, `fields=` to trim it. A member
carries `status` ∈ subscribed | unsubscribed | cleaned | pending | transactional (and archived
on newer accounts), `merge_fields` keyed by tag and `timestamp_signup`.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.types import ContactPage, RemoteProfile

PROFILES_PER_PAGE = 1000  # Mailchimp's `count` maximum
_FIELDS = (
    "members.id,members.email_address,members.status,members.merge_fields,"
    "members.timestamp_signup,total_items"
)
# Mailchimp's member status → SharpSend's. Pending (not confirmed yet), transactional (no
# marketing consent) and archived members say nothing either way.
_STATUS = {"subscribed": "subscribed", "unsubscribed": "unsubscribed", "cleaned": "cleaned"}


class MailchimpProfiles(PlatformClient):
    def contacts_page(self, cursor: str | None) -> ContactPage:
        offset = int(cursor or 0)
        data = self.request(
            "GET",
            API,
            f"{self.list_path}/members",
            params={"count": PROFILES_PER_PAGE, "offset": offset, "fields": _FIELDS},
        ).json()
        members = data.get("members") or []
        profiles = [_profile(member) for member in members]
        after = offset + len(members)
        more = members and after < int(data.get("total_items") or 0)
        return ContactPage(profiles, str(after) if more else None)


def _profile(member: dict) -> RemoteProfile:
    fields = dict(member.get("merge_fields") or {})
    if member.get("timestamp_signup"):
        fields["timestamp_signup"] = member["timestamp_signup"]
    return RemoteProfile(
        email=member.get("email_address") or "",
        platform_id=str(member.get("id") or ""),
        fields=fields,
        status=_STATUS.get(str(member.get("status") or ""), ""),
    )
