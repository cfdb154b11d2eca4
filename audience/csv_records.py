"""CSV records read one at a time, so that one malformed record is reported alone.

Python's csv module parses the records; this module frames them. A record that cannot be
read (a byte that is not UTF-8, bad quoting, a quote that never closes) comes back as an
error at the line it starts on, and reading goes on with the next record. Without the framing
an unterminated quote swallows every line after it into one field, and one bad byte stops the
whole file.

A quoted field may legitimately span lines (an address with a line break), so a record may
take several lines; one that is still open after `max_record_lines`, or at the end of the
file, is an unterminated quote: the record is reported at its first line and the lines after
that line are read again as records of their own.
"""

from __future__ import annotations

import codecs
import csv
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

MAX_RECORD_LINES = 20


@dataclass(frozen=True)
class Record:
    """One CSV record: its cells, or why it could not be read; `line` is where it starts."""

    line: int
    cells: list[str] | None
    error: str = ""


class _RecordTooLong(Exception):
    pass


class _Lines:
    """The physical lines csv pulls, numbered and decoded one at a time."""

    def __init__(self, source: Iterator[tuple[int, str, str]], max_record_lines: int):
        self.source = source
        self.replay: deque[tuple[int, str, str]] = deque()
        self.max_record_lines = max_record_lines
        self.consumed: list[tuple[int, str, str]] = []

    def begin_record(self) -> None:
        self.consumed = []

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if len(self.consumed) >= self.max_record_lines:
            raise _RecordTooLong
        line = self.replay.popleft() if self.replay else next(self.source)
        self.consumed.append(line)
        return line[1]

    @property
    def start(self) -> int:
        return self.consumed[0][0]

    @property
    def decode_error(self) -> str:
        return next((error for _, _, error in self.consumed if error), "")


def read_records(
    fileobj: Iterable[Any], max_record_lines: int = MAX_RECORD_LINES
) -> Iterator[Record]:
    """Records of a CSV file object (binary UTF-8 or text; a leading BOM is dropped)."""
    lines = _Lines(_numbered_lines(fileobj), max_record_lines)
    reader = csv.reader(lines, strict=True)
    while True:
        lines.begin_record()
        try:
            cells = next(reader)
        except StopIteration:
            return
        except (_RecordTooLong, csv.Error) as exc:
            if not lines.consumed:
                return
            yield Record(lines.start, None, _reason(exc, lines.consumed))
            # The lines after the first are read again: csv's state after an error is
            # undefined, so a new reader takes over.
            lines.replay.extendleft(reversed(lines.consumed[1:]))
            reader = csv.reader(lines, strict=True)
            continue
        if lines.decode_error:
            yield Record(lines.start, None, lines.decode_error)
        else:
            yield Record(lines.start, cells)


def _reason(exc: Exception, consumed: list) -> str:
    # An error after the record ran on past its first line means a quote opened there that
    # did not close where it should have.
    if isinstance(exc, _RecordTooLong) or len(consumed) > 1 or "end of data" in str(exc):
        return "unterminated quote: a quoted field opens on this line and does not close"
    return f"not readable as CSV ({exc})"


def _numbered_lines(fileobj: Iterable[Any]) -> Iterator[tuple[int, str, str]]:
    """(line number, text, decoding error or "") for each physical line."""
    for number, raw in enumerate(fileobj, start=1):
        if isinstance(raw, bytes):
            if number == 1:
                raw = raw.removeprefix(codecs.BOM_UTF8)
            try:
                yield number, raw.decode("utf-8"), ""
            except UnicodeDecodeError as exc:
                bad = raw[exc.start : exc.start + 1].hex()
                error = f"not valid UTF-8 (byte 0x{bad} on line {number}); save the file as UTF-8"
                yield number, raw.decode("utf-8", errors="replace"), error
        else:
            yield number, raw.removeprefix("\ufeff") if number == 1 else raw, ""
