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


_EXISTING = """
SELECT identifier, attributes, suppressed FROM {table}
WHERE platform = %s AND account = %s AND identifier IN ({marks})
"""


def existing(platform: str, account: str, identifiers) -> dict[str, StoredContact]:
    """The stored contacts among `identifiers`, by identifier.

    Plain SQL rather than `identifier__in`: for a batch of thousands the ORM prepared each
    value one by one and decoded each row's JSON with the json module (measured).
    """
    identifiers = list(identifiers)
    if not identifiers:
        return {}
    sql = _EXISTING.format(
        table=connection.ops.quote_name(SandboxContact._meta.db_table),
        marks=", ".join(["%s"] * len(identifiers)),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [platform, account, *identifiers])
        rows = cursor.fetchall()
    return {
        identifier: StoredContact(_attributes(attrs), bool(suppressed))
        for identifier, attrs, suppressed in rows
    }


def _attributes(stored) -> dict:
    """A row's attributes: JSON text from SQLite, already decoded from PostgreSQL's jsonb."""
    if isinstance(stored, (str, bytes)):
        return orjson.loads(stored) or {}
    return stored or {}


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
