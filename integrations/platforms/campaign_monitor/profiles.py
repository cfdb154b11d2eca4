"""Every subscriber of the Campaign Monitor list, state by state, for a profile import.

Facts (../shared/platforms/campaign_monitor.md §3, §6, §12): the list's members are read per
state, `GET /lists/{listid}/active.json` (and `unsubscribed`, `bounced`, `deleted`; also
`unconfirmed`, not read: those never confirmed), paged by `page` (from 1) and `pagesize`
(10–1000) with `orderfield`/`orderdirection`; the answer's `Results` hold `EmailAddress`,
`Name`, `State` and `CustomFields[{Key, Value}]` (a multi-select field repeats its Key), with
`PageNumber` and `NumberOfPages`. The cursor is "<state>:<page>".
"""

from __future__ import annotations

from integrations.platforms.campaign_monitor.api import PAGE_MAX, V, next_page, subscribers_page
from integrations.platforms.campaign_monitor.contacts import CampaignMonitorContacts
from integrations.platforms.types import ContactPage, RemoteProfile

PROFILES_PER_PAGE = PAGE_MAX
# The states read, in order, with the SharpSend status each stands for (a deleted subscriber
# was taken off the list in Campaign Monitor: never mailed again, so opted out).
STATES = {
    "active": "subscribed",
    "unsubscribed": "unsubscribed",
    "bounced": "bounced",
    "deleted": "unsubscribed",
}


class CampaignMonitorProfiles(CampaignMonitorContacts):
    def contacts_page(self, cursor: str | None) -> ContactPage:
        state, _, number = (cursor or "active:1").partition(":")
        if state not in STATES:
            raise ValueError(f"Not a Campaign Monitor import cursor: {cursor!r}")
        page = int(number or 1)
        path = f"{V}/lists/{self.list_id}/{state}.json"
        data = subscribers_page(self, path, page, PROFILES_PER_PAGE)
        profiles = [_profile(row, STATES[state]) for row in data.get("Results") or []]
        return ContactPage(profiles, _following(state, next_page(data, page)))


def _following(state: str, page: int | None) -> str | None:
    """The cursor at `page` of `state` (None: past its last), else the next state's first."""
    if page is not None:
        return f"{state}:{page}"
    states = list(STATES)
    position = states.index(state)
    return f"{states[position + 1]}:1" if position + 1 < len(states) else None


def _profile(row: dict, status: str) -> RemoteProfile:
    fields: dict = {}
    name = str(row.get("Name") or "").strip()
    if name:
        first, _, last = name.partition(" ")
        fields.update({"name": name, "first_name": first, "last_name": last.strip()})
    for custom in row.get("CustomFields") or []:
        key = str(custom.get("Key") or "").strip("[]")
        if not key:
            continue
        value = custom.get("Value")
        if key in fields:  # a multi-select field repeats its key: a list of its values
            previous = fields[key]
            fields[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            fields[key] = value
    return RemoteProfile(email=row.get("EmailAddress") or "", fields=fields, status=status)
