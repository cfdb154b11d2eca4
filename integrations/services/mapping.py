"""Field mappings: checking them against a platform, and turning subscribers into payloads."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from audience.models import STANDARD_FIELDS, SubscriberStatus
from audience.profiles import PROFILE_FIELDS
from integrations.models import FieldMapping, Integration, Transform
from integrations.platforms.types import TargetField

ATTRIBUTE_PREFIX = "attributes."

# Every column a mapping can read; a compiled Mapper reads only those it needs.
SUBSCRIBER_COLUMNS = ("id", "attributes", *STANDARD_FIELDS)
# Read whatever the mappings: the sync needs them to decide and to report.
ALWAYS_READ = ("id", "email", "status")


class MappingError(Exception):
    """The field mapping cannot be used; the message says what to fix."""


_TRANSFORMS: dict[str, Callable[[Any], Any]] = {
    Transform.NONE: lambda v: v,
    Transform.LOWER: lambda v: v.lower() if isinstance(v, str) else v,
    Transform.UPPER: lambda v: v.upper() if isinstance(v, str) else v,
    Transform.STRIP: lambda v: v.strip() if isinstance(v, str) else v,
    Transform.IS_UNSUBSCRIBED: lambda v: v != SubscriberStatus.SUBSCRIBED,
    Transform.IS_SUBSCRIBED: lambda v: v == SubscriberStatus.SUBSCRIBED,
}


def source_label(source: str) -> str:
    if source.startswith(ATTRIBUTE_PREFIX):
        return f"custom attribute '{source[len(ATTRIBUTE_PREFIX) :]}'"
    return f"field '{source}'"


def check_mappings(
    mappings: Sequence[FieldMapping],
    platform,
    target_fields: Sequence[TargetField] | None,
) -> list[str]:
    """Every problem that stops these mappings from working with `platform` (empty: usable).

    `target_fields` is what the platform listed; None when it cannot list its fields.
    """
    problems = []
    if not mappings:
        return ["No fields are mapped: map at least the identifier (email)."]
    identifiers = [m for m in mappings if m.is_identifier]
    if len(identifiers) != 1:
        problems.append("Exactly one mapping must be marked as the identifier.")
    elif identifiers[0].target not in platform.identifier_fields:
        allowed = " or ".join(platform.identifier_fields)
        problems.append(
            f"{platform.label} identifies contacts by {allowed}; '{identifiers[0].target}' "
            "cannot be the identifier."
        )
    known = {f.key for f in target_fields} if target_fields is not None else None
    for mapping in mappings:
        source = mapping.source
        if source.startswith(ATTRIBUTE_PREFIX):
            if not source[len(ATTRIBUTE_PREFIX) :]:
                problems.append("A custom attribute source needs a key: attributes.<key>.")
        elif source not in STANDARD_FIELDS:
            problems.append(f"'{source}' is not a subscriber field or attributes.<key>.")
        if (
            known is not None
            and not platform.accepts_new_fields
            and not mapping.is_identifier
            and mapping.target not in known
        ):
            problems.append(
                f"{platform.label} has no field '{mapping.target}' (mapped from "
                f"{source_label(source)}). Create it in {platform.label} or pick another field."
            )
    if target_fields is not None:
        mapped = {m.target for m in mappings}
        for field in target_fields:
            if field.required and field.key not in mapped:
                problems.append(f"{platform.label} requires the field '{field.key}': map it.")
    return problems


@dataclass(frozen=True)
class Mapper:
    """Compiled mappings: turns one subscriber row (of `columns`) into a payload.

    Each of `fields` is (target, column index, custom attribute key or None, transform or None
    for "as is", is the identifier): the column positions and transforms are looked up once
    when compiling, not for every subscriber (the sync maps every row it reads).
    """

    identifier_field: str
    columns: tuple[str, ...]
    fields: tuple[tuple[str, int, str | None, Callable[[Any], Any] | None, bool], ...]

    def map(self, row: tuple) -> tuple[str | None, dict[str, Any]]:
        identifier = None
        payload: dict[str, Any] = {}
        for target, index, key, transform, is_identifier in self.fields:
            value = row[index]
            if key is not None:
                value = value.get(key) if value else None
            if transform is not None:
                value = transform(value)
            if is_identifier:
                identifier = value
            if value is None or value == "":
                continue  # never clear a value on the platform by sending an empty one
            payload[target] = value
        return (str(identifier) if identifier not in (None, "") else None), payload


def _column(source: str) -> str:
    return "attributes" if source.startswith(ATTRIBUTE_PREFIX) else source


def _attribute_key(source: str) -> str | None:
    return source[len(ATTRIBUTE_PREFIX) :] if source.startswith(ATTRIBUTE_PREFIX) else None


def compile_mapper(integration: Integration, target_fields=None, mappings=None) -> Mapper:
    """Check the integration's mappings (or `mappings`) and compile them.

    Raises MappingError when they cannot be used.
    """
    platform = integration.platform_class
    if mappings is None:
        mappings = list(integration.field_mappings.all())
    problems = check_mappings(mappings, platform, target_fields)
    if problems:
        raise MappingError(" ".join(problems))
    columns = tuple(dict.fromkeys([*ALWAYS_READ, *(_column(m.source) for m in mappings)]))
    fields = tuple(
        (
            m.target,
            columns.index(_column(m.source)),
            _attribute_key(m.source),
            None if (m.transform or Transform.NONE) == Transform.NONE else _TRANSFORMS[m.transform],
            m.is_identifier,
        )
        for m in mappings
    )
    identifier = next(m.target for m in mappings if m.is_identifier)
    return Mapper(identifier_field=identifier, columns=columns, fields=fields)


def payload_hash(identifier: str | None, fields: dict[str, Any]) -> str:
    """A stable fingerprint of what would be sent (changed-only syncs compare it)."""
    encoded = orjson.dumps([identifier, fields], option=orjson.OPT_SORT_KEYS)
    return hashlib.blake2b(encoded, digest_size=16).hexdigest()


# --- the reverse direction: a platform's profile read back (a profile import) ------------------

# Transforms whose platform value is the SharpSend value: only "as is". Lower case, upper case
# and trimming lose what they changed (the platform holds "ada", SharpSend had "Ada"), and the
# subscribed?/unsubscribed? flags come from the status, which an import reads from the
# platform's own subscription state instead (RemoteProfile.status).
REVERSIBLE_TRANSFORMS = frozenset({Transform.NONE})


@dataclass(frozen=True)
class ReverseMapper:
    """The integration's mappings read backwards: platform field → SharpSend source.

    Only mappings a platform value may write back: a reversible transform, and a source that
    is a profile field (first and last name) or a custom attribute. The identifier (email) is
    the key, the status comes from the platform's state, and the other standard fields (dates,
    engagement) are SharpSend's own.
    """

    sources: dict[str, str]

    def map_back(self, fields: dict[str, Any]) -> dict[str, Any]:
        """The profile (first_name, last_name, attributes) a platform's fields become, in the
        form audience.profiles.merge_profile takes; fields nothing maps back are left out."""
        incoming: dict[str, Any] = {"attributes": {}}
        for target, source in self.sources.items():
            if target not in fields:
                continue
            if source.startswith(ATTRIBUTE_PREFIX):
                incoming["attributes"][source[len(ATTRIBUTE_PREFIX) :]] = fields[target]
            else:
                incoming[source] = fields[target]
        return incoming


def reads_back(mapping: FieldMapping) -> bool:
    """Whether a profile import writes this mapping's platform value back to its source."""
    source = mapping.source
    writable = source in PROFILE_FIELDS or (
        source.startswith(ATTRIBUTE_PREFIX) and len(source) > len(ATTRIBUTE_PREFIX)
    )
    return (
        writable
        and not mapping.is_identifier
        and (mapping.transform or Transform.NONE) in REVERSIBLE_TRANSFORMS
    )


def compile_reverse(integration: Integration, mappings=None) -> ReverseMapper:
    """The integration's mappings (or `mappings`) that a profile import reads back."""
    if mappings is None:
        mappings = list(integration.field_mappings.all())
    return ReverseMapper({m.target: m.source for m in mappings if reads_back(m)})
