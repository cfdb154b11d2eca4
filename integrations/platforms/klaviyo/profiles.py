"""Every Klaviyo profile with its email marketing consent, for a profile import.

Facts (../shared/platforms/klaviyo.md §3, §12; specs/klaviyo/stable.json `get_profiles`):
`GET /api/profiles` (75/s, 750/m, scope profiles:read) pages by `page[cursor]` (follow
`links.next`) with `page[size]` at most 100; `additional-fields[profile]=subscriptions` adds
`subscriptions.email.marketing`: `consent` (SUBSCRIBED, UNSUBSCRIBED, NEVER_SUBSCRIBED …),
`can_receive_email_marketing` and `suppression[]` (reason HARD_BOUNCE, INVALID_EMAIL,
SPAM_COMPLAINT, UNSUBSCRIBE or USER_SUPPRESSED). Custom properties are under
`attributes.properties`, the location under `attributes.location`.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.klaviyo.api import API, ATTRIBUTE_KEYS, next_cursor
from integrations.platforms.types import ContactPage, RemoteProfile

PROFILES_PER_PAGE = 100  # page[size] maximum for profiles
_SUPPRESSED = {
    "HARD_BOUNCE": "bounced",
    "INVALID_EMAIL": "bounced",
    "SPAM_COMPLAINT": "complained",
    "UNSUBSCRIBE": "unsubscribed",
    "USER_SUPPRESSED": "unsubscribed",
}
# Consent without a suppression; NEVER_SUBSCRIBED (no consent recorded) says nothing.
_CONSENT = {"SUBSCRIBED": "subscribed", "UNSUBSCRIBED": "unsubscribed"}


class KlaviyoProfiles(PlatformClient):
    def contacts_page(self, cursor: str | None) -> ContactPage:
        params = {"page[size]": PROFILES_PER_PAGE, "additional-fields[profile]": "subscriptions"}
        if cursor:
            params["page[cursor]"] = cursor
        data = self.request("GET", API, "/api/profiles", params=params).json()
        profiles = [_profile(resource) for resource in data.get("data") or []]
        following = next_cursor((data.get("links") or {}).get("next"))
        return ContactPage(profiles, following or None)


def _profile(resource: dict) -> RemoteProfile:
    attributes = resource.get("attributes") or {}
    fields = {k: v for k, v in attributes.items() if k in ATTRIBUTE_KEYS and k != "email"}
    for name, value in (attributes.get("location") or {}).items():
        fields[f"location.{name}"] = value
    # A mapping may target a property by its bare name or as properties.<name> (contacts.py).
    for name, value in (attributes.get("properties") or {}).items():
        fields[name] = fields.get(name, value)
        fields[f"properties.{name}"] = value
    return RemoteProfile(
        email=attributes.get("email") or "",
        platform_id=str(resource.get("id") or ""),
        fields=fields,
        status=_status(attributes.get("subscriptions") or {}),
    )


def _status(subscriptions: dict) -> str:
    marketing = (subscriptions.get("email") or {}).get("marketing") or {}
    for suppression in marketing.get("suppression") or []:
        status = _SUPPRESSED.get(str(suppression.get("reason") or ""))
        if status:
            return status
    return _CONSENT.get(str(marketing.get("consent") or ""), "")
