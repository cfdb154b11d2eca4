"""Encoding: records as request entries, the platform's rules checked, entries grouped."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, date, datetime
from typing import Any

import orjson

from integrations.platforms import rules
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    RecordResult,
    TimestampFormat,
)

_AS_IS = frozenset({str, int, float, bool})


class Encoding:
    """Records as the platform's request entries, checked and grouped (a mixin)."""

    def format_value(self, value: Any) -> Any:
        """Turn dates into the platform's timestamp format; leave other values alone.

        A plain date is midnight UTC of that day, so a field keeps one type on the platform.
        """
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime(value.year, value.month, value.day, tzinfo=UTC)
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            fmt = self.limits.timestamp_format
            if fmt is TimestampFormat.UNIX_SECONDS:
                return int(value.timestamp())
            if fmt is TimestampFormat.UNIX_MILLISECONDS:
                return int(value.timestamp() * 1000)
            if fmt is TimestampFormat.SPACE_SEPARATED_UTC:
                return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            return value.isoformat()
        return value

    def format_fields(self, fields: dict[str, Any], leave_out: str | None = None) -> dict[str, Any]:
        """`fields` in the platform's formats, without the field `leave_out` (an entry that
        carries its identifier elsewhere)."""
        # Strings, numbers and flags are most values and stay as they are: format_value is
        # called only for the rest (every field of every record passes here on a sync).
        return {
            key: value if type(value) in _AS_IS else self.format_value(value)
            for key, value in fields.items()
            if key != leave_out
        }

    def entry_for(self, record: ContactRecord) -> dict:
        """The entry this record becomes in a batch request (platforms override with their
        shape); previews show whole requests (build_upsert_requests), not entries."""
        fields = {k: v for k, v in record.fields.items() if k != record.identifier_field}
        return {record.identifier_field: record.identifier, **self.format_fields(fields)}

    def rule_violation(
        self, record: ContactRecord, types: dict[str, str]
    ) -> rules.Violation | None:
        """The first of the platform's rules this record breaks (`types`: its target fields'
        types), the entry size limit included; None when the platform would take it. Checked
        in the order a run meets them: the client's local checks, then the platform's."""
        local, remote = self._rules_by_side()
        found = rules.first_violation(
            local, record.identifier_field, record.identifier, record.fields
        ) or self._size_violation(orjson.dumps(self.entry_for(record)))
        return found or rules.first_violation(
            remote, record.identifier_field, record.identifier, record.fields, types
        )

    @classmethod
    def _rules_by_side(cls) -> tuple[tuple[rules.Rule, ...], tuple[rules.Rule, ...]]:
        """(the rules the client checks before sending, those the platform checks)."""
        return (
            tuple(rule for rule in cls.contact_rules if rule.local),
            tuple(rule for rule in cls.contact_rules if not rule.local),
        )

    def _size_violation(self, raw: bytes) -> rules.Violation | None:
        limit = self.limits.record_max_bytes
        if len(raw) <= limit:
            return None
        return rules.Violation(
            "entry_too_large",
            f"{len(raw):,} bytes; {self.label} takes at most {limit:,} a contact.",
        )

    def encode_records(
        self, records: Sequence[ContactRecord], build: Callable[[ContactRecord], dict]
    ) -> tuple[list[tuple[ContactRecord, bytes]], list[RecordResult]]:
        """Encode each record's request entry. One that breaks a rule the client checks
        locally, or is over the platform's size limit, is rejected here, unsent, rather than
        failing its whole batch."""
        local, _ = self._rules_by_side()
        encoded, rejected = [], []
        for record in records:
            raw = orjson.dumps(build(record))
            found = rules.first_violation(
                local, record.identifier_field, record.identifier, record.fields
            ) or self._size_violation(raw)
            if found:
                hint = (
                    "Map fewer or shorter fields."
                    if found.code == "entry_too_large"
                    else "Correct the subscriber's data in SharpSend."
                )
                rejected.append(
                    RecordResult(
                        record.key,
                        Outcome.REJECTED_DATA,
                        code=found.code,
                        message=found.message,
                        hint=hint,
                    )
                )
            else:
                encoded.append((record, raw))
        return encoded, rejected

    def pack(
        self, items: Iterable[tuple[Any, bytes]], envelope_bytes: int
    ) -> Iterator[list[tuple[Any, bytes]]]:
        """Group encoded items so that each group's body stays within the batch limits.

        `envelope_bytes` is the size of the request body around the items; items are joined
        by one comma each.
        """
        group: list[tuple[Any, bytes]] = []
        size = envelope_bytes
        for item, encoded in items:
            added = len(encoded) + (1 if group else 0)
            if group and (
                size + added > self.limits.batch_max_bytes
                or len(group) >= self.limits.batch_max_records
            ):
                yield group
                group, size, added = [], envelope_bytes, len(encoded)
            group.append((item, encoded))
            size += added
        if group:
            yield group


def join_entries(envelope: bytes, entries: Sequence[bytes]) -> bytes:
    """A batch body: `envelope` with the encoded entries put into its last `[]`."""
    head, tail = envelope.rsplit(b"[]", 1)
    return head + b"[" + b",".join(entries) + b"]" + tail
