"""Campaign Monitor's scheduled sends: SendDate is a wall-clock time in the client's time zone.

Facts (../shared/platforms/campaign_monitor.md §3, §7, §14): `POST /campaigns/{id}/send.json`
takes `"SendDate": "YYYY-MM-DD HH:MM"` in the client's time zone (or "Immediately"); the zone is
read from `GET /clients/{clientid}.json` → `BasicDetails.TimeZone`, a display name such as
"(GMT+10:00) Canberra, Melbourne, Sydney" that gives the standard offset but no daylight-saving
rules. So the integration names the client's zone as an IANA name (its `time_zone` setting), the
console converts the UTC time with that zone's rules, and the pre-flight checks that the zone's
standard offset is the one Campaign Monitor shows. Unschedule: `POST /campaigns/{id}/
unschedule.json` (the campaign goes back to the drafts).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

SEND_DATE = "%Y-%m-%d %H:%M"
OFFSET = re.compile(r"^\((?:GMT|UTC)(?:([+-])(\d{1,2}):(\d{2}))?\)")


def zone_of(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError):
        return None


def send_date(send_at: datetime | None, zone: ZoneInfo | None) -> str:
    """SendDate for a send at `send_at` (UTC): the client's wall-clock time, or Immediately."""
    if send_at is None:
        return "Immediately"
    if zone is None:
        return "{client time zone not set}"  # the pre-flight refuses it
    return send_at.astimezone(zone).strftime(SEND_DATE)


def shown_offset(display: str) -> timedelta | None:
    """The standard offset in Campaign Monitor's display name of a time zone (None: unread)."""
    found = OFFSET.match(display.strip())
    if found is None:
        return None
    sign, hours, minutes = found.groups()
    if sign is None:
        return timedelta(0)
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return -delta if sign == "-" else delta


def standard_offset(zone: ZoneInfo, at: datetime) -> timedelta:
    local = at.astimezone(zone)
    return local.utcoffset() - (local.dst() or timedelta(0))


def schedule_problems(send_at: datetime, zone_name: str, display: str) -> list[str]:
    """Why `send_at` cannot be given to Campaign Monitor as SendDate ([] when it can)."""
    zone = zone_of(zone_name)
    if zone is None:
        return [
            "To schedule on Campaign Monitor, set the client's time zone on the integration "
            "(an IANA name such as Europe/London: Campaign Monitor takes the time in the "
            f"client's zone){f', not {zone_name!r}' if zone_name else ''}."
        ]
    problems = []
    shown = shown_offset(display)
    if shown is None or shown != standard_offset(zone, send_at):
        problems.append(
            f"The integration's time zone {zone_name} does not match the client's time zone "
            f"in Campaign Monitor ({display or 'not given'}): correct one of them."
        )
    if send_at.second or send_at.microsecond:
        problems.append("Campaign Monitor schedules to the minute: give a time with no seconds.")
    local = send_at.astimezone(zone).replace(tzinfo=None)
    if (
        local.replace(tzinfo=zone, fold=0).utcoffset()
        != local.replace(tzinfo=zone, fold=1).utcoffset()
    ):
        problems.append(
            f"{local:%Y-%m-%d %H:%M} in {zone_name} falls in a daylight-saving change, which "
            "Campaign Monitor's SendDate cannot tell apart: choose another time."
        )
    return problems
