"""Every Keap contact with its email's opt-in status, for a profile import (v2 page tokens).

Facts (../shared/platforms/keap.md §3, §4, §12; swagger.yml `listContacts`):
`GET /crm/rest/v2/contacts` with `page_size` (at most 1000), `page_token` (the answer's
`next_page_token`, empty at the end) and `fields` (the properties to include). Each entry of
`email_addresses` carries its `email_opt_status`; `custom_fields` come as `{id, content}`,
named by the contact model (`GET /contacts/model`). Keap forbids continuous full-database
polling: this is a one-off backfill an operator starts, not a loop.
"""

from __future__ import annotations

from integrations.platforms.keap.api import MARKETABLE, STANDARD
from integrations.platforms.keap.contacts import KeapContacts
from integrations.platforms.types import ContactPage, RemoteProfile

PROFILES_PER_PAGE = 1000  # page_size maximum
_FIELDS = ",".join(("id", "email_addresses", "phone_numbers", "custom_fields", *STANDARD))
# Keap's email opt-in status → SharpSend's. NON_MARKETABLE and UNENGAGED_NON_MARKETABLE (never
# opted in) say nothing either way; the marketable ones are subscribed.
_OPTED_OUT = {
    "BOUNCE": "bounced",
    "HARD_BOUNCE": "bounced",
    "INVALID": "bounced",
    "SPAM": "complained",
    "FEEDBACK": "complained",
    "MANUAL": "unsubscribed",
    "ADMIN": "unsubscribed",
    "SYSTEM": "unsubscribed",
    "LIST_UNSUBSCRIBE": "unsubscribed",
    "LOCKDOWN": "unsubscribed",
    "DEACTIVATED": "unsubscribed",
}


class KeapProfiles(KeapContacts):
    def contacts_page(self, cursor: str | None) -> ContactPage:
        params = {"page_size": PROFILES_PER_PAGE, "fields": _FIELDS}
        if cursor:
            params["page_token"] = cursor
        data = self.call("GET", "/contacts", params=params).json()
        names = {str(meta.get("id")): name for name, meta in self._load_model().items()}
        profiles = [_profile(contact, names) for contact in data.get("contacts") or []]
        return ContactPage(profiles, data.get("next_page_token") or None)


def _profile(contact: dict, custom_names: dict[str, str]) -> RemoteProfile:
    addresses = contact.get("email_addresses") or []
    primary = next((a for a in addresses if a.get("field") == "EMAIL1"), None)
    primary = primary or (addresses[0] if addresses else {})
    fields = {key: contact[key] for key in STANDARD if contact.get(key) is not None}
    phones = contact.get("phone_numbers") or []
    if phones and phones[0].get("number"):
        fields["phone"] = phones[0]["number"]
    for custom in contact.get("custom_fields") or []:
        name = custom_names.get(str(custom.get("id")))
        if name and custom.get("content") is not None:
            fields[name] = custom["content"]
    status = str(primary.get("email_opt_status") or "")
    return RemoteProfile(
        email=primary.get("email") or "",
        platform_id=str(contact.get("id") or ""),
        fields=fields,
        status="subscribed" if status in MARKETABLE else _OPTED_OUT.get(status, ""),
    )
