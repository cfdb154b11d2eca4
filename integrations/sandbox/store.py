"""Storing what the emulators receive: contacts merged attribute by attribute."""

from __future__ import annotations

from typing import NamedTuple

import orjson
from django.db import connection, transaction
from django.utils import timezone

from integrations.platforms import rules
from integrations.sandbox.models import SandboxContact


class StoredContact(NamedTuple):
    attributes: dict
    suppressed: bool


def existing(platform: str, account: str, identifiers) -> dict[str, StoredContact]:
    rows = SandboxContact.objects.filter(
        platform=platform, account=account, identifier__in=list(identifiers)
    ).values_list("identifier", "attributes", "suppressed")
    return {
        identifier: StoredContact(attrs or {}, suppressed) for identifier, attrs, suppressed in rows
    }


_UPSERT = """
INSERT INTO {table} (platform, account, identifier, attributes, suppressed, created_at, updated_at)
VALUES (%s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (platform, account, identifier) DO UPDATE SET
    attributes = excluded.attributes, updated_at = excluded.updated_at
"""


def upsert(platform: str, account: str, changes: dict[str, dict], known: dict) -> None:
    """Create or update contacts: `changes` maps identifier → attributes to merge in.

    One executemany rather than bulk_create: a benchmark batch is thousands of contacts, and
    building a model instance for each was most of the emulator's time.
    """
    if not changes:
        return
    encode = _json_encoder()
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for identifier, attributes in changes.items():
        current = known.get(identifier)
        merged = {**(current.attributes if current else {}), **attributes}
        rows.append(
            (
                platform,
                account,
                identifier,
                encode(merged),
                False,
                now,
                now,
            )
        )
    sql = _UPSERT.format(table=connection.ops.quote_name(SandboxContact._meta.db_table))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(sql, rows)


def _json_encoder():
    """How an attributes dict becomes its column's value. On SQLite that is JSON text, which
    orjson writes several times faster than the json module Django uses (the same document,
    without the spaces); other databases get Django's own adaptation (PostgreSQL's jsonb)."""
    if connection.vendor == "sqlite":
        return lambda value: orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    field = SandboxContact._meta.get_field("attributes")
    return lambda value: field.get_db_prep_save(value, connection)


def looks_like_email(value) -> bool:
    """The platforms' address syntax, from the rules the platform classes declare."""
    return rules.email_syntax_ok(value)
