"""Importing subscribers from a CSV file.

The file has a header row. `email` is required; `first_name`, `last_name` and `status` are the
standard columns; every other column becomes a custom attribute. Rows are read one at a time
and written in chunks, so memory does not grow with the file (only the set of emails seen, to
report duplicates, does). Each bad row is reported with its line number and the reason (a byte
that is not UTF-8, bad quoting or a quote that never closes, a control character such as NUL,
an oversized cell, a bad email …) and every valid row is imported: created, or updated when a
subscriber with that email (compared case-insensitively) exists. A bad row never takes a valid
one with it, so imported + reported = the rows of the file.

An empty cell means "no value": a new subscriber gets the default, an existing one keeps what
it has.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audience.csv_records import read_records
from audience.models import Subscriber, SubscriberStatus, normalise_email
from audience.suppression import suppressed_among

CHUNK_SIZE = 1000
MAX_CELL_CHARS = 10_000
# NUL and the other C0/C1 controls; tab and line breaks (inside quoted cells) are kept.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
STANDARD_COLUMNS = ("email", "first_name", "last_name", "status")
_MAX_LENGTHS = {
    "email": Subscriber._meta.get_field("email").max_length,
    "first_name": Subscriber._meta.get_field("first_name").max_length,
    "last_name": Subscriber._meta.get_field("last_name").max_length,
}
_STATUSES = {s.value for s in SubscriberStatus}


class ImportFileError(Exception):
    """The file cannot be imported at all: it is empty, or its header row is unusable."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    # Rows for suppressed readers (forgotten, or not to be sent to: audience/suppression.py):
    # never recreated or re-subscribed, so their rows are skipped whole.
    suppressed: int = 0
    errors: list[RowError] = field(default_factory=list)
    attribute_columns: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows(self) -> int:
        """Data rows read (blank lines are not rows)."""
        return self.imported + self.suppressed + len(self.errors)


@dataclass
class _Row:
    line: int
    email: str
    values: dict[str, str]  # standard columns with a value (email excluded)
    attributes: dict[str, str]


def import_subscribers(
    fileobj: IO[Any] | Iterable[Any], chunk_size: int = CHUNK_SIZE
) -> ImportReport:
    """Import subscribers from a CSV file object (binary UTF-8, or text); see the module doc."""
    report = ImportReport()
    records = read_records(fileobj)
    header = next(records, None)
    if header is None:
        raise ImportFileError("The file is empty: expected a header row with an email column.")
    if header.cells is None:
        raise ImportFileError(f"The header row cannot be read: {header.error}.")
    columns = _parse_header(header.cells)
    report.attribute_columns = [name for name in columns if name not in STANDARD_COLUMNS]
    seen: dict[str, int] = {}
    chunk: list[_Row] = []
    for record in records:
        if record.cells is None:
            report.errors.append(RowError(record.line, record.error))
            continue
        if not any(cell.strip() for cell in record.cells):
            continue  # a blank line
        row = _parse_row(record.line, record.cells, columns, seen, report)
        if row is None:
            continue
        chunk.append(row)
        if len(chunk) >= chunk_size:
            _write(chunk, report)
            chunk = []
    if chunk:
        _write(chunk, report)
    return report


# --- reading --------------------------------------------------------------------------------


def _parse_header(header: list[str]) -> list[str]:
    columns = []
    for position, raw in enumerate(header, start=1):
        name = raw.strip()
        if name.lower() in STANDARD_COLUMNS:
            name = name.lower()
        if not name:
            raise ImportFileError(f"Column {position} of the header row has no name.")
        if name in columns:
            raise ImportFileError(f"The header row names the column '{name}' twice.")
        columns.append(name)
    if "email" not in columns:
        raise ImportFileError(
            "The header row has no 'email' column (found: " + ", ".join(columns) + ")."
        )
    return columns


def _parse_row(line, cells, columns, seen: dict[str, int], report: ImportReport) -> _Row | None:
    def bad(reason: str) -> None:
        report.errors.append(RowError(line, reason))

    if len(cells) != len(columns):
        bad(f"expected {len(columns)} columns, got {len(cells)}")
        return None
    for name, cell in zip(columns, cells, strict=True):
        if len(cell) > MAX_CELL_CHARS:
            bad(f"the {name} cell is longer than {MAX_CELL_CHARS:,} characters")
            return None
        control = _CONTROL.search(cell)
        if control:
            bad(f"the {name} cell holds a control character (U+{ord(control.group()):04X})")
            return None
    data = {name: cell.strip() for name, cell in zip(columns, cells, strict=True)}
    email = normalise_email(data["email"])
    if not email:
        bad("missing email")
        return None
    try:
        validate_email(email)
    except ValidationError:
        bad(f"invalid email '{data['email']}'")
        return None
    if len(email) > _MAX_LENGTHS["email"]:
        bad(f"email longer than {_MAX_LENGTHS['email']} characters")
        return None
    if email in seen:
        bad(f"duplicate email {email} (first on line {seen[email]})")
        return None
    values = {}
    for name in ("first_name", "last_name"):
        value = data.get(name, "")
        if len(value) > _MAX_LENGTHS[name]:
            bad(f"{name} longer than {_MAX_LENGTHS[name]} characters")
            return None
        if value:
            values[name] = value
    status = data.get("status", "").lower()
    if status:
        if status not in _STATUSES:
            expected = ", ".join(sorted(_STATUSES))
            bad(f"unknown status '{data['status']}' (expected one of {expected})")
            return None
        values["status"] = status
    attributes = {
        name: value for name, value in data.items() if name not in STANDARD_COLUMNS and value
    }
    seen[email] = line
    return _Row(line, email, values, attributes)


# --- writing --------------------------------------------------------------------------------


def _write(chunk: list[_Row], report: ImportReport) -> None:
    """Create or update one chunk of rows in one transaction."""
    suppressed = suppressed_among([row.email for row in chunk])
    if suppressed:
        report.suppressed += sum(1 for row in chunk if row.email in suppressed)
        chunk = [row for row in chunk if row.email not in suppressed]
    emails = [row.email for row in chunk]
    now = timezone.now()
    with transaction.atomic():
        existing = {
            s.email_ci: s
            for s in Subscriber.objects.annotate(email_ci=Lower("email")).filter(
                email_ci__in=emails
            )
        }
        to_create, to_update = [], []
        for row in chunk:
            subscriber = existing.get(row.email)
            if subscriber is None:
                to_create.append(
                    Subscriber(email=row.email, attributes=row.attributes, **row.values)
                )
                continue
            changed = subscriber.email != row.email
            subscriber.email = row.email
            for name, value in row.values.items():
                if getattr(subscriber, name) != value:
                    setattr(subscriber, name, value)
                    changed = True
            attributes = dict(subscriber.attributes or {})
            attributes.update(row.attributes)
            if attributes != subscriber.attributes:
                subscriber.attributes = attributes
                changed = True
            if changed:
                subscriber.updated_at = now
                to_update.append(subscriber)
            else:
                report.unchanged += 1
        Subscriber.objects.bulk_create(to_create)
        Subscriber.objects.bulk_update(
            to_update,
            ["email", "first_name", "last_name", "status", "attributes", "updated_at"],
        )
    report.created += len(to_create)
    report.updated += len(to_update)
