"""Importing subscribers from a CSV file.

The file has a header row. `email` is required; `first_name`, `last_name` and `status` are the
standard columns; every other column becomes a custom attribute. Rows are read one at a time
and written in chunks, so memory does not grow with the file (only the set of emails seen, to
report duplicates, does). Each bad row is reported with its line number and the reason; the
good rows are imported: created, or updated when a subscriber with that email (compared
case-insensitively) exists.

An empty cell means "no value": a new subscriber gets the default, an existing one keeps what
it has.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus, normalise_email

CHUNK_SIZE = 1000
STANDARD_COLUMNS = ("email", "first_name", "last_name", "status")
_MAX_LENGTHS = {
    "email": Subscriber._meta.get_field("email").max_length,
    "first_name": Subscriber._meta.get_field("first_name").max_length,
    "last_name": Subscriber._meta.get_field("last_name").max_length,
}
_STATUSES = {s.value for s in SubscriberStatus}


class ImportFileError(Exception):
    """The file cannot be imported (unreadable, not CSV/UTF-8, no email column).

    `report` holds what was imported before the problem was found (rows are committed a
    chunk at a time).
    """

    def __init__(self, message: str, report: ImportReport | None = None):
        super().__init__(message)
        self.message = message
        self.report = report


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
    errors: list[RowError] = field(default_factory=list)
    attribute_columns: list[str] = field(default_factory=list)

    @property
    def imported(self) -> int:
        return self.created + self.updated + self.unchanged

    @property
    def rows(self) -> int:
        """Data rows read (blank lines are not rows)."""
        return self.imported + len(self.errors)


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
    reader = csv.reader(_text_lines(fileobj))
    try:
        header = next(reader, None)
        if header is None:
            raise ImportFileError("The file is empty: expected a header row with an email column.")
        columns = _parse_header(header)
        report.attribute_columns = [name for name in columns if name not in STANDARD_COLUMNS]
        seen: dict[str, int] = {}
        chunk: list[_Row] = []
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue  # a blank line
            row = _parse_row(line, cells, columns, seen, report)
            if row is None:
                continue
            chunk.append(row)
            if len(chunk) >= chunk_size:
                _write(chunk, report)
                chunk = []
        if chunk:
            _write(chunk, report)
    except UnicodeDecodeError as exc:
        raise ImportFileError(
            f"Line {reader.line_num + 1} is not valid UTF-8 ({exc.reason}); save the file as "
            f"UTF-8 CSV. {report.imported} rows before it were imported.",
            report,
        ) from None
    except csv.Error as exc:
        raise ImportFileError(
            f"Line {reader.line_num}: not readable as CSV ({exc}). {report.imported} rows "
            "before it were imported.",
            report,
        ) from None
    return report


# --- reading --------------------------------------------------------------------------------


def _text_lines(fileobj) -> Iterator[str]:
    """Lines of text from a binary or text file object, without a leading UTF-8 BOM."""
    decoder = None
    first = True
    for line in fileobj:
        if isinstance(line, bytes):
            if decoder is None:
                decoder = codecs.getincrementaldecoder("utf-8-sig")()
            line = decoder.decode(line)
        elif first:
            line = line.removeprefix("\ufeff")
        first = False
        yield line
    if decoder is not None:
        tail = decoder.decode(b"", final=True)
        if tail:
            yield tail


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
