"""What the mapping step shows: fields on both sides, suggestions, a preview and a forecast."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from audience.models import STANDARD_FIELDS, Subscriber, SubscriberStatus
from integrations.models import FieldMapping, Integration
from integrations.platforms import rules
from integrations.platforms.errors import PlatformError
from integrations.platforms.types import Capability, ContactRecord, TargetField
from integrations.services import sampling
from integrations.services.mapping import ATTRIBUTE_PREFIX, Mapper, compile_mapper

FIELDS_CACHE_SECONDS = 300
PREVIEW_SIZE = 5


def planned_requests(
    client, records: list[ContactRecord], update_existing: bool
) -> list[dict[str, Any]]:
    """The requests writing `records` becomes, as the client would send them, for people to
    read (method, URL, body, subscribers, note; never headers). Nothing is written."""
    return [
        client.show_request(planned)
        for planned in client.build_upsert_requests(records, update_existing)
    ]


@dataclass(frozen=True)
class SourceField:
    key: str
    label: str
    type: str
    sample: Any = None


def target_fields(
    integration: Integration, fingerprint: str, refresh: bool = False
) -> list[TargetField] | None:
    """The platform's fields for the mapping dropdowns, cached briefly (None: it lists none)."""
    client = integration.client()
    if not client.supports(Capability.LIST_FIELDS):
        return None
    key = f"target-fields:{fingerprint}"
    fields = None if refresh else cache.get(key)
    if fields is None:
        fields = client.list_fields()
        cache.set(key, fields, FIELDS_CACHE_SECONDS)
    return fields


def source_fields() -> list[SourceField]:
    """SharpSend's standard fields and every custom attribute key present, with a sample."""
    fields = []
    first = Subscriber.objects.order_by("id").values(*STANDARD_FIELDS).first() or {}
    for key, kind in STANDARD_FIELDS.items():
        fields.append(SourceField(key, key.replace("_", " ").capitalize(), kind, first.get(key)))
    for key in attribute_keys():
        sample = (
            Subscriber.objects.filter(attributes__has_key=key)
            .order_by("id")
            .values_list("attributes", flat=True)
            .first()
            or {}
        ).get(key)
        fields.append(
            SourceField(ATTRIBUTE_PREFIX + key, f"Custom: {key}", rules.value_kind(sample), sample)
        )
    return fields


def attribute_keys() -> list[str]:
    """Every key used in subscribers' custom attributes (one scan, done by the database)."""
    table = Subscriber._meta.db_table
    if connection.vendor == "postgresql":
        sql = f"SELECT DISTINCT jsonb_object_keys(attributes) FROM {table}"
    else:
        sql = f"SELECT DISTINCT j.key FROM {table}, json_each({table}.attributes) AS j"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sorted(row[0] for row in cursor.fetchall())


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def suggest_mappings(platform, sources: list[SourceField], targets: list[TargetField] | None):
    """First mappings: the platform's suggestions, then custom attributes matched by name."""
    known = {t.key for t in targets} if targets is not None else None
    rows = []
    for source, target, transform, identifier in platform.suggested_mappings:
        if identifier or known is None or target in known or platform.accepts_new_fields:
            rows.append(
                {
                    "source": source,
                    "target": target,
                    "transform": transform,
                    "is_identifier": identifier,
                }
            )
    used_targets = {r["target"] for r in rows}
    by_name = {_norm(t.key): t.key for t in targets or []}
    for source in sources:
        if not source.key.startswith(ATTRIBUTE_PREFIX):
            continue
        name = source.key[len(ATTRIBUTE_PREFIX) :]
        target = by_name.get(_norm(name)) or (name if platform.accepts_new_fields else None)
        if target and target not in used_targets:
            rows.append(
                {"source": source.key, "target": target, "transform": "", "is_identifier": False}
            )
            used_targets.add(target)
    return rows


@dataclass
class Forecast:
    """What a first full sync would do, computed without sending anything."""

    total: int = 0
    would_send: int = 0
    excluded: int = 0
    reasons: Counter = field(default_factory=Counter)
    payloads: list[dict] = field(default_factory=list)  # planned requests (planned_requests)
    sampled: int = 0  # subscribers the payloads carry
    payload_error: str = ""  # why the payloads could not be planned (a platform lookup failed)
    type_mismatches: dict[str, str] = field(default_factory=dict)
    # Above FORECAST_EXACT_UP_TO subscribers the counts are scaled from a uniform sample of
    # this many (0: every subscriber was mapped); margins are then the 95 % ones.
    estimated_from: int = 0
    margins: dict[str, int] = field(default_factory=dict)

    @property
    def rejected(self) -> int:
        return sum(self.reasons.values())

    @property
    def reason_counts(self) -> list[tuple[str, int, int]]:
        """(reason, count, margin), most common first (templates cannot read a Counter)."""
        return [(r, n, self.margins.get(r, 0)) for r, n in self.reasons.most_common()]

    def scale_to(self, population: int) -> None:
        """Turn counts over `estimated_from` sampled subscribers into estimates for all."""
        sampled = self.total
        self.estimated_from, self.total = sampled, population
        factor = population / sampled if sampled else 0
        self.would_send = round(self.would_send * factor)
        self.excluded = round(self.excluded * factor)
        self.reasons = Counter({r: round(n * factor) for r, n in self.reasons.items()})
        counts = {"would_send": self.would_send, "excluded": self.excluded,
                  "rejected": self.rejected, **self.reasons}  # fmt: skip
        self.margins = {
            name: sampling.margin(count, sampled, population) for name, count in counts.items()
        }


def forecast(
    integration: Integration,
    mappings: list[FieldMapping],
    targets: list[TargetField] | None,
    chunk: int = 5000,
) -> Forecast:
    """Map the audience as a first sync would, counting what would be rejected and why: every
    subscriber up to FORECAST_EXACT_UP_TO, a uniform sample of FORECAST_SAMPLE_SIZE above.

    Raises MappingError when the mappings are unusable.
    """
    mapper: Mapper = compile_mapper(integration, targets, mappings=mappings)
    client = integration.client()
    types = {t.key: t.type for t in targets or []}
    required = [t.key for t in targets or [] if t.required]
    status_index = mapper.columns.index("status")
    result = Forecast()
    sample: list[ContactRecord] = []
    audience = Subscriber.objects.count()
    estimate = audience > settings.FORECAST_EXACT_UP_TO
    pages = (
        [
            sampling.sampled_rows(
                mapper.columns, settings.FORECAST_SAMPLE_SIZE, settings.FORECAST_SAMPLE_SEED
            )
        ]
        if estimate
        else _pages(mapper.columns, chunk)
    )
    for rows in pages:
        for row in rows:
            result.total += 1
            if row[status_index] != SubscriberStatus.SUBSCRIBED:
                result.excluded += 1
                continue
            identifier, fields = mapper.map(row)
            record = ContactRecord(row[0], mapper.identifier_field, identifier, fields)
            _note_type_mismatches(types, fields, result)
            reason = _rejection(client, record, types, required)
            if reason:
                result.reasons[reason] += 1
                continue
            result.would_send += 1
            rules.learn_types(client.contact_rules, record.identifier_field, fields, types)
            if len(sample) < PREVIEW_SIZE:
                sample.append(record)
    if estimate:
        result.scale_to(audience)
    if sample:
        try:
            result.payloads = planned_requests(client, sample, integration.update_existing)
            result.sampled = len(sample)
        except PlatformError as exc:  # some platforms read their field definitions to plan
            result.payload_error = exc.message
    return result


def _pages(columns, chunk: int):
    """Every subscriber's row, a keyset page at a time."""
    last_id = 0
    while True:
        rows = list(
            Subscriber.objects.filter(id__gt=last_id).order_by("id").values_list(*columns)[:chunk]
        )
        if not rows:
            return
        last_id = rows[-1][0]
        yield rows


def _rejection(client, record: ContactRecord, types: dict, required: list[str]) -> str:
    """Why the platform would refuse this record, named as the run would record it (the
    code of the platform's declared rule it breaks), or ""."""
    if record.identifier is None:
        return "missing identifier"
    missing = [key for key in required if key not in record.fields]
    if missing:
        return f"missing required value: {', '.join(missing)}"
    violation = client.rule_violation(record, types)
    return violation.code.replace("_", " ") if violation else ""


def _note_type_mismatches(types: dict, fields: dict, result: Forecast) -> None:
    """Warn, once per target, of values that do not fit the target field's type."""
    for target, value in fields.items():
        if target in types and not rules.kind_fits(types[target], value):
            result.type_mismatches.setdefault(
                target, f"{type(value).__name__} value for a {types[target]} field"
            )
