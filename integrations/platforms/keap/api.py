"""Keap's constants and pure helpers: surface and paths, opt-in states, the standard contact
properties, the run warning, and the readers of its quota headers."""

from __future__ import annotations

from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

from integrations import clock

API = "api"
V2 = "/crm/rest/v2"
LEGACY_HOST = "api.infusionsoft.com"  # the same gateway as api.keap.com, used by most examples

# Email opt-in states (RestEmailAddressStatus.status in the spec).
MARKETABLE = frozenset({"UNENGAGED_MARKETABLE", "SINGLE_OPT_IN", "DOUBLE_OPT_IN", "CONFIRMED"})
# Non-marketable states Keap lets an API client opt back in from.
REOPTABLE = frozenset({"UNENGAGED_NON_MARKETABLE", "NON_MARKETABLE", "MANUAL"})
# Everything else (unsubscribes, bounces, complaints, lockdown …) stays non-marketable.

OPT_IN_REASON = "Subscribed to the newsletter (synced by SharpSend)"
OPT_OUT_REASON = "Unsubscribed from the newsletter (synced by SharpSend)"
SUPPRESS_REASON = "Do not sell / suppress request (SharpSend privacy request)"

# Standard contact properties a mapping can target: key → (label, type, max length or 0).
STANDARD = {
    "given_name": ("First name", "string", 40),
    "family_name": ("Last name", "string", 40),
    "middle_name": ("Middle name", "string", 100),
    "preferred_name": ("Preferred name", "string", 100),
    "prefix": ("Name prefix", "string", 0),
    "suffix": ("Name suffix", "string", 0),
    "job_title": ("Job title", "string", 255),
    "website": ("Website", "string", 100),
    "spouse_name": ("Spouse's name", "string", 100),
    "contact_type": ("Contact type", "string", 0),
    "time_zone": ("Time zone", "string", 0),
    "preferred_locale": ("Preferred locale", "string", 0),
    "referral_code": ("Referral code", "string", 0),
    "birth_date": ("Birth date", "date", 0),
    "anniversary_date": ("Anniversary date", "date", 0),
}
SPECIAL = {
    "email": ("Email (EMAIL1)", "email"),
    "phone": ("Phone (PHONE1)", "string"),
    "opt_in": ("Opted in to marketing email", "boolean"),
}
EMAIL1_MAX = 75

_FIELD_TYPES = {
    "DATE": "date",
    "DATE_TIME": "date",
    "WHOLE_NUMBER": "number",
    "DECIMAL_NUMBER": "number",
    "CURRENCY": "number",
    "PERCENT": "number",
    "YEAR": "number",
    "YES_NO": "boolean",
    "EMAIL": "email",
}
_UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400}
# When to tell the run that the daily quota is running out.
LOW_QUOTA_SHARE = 0.1

NO_BULK_WARNING = (
    "Keap has no bulk contact endpoint: every contact is one API call, so this sync is bounded "
    "by Keap's quota (1,500 calls a minute and 150,000 a day, shared by every Keap account "
    "connected to this console)."
)


EXPORT_FIELDS = (
    "addresses,anniversary_date,birth_date,company,contact_type,create_time,custom_fields,"
    "email_addresses,family_name,given_name,id,job_title,middle_name,origin,owner_id,"
    "phone_numbers,preferred_locale,preferred_name,prefix,source_type,spouse_name,suffix,"
    "tag_ids,time_zone,update_time,website"
)


def _path(email: str) -> str:
    return quote(email, safe="@")


def _as_date(value: Any) -> Any:
    """Keap's date properties take YYYY-MM-DD."""
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _bucket(headers, prefix: str) -> dict | None:
    """One of Keap's quota header families: limit, available, and its window in seconds."""
    available = _int(headers.get(f"{prefix}-available"))
    limit = _int(headers.get(f"{prefix}-limit"))
    if available is None and limit is None:
        return None
    unit = str(headers.get(f"{prefix}-time-unit") or "minute").lower().rstrip("s")
    interval = _int(headers.get(f"{prefix}-interval")) or 1
    return {
        "limit": limit,
        "available": available,
        "window": float(interval * _UNIT_SECONDS.get(unit, 60)),
    }


def _seconds_until(value) -> float | None:
    """Seconds until a quota expiry time: epoch milliseconds or seconds, or an HTTP date;
    without one, until the next midnight UTC (when Keap's daily quota renews)."""
    now = clock.now()
    number = _int(value)
    if number is not None:
        when = number / 1000 if number > 10**11 else number
        return max(0.0, when - now)
    if value:
        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - now)
        except (TypeError, ValueError):
            pass
    return 86400 - (now % 86400)
