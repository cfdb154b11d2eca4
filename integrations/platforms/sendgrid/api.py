"""SendGrid's constants and pure helpers: surfaces and paths, the writable reserved fields,
key scopes, and the readers of its error lists and a job's errors file."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from urllib.parse import parse_qs, urlsplit

import orjson

from integrations.platforms.types import ContactRecord

API = "api"
DOWNLOAD = "download"  # the job's errors file: a URL SendGrid gives, fetched without our key

CONTACTS = "/v3/marketing/contacts"
IMPORTS = "/v3/marketing/contacts/imports"
FIELDS = "/v3/marketing/field_definitions"
GLOBAL_SUPPRESSIONS = "/v3/asm/suppressions/global"  # global unsubscribes (fact sheet §9)


def may_write_marketing(scopes: Sequence[str]) -> bool:
    """Whether a key's scopes (`GET /v3/scopes`) let it write Marketing contacts.

    sendgrid.md §2: Marketing read access shows up as read scopes only (`marketing.read`,
    `marketing.automation.read`); write access adds create/update scopes. Deciding from the
    scopes needs no write: an upsert with no contact would be refused on shape (400) before
    SendGrid looked at the key's permission, so it proves nothing.
    """
    return any(s.startswith("marketing") and not s.endswith(".read") for s in scopes)


# Reserved fields the contacts upsert takes at the top level: those of the spec's
# ContactRequest. Others SendGrid lists as reserved (phone_number, whatsapp, unique_name …)
# are not accepted there, and read-only ones are computed.
WRITABLE_RESERVED = (
    "email", "external_id", "anonymous_id", "phone_number_id", "first_name", "last_name",
    "alternate_emails", "address_line_1", "address_line_2", "city", "state_province_region",
    "postal_code", "country",
)  # fmt: skip
_FIELD_TYPES = {"Text": "string", "Number": "number", "Date": "date"}
_DONE = {"completed", "errored", "failed"}
# Words in an errors-file reason that mean the contact is refused for consent/suppression.
_COMPLIANCE_WORDS = ("suppress", "unsubscrib", "bounce", "spam", "blocked", "erase")
_CONTACT_FIELD = re.compile(r"^contacts\[(\d+)\]")
_IDENTIFIER_COLUMNS = ("email", "external_id", "phone_number_id", "anonymous_id")
_REASON_COLUMNS = ("error", "errors", "error_message", "message", "reason")


def _type_problem(record: ContactRecord, definitions: dict) -> str:
    """Why a mapped value cannot go into its SendGrid Number field ("" when it can)."""
    for name, value in record.fields.items():
        _, kind = definitions.get(name, (None, None))
        if kind != "Number" or isinstance(value, bool):
            if kind == "Number":
                return f"'{name}' is a Number field in SendGrid; got true/false."
            continue
        if isinstance(value, (int, float)):
            continue
        try:
            float(str(value))
        except ValueError:
            return f"'{name}' is a Number field in SendGrid; got {str(value)[:40]!r}."
    return ""


def _match_key(kind: str, value) -> tuple[str, str]:
    value = str(value).strip()
    return (kind, value.lower() if kind == "email" else value)


def _errors_by_index(errors: list, count: int) -> dict[int, str] | None:
    """{contact position: message} when every error names a contact (`contacts[3].email`)."""
    found: dict[int, str] = {}
    for error in errors:
        if not isinstance(error, dict):
            return None
        match = _CONTACT_FIELD.match(str(error.get("field") or ""))
        if not match or int(match.group(1)) >= count:
            return None
        index = int(match.group(1))
        message = f"{error.get('field')}: {error.get('message', '')}"
        found[index] = f"{found[index]}; {message}" if index in found else message
    return found or None


def _next_token(next_url: str | None) -> str | None:
    if not next_url:
        return None
    token = parse_qs(urlsplit(next_url).query).get("page_token", [""])[0]
    return token or None


def parse_errors_file(content: bytes) -> dict[tuple[str, str], str] | None:
    """A job's errors file → {(identifier kind, value): reason}.

    SendGrid does not document the file's layout. It is read as JSON (a list of rows, or
    {"errors": [...]}) or as CSV with a header; a row counts when it names an identifier
    (email, external_id …) and a reason (error, message …). None when nothing can be read.
    """
    text = content.decode("utf-8-sig", errors="replace").strip()
    if not text:
        return None
    rows: list[dict] = []
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        data = data.get("errors") or data.get("results")
    if isinstance(data, list):
        rows = [row for row in data if isinstance(row, dict)]
    elif data is None:
        reader = csv.DictReader(io.StringIO(text))
        rows = [row for row in reader if row]
    found: dict[tuple[str, str], str] = {}
    for row in rows:
        lowered = {str(k).strip().lower(): v for k, v in row.items() if k is not None}
        reason = next((lowered[c] for c in _REASON_COLUMNS if lowered.get(c)), None)
        if isinstance(reason, list):
            reason = "; ".join(
                str(r.get("message", r) if isinstance(r, dict) else r) for r in reason
            )
        if not reason:
            continue
        for column in _IDENTIFIER_COLUMNS:
            if lowered.get(column):
                found[_match_key(column, lowered[column])] = str(reason)
    if rows and not found:
        return None
    return found
