"""Mailchimp's constants and small pure helpers: surface, data centres, status and type maps."""

from __future__ import annotations

import hashlib
import re

API = "api"
AUTO = "auto"
DATA_CENTRES = tuple(f"us{n}" for n in range(1, 22))
_DC = re.compile(r"^[a-z]{2,4}\d{1,3}$")
_HOST = re.compile(r"^(?:[a-z]{2,4}\d{1,3}\.)?api\.mailchimp\.com$")
BATCH_MAX = 500
# Roles that may not change audience members (Mailchimp user levels).
_READ_ONLY_ROLES = {"viewer", "author"}
# SharpSend status → what the member should become. A subscribed reader is only subscribed when
# new (status_if_new): re-subscribing someone who left in Mailchimp is theirs to do.
_STATUS = {
    "subscribed": "subscribed",
    "unsubscribed": "unsubscribed",
    "bounced": "unsubscribed",
    "cleaned": "unsubscribed",
}
_FIELD_TYPES = {
    "number": "number",
    "date": "date",
    "birthday": "date",
    "address": "object",
}
# Words in Mailchimp's per-member error text that mean "refused for compliance".
_COMPLIANCE_WORDS = (
    "compliance state",
    "permanently deleted",
    "forgotten",
    "unsubscribed",
    "cleaned",
)


def key_data_centre(key: str) -> str:
    """`us6` from `0123…-us6`; "" when the key carries no data centre."""
    _, dash, suffix = (key or "").rpartition("-")
    return suffix.lower() if dash and _DC.match(suffix.lower()) else ""


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 of the lower-cased address."""
    return hashlib.md5(email.strip().lower().encode()).hexdigest()  # noqa: S324 - an id, not security


def member_email(entry: dict) -> str:
    """The lower-cased address a batch-subscribe answer entry names."""
    return str(entry.get("email_address") or "").strip().lower()
