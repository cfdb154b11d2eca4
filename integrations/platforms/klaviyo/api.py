"""Klaviyo's API constants (revision, media type, paths, profile attributes) and small helpers
the client's parts share."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

API = "api"
REVISION = "2026-07-15"
MEDIA_TYPE = "application/vnd.api+json"
JOBS = "/api/profile-bulk-import-jobs"

# Top-level profile attributes; every other target is a custom property.
PROFILE_ATTRIBUTES = (
    ("email", "Email", "email"),
    ("phone_number", "Phone number (E.164)", "string"),
    ("external_id", "External ID", "string"),
    ("first_name", "First name", "string"),
    ("last_name", "Last name", "string"),
    ("organization", "Organization", "string"),
    ("title", "Job title", "string"),
    ("locale", "Locale (e.g. en-US)", "string"),
    ("image", "Image URL", "string"),
)
LOCATION_FIELDS = (
    "address1", "address2", "city", "country", "region", "zip", "timezone", "ip",
    "latitude", "longitude",
)  # fmt: skip
ATTRIBUTE_KEYS = {key for key, _, _ in PROFILE_ATTRIBUTES}
ENVELOPE = b'{"data":{"type":"profile-bulk-import-job","attributes":{"profiles":{"data":[]}}}}'
# Words in an import error that mean Klaviyo holds the profile back for consent reasons.
COMPLIANCE_WORDS = ("suppress", "unsubscrib", "spam", "privacy", "deleted")
AUTH_CODES = {"not_authenticated", "authentication_failed"}


def identity(field: str, value) -> tuple[str, str]:
    text = str(value)
    return (field, text.lower() if field == "email" else text)


def pointer_index(pointer: str) -> int | None:
    """The profile index of a pointer like /data/attributes/profiles/data/3/attributes/email."""
    marker = "/profiles/data/"
    if marker not in pointer:
        return None
    head = pointer.split(marker, 1)[1].split("/", 1)[0]
    return int(head) if head.isdigit() else None


def error_message(error: dict) -> str:
    title, detail = error.get("title") or "", error.get("detail") or ""
    return f"{title}: {detail}" if title and detail and detail != title else (detail or title)


def next_cursor(url: str | None) -> str:
    if not url:
        return ""
    values = parse_qs(urlsplit(url).query).get("page[cursor]")
    return values[0] if values else ""


def value_type(value) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "string"
