"""Front's surface and rate buckets, the contact targets, and the email alias of a contact."""

from __future__ import annotations

from urllib.parse import quote

API = "api"
# Rate names: an API token shares the company's bucket (50 a minute on Starter, the lowest
# plan); a partner OAuth app has its own bucket of 120 a minute per company.
TOKEN_RATE = API
OAUTH_RATE = "oauth"

CUSTOM = "custom_fields."
# Targets that are parts of the contact itself, not custom fields.
NAME_PARTS = ("first_name", "last_name")
CONTACT_KEYS = ("name", "description")
FIELD_TYPES = {
    "string": "string",
    "enum": "string",
    "number": "number",
    "boolean": "boolean",
    "datetime": "date",
    "teammate": "string",
    "inbox": "string",
}
PAGE = 100


def alias(email: str) -> str:
    """The contact resource alias of an email handle, escaped for a path segment."""
    return quote(f"alt:email:{email}", safe=":")
