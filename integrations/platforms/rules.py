"""Contact rules a platform applies to the data it is sent, declared as data.

A platform class lists its rules (`contact_rules`); the same rule objects are applied by the
client's local checks before sending, by the mapping forecast, and by the sandbox's emulator
of that platform. This module imports nothing from the clients or the emulators, so both
sides may use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


@dataclass(frozen=True)
class Violation:
    """Why a platform refuses a contact: its error code and a short message."""

    code: str
    message: str


def email_syntax_ok(value: Any) -> bool:
    """The address syntax the platforms check: one "@", a local part, a dotted domain, no
    spaces. Non-ASCII characters are allowed (every platform accepts `müller@example.com`)."""
    if not isinstance(value, str) or value.count("@") != 1 or " " in value:
        return False
    local, _, domain = value.partition("@")
    return bool(local) and "." in domain


def value_kind(value: Any) -> str:
    """The kind of a mapped value, in the console's field types."""
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, datetime | date):
        return "date"
    if isinstance(value, dict | list):
        return "object"
    return "string"


def kind_fits(field_type: str, value: Any) -> bool:
    """Whether a value may be written to a field of the console's type `field_type`."""
    if value is None or field_type not in ("number", "boolean", "date"):
        return True
    return value_kind(value) == field_type


class Rule:
    """One check a platform makes of a contact (subclasses implement `violation`).

    `local`: the client checks it before sending (the record is rejected unsent) instead of
    leaving it to the platform.
    """

    local: bool = False

    def violation(
        self, identifier_field: str, identifier: Any, fields: Mapping[str, Any], types: Mapping
    ) -> Violation | None:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass(frozen=True)
class EmailSyntax(Rule):
    """The email identifier (or email field) must have the syntax of `email_syntax_ok`."""

    field: str = "email"
    code: str = "invalid_email"

    def violation(self, identifier_field, identifier, fields, types):
        value = identifier if identifier_field == self.field else fields.get(self.field)
        if value is None and identifier_field != self.field:
            return None
        if not email_syntax_ok(value):
            return Violation(self.code, f"'{value}' is not a valid email address")
        return None


@dataclass(frozen=True)
class MaxLength(Rule):
    """A text value may hold at most `limit` characters (or UTF-8 bytes); `fields` are the
    target fields it applies to, the identifier included when named (empty: every field
    but the identifier)."""

    limit: int
    fields: tuple[str, ...] = ()
    unit: str = "characters"
    code: str = "value_too_long"
    local: bool = False
    exempt: tuple[str, ...] = ()  # fields it does not apply to (when `fields` is empty)

    def size(self, value: str) -> int:
        return len(value.encode()) if self.unit == "bytes" else len(value)

    def too_long(self, name: str, value: Any) -> bool:
        return (
            (name in self.fields if self.fields else name not in self.exempt)
            and isinstance(value, str)
            and self.size(value) > self.limit
        )

    def violation(self, identifier_field, identifier, fields, types):
        values = {**fields, identifier_field: identifier}
        for name, value in values.items():
            if name == identifier_field and name not in self.fields:
                continue
            if self.too_long(name, value):
                return Violation(
                    self.code,
                    f"{name} is {self.size(value):,} {self.unit}; at most {self.limit:,} allowed",
                )
        return None


@dataclass(frozen=True)
class TypedFields(Rule):
    """A value must fit the type of the platform field it is written to (`types`: target
    field → the console's type, from the platform's field list).

    `strict`: a text field takes only text (otherwise it takes any value, converted).
    `fixed_on_first_write`: the first value written to a new field fixes its type, so later
    records must match it (see `learn_types`).
    """

    code: str = "type_mismatch"
    strict: bool = False
    fixed_on_first_write: bool = False

    def fits(self, field_type: str, value: Any) -> bool:
        if self.strict and value is not None:
            return value_kind(value) == field_type
        return kind_fits(field_type, value)

    def violation(self, identifier_field, identifier, fields, types):
        for name, value in fields.items():
            if name != identifier_field and name in types and not self.fits(types[name], value):
                return Violation(
                    self.code,
                    f"{name}: a {value_kind(value)} value for a {types[name]} field",
                )
        return None


def learn_types(
    rules: Iterable[Rule], identifier_field: str, fields: Mapping[str, Any], types: dict
) -> None:
    """After a contact is written: the types its values fixed, on a platform whose field
    types are fixed by the first write (added to `types`)."""
    if not any(isinstance(r, TypedFields) and r.fixed_on_first_write for r in rules):
        return
    for name, value in fields.items():
        if name != identifier_field and value is not None:
            types.setdefault(name, value_kind(value))


def first_violation(
    rules: Iterable[Rule],
    identifier_field: str,
    identifier: Any,
    fields: Mapping[str, Any],
    types: Mapping[str, str] | None = None,
) -> Violation | None:
    """The first rule a contact breaks, or None."""
    for rule in rules:
        found = rule.violation(identifier_field, identifier, fields, types or {})
        if found:
            return found
    return None


# The least a platform checks of an email-identified contact (platforms declare their own).
EMAIL_CONTACT_RULES: tuple[Rule, ...] = (EmailSyntax(),)
