"""Crisp's surface, quota, and the names of the profile targets the client's parts share."""

from __future__ import annotations

API = "api"
DEFAULT_QUOTA = 5000
# Profile targets (everything else is a custom data key).
PROFILE_TARGETS = {
    "nickname": ("person", "nickname"),
    "phone": ("person", "phone"),
    "company": ("company", "name"),
}
NAME_PARTS = ("first_name", "last_name")
SUBSCRIBED = "email_subscribed"
SEGMENTS = "segments"
RESERVED = {"email", SUBSCRIBED, SEGMENTS, *PROFILE_TARGETS, *NAME_PARTS}
PER_PAGE = 50
MAX_PAGES = 200
