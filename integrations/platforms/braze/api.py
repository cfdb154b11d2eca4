"""Braze's instances, fields and permissions, and small helpers the client's parts share."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from integrations.platforms.types import Capability

REST = "rest"

# instance → (REST endpoint, dashboard host): the published list (fact sheet §1).
INSTANCES = {
    "us-01": ("https://rest.iad-01.braze.com", "dashboard-01.braze.com"),
    "us-02": ("https://rest.iad-02.braze.com", "dashboard-02.braze.com"),
    "us-03": ("https://rest.iad-03.braze.com", "dashboard-03.braze.com"),
    "us-04": ("https://rest.iad-04.braze.com", "dashboard-04.braze.com"),
    "us-05": ("https://rest.iad-05.braze.com", "dashboard-05.braze.com"),
    "us-06": ("https://rest.iad-06.braze.com", "dashboard-06.braze.com"),
    "us-07": ("https://rest.iad-07.braze.com", "dashboard-07.braze.com"),
    "us-08": ("https://rest.iad-08.braze.com", "dashboard-08.braze.com"),
    "us-10": ("https://rest.iad-10.braze.com", "dashboard-10.braze.com"),
    "eu-01": ("https://rest.fra-01.braze.eu", "dashboard-01.braze.eu"),
    "eu-02": ("https://rest.fra-02.braze.eu", "dashboard-02.braze.eu"),
    "au-01": ("https://rest.au-01.braze.com", "dashboard.au-01.braze.com"),
}

# Objects per /users/track call: 75 per array normally, 50 combined on the "Monthly Active
# Users CY 24-25" package.
OBJECTS_PER_REQUEST = {"75": 75, "50": 50}

ENVELOPE = b'{"attributes":[]}'
# Braze's own profile fields (user attributes object); any other name is a custom attribute.
STANDARD_FIELDS = (
    ("email", "Email", "email"),
    ("external_id", "External ID", "string"),
    ("first_name", "First name", "string"),
    ("last_name", "Last name", "string"),
    ("email_subscribe", "Email subscription (opted_in/subscribed/unsubscribed)", "string"),
    ("phone", "Phone", "string"),
    ("country", "Country (ISO 3166-1 alpha-2)", "string"),
    ("language", "Language (ISO 639-1)", "string"),
    ("home_city", "Home city", "string"),
    ("time_zone", "Time zone (IANA)", "string"),
    ("dob", "Date of birth (YYYY-MM-DD)", "date"),
    ("gender", "Gender", "string"),
)
STANDARD_KEYS = {key for key, _, _ in STANDARD_FIELDS}
CUSTOM_TYPES = {
    "string": "string",
    "number": "number",
    "integer": "number",
    "float": "number",
    "boolean": "boolean",
    "date": "date",
    "time": "date",
    "array": "array",
    "object": "object",
    "object array": "array",
}
# The permissions this console uses, as Braze names them (shown when one is missing).
PERMISSIONS = {
    "users.track": Capability.UPSERT_CONTACTS,
    "segments.list": Capability.LIST_SEGMENTS,
    "custom_attributes.get": Capability.LIST_FIELDS,
    "users.export.ids": Capability.EXPORT_CONTACT,
}

# The permission probes (braze.md §2: a key lacking a permission answers 403 on that endpoint).
# A made-up external id no profile carries: `_update_existing_only` means the track call
# creates nobody, and the export finds nobody (it lists the id under invalid_user_ids).
PROBE_EXTERNAL_ID = "sharpsend-permission-probe"
PROBE_TRACK = {"attributes": [{"external_id": PROBE_EXTERNAL_ID, "_update_existing_only": True}]}
PROBE_EXPORT = {"external_ids": [PROBE_EXTERNAL_ID], "fields_to_export": ["external_id"]}


MISSING_EFFECT = {
    "segments.list": "segment import is unavailable",
    "custom_attributes.get": "the mapping offers only Braze's standard fields",
    "users.export.ids": "data exports are unavailable",
}


def error_text(error) -> str:
    if isinstance(error, dict):
        return str(error.get("type") or error.get("message") or error)
    return str(error)


def next_cursor(response) -> str:
    """The cursor of the `Link: <…?cursor=…>; rel="next"` header, if any."""
    link = response.links.get("next", {}).get("url", "")
    values = parse_qs(urlsplit(link).query).get("cursor") if link else None
    return values[0] if values else ""


def chunks(groups, size: int):
    """Split byte-packed groups further so none holds more than `size` objects."""
    for group in groups:
        for start in range(0, len(group), size):
            yield group[start : start + size]
