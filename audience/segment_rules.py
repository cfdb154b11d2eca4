"""SharpSend segments: a small JSON rule language, validated and compiled to a Django Q.

A rule is a group or a condition:

    {"all": [rule, ...]}                       every rule holds (an empty group: everyone)
    {"any": [rule, ...]}                       at least one holds (an empty group: no one)
    {"not": rule}                              the rule does not hold
    {"field": "<name>", "op": "<operator>", "value": <value>}

Fields: the subscriber's first_name, last_name, email, status, created_at; engagement
opens_count, clicks_count, last_opened_at, last_clicked_at, sends_received, open_rate,
click_rate, engagement_score, last_interaction_at; a custom attribute as `attributes.<key>`;
membership of an imported platform segment (`platform_segment`, member_of / not_member_of its
id) and an A/B test's group (`experiment_group`). "Opened in the last 30 days" is
`{"field": "last_opened_at", "op": "within_days", "value": 30}`.

Everything is built with the ORM (lookups and JSON key transforms, values as parameters):
nothing from a rule is ever put into SQL text. A bad rule raises ValidationError naming the
condition (its path in the rule, e.g. `all[1].any[0]`) and what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Case, FloatField, JSONField, Q, Value, When, lookups
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import Cast
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from audience.models import SubscriberStatus

MAX_DEPTH = 8
MAX_CONDITIONS = 200
ATTRIBUTE_PREFIX = "attributes."
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,99}$")

STRING_OPS = ("eq", "neq", "contains", "not_contains", "starts_with", "ends_with", "in",
              "not_in", "is_set", "is_not_set")  # fmt: skip
NUMBER_OPS = ("eq", "neq", "gt", "gte", "lt", "lte", "in", "not_in")
DATE_OPS = ("before", "after", "within_days", "not_within_days", "is_set", "is_not_set")
STATUS_OPS = ("eq", "neq", "in", "not_in")
ATTRIBUTE_OPS = ("eq", "neq", "contains", "not_contains", "starts_with", "ends_with", "gt",
                 "gte", "lt", "lte", "in", "not_in", "is_set", "is_not_set")  # fmt: skip

# field → its type; the type decides the operators and values a condition may use.
FIELDS: dict[str, str] = {
    "email": "string",
    "first_name": "string",
    "last_name": "string",
    "status": "status",
    "created_at": "date",
    "opens_count": "number",
    "clicks_count": "number",
    "last_opened_at": "date",
    "last_clicked_at": "date",
    "sends_received": "number",
    "open_rate": "number",
    "click_rate": "number",
    "engagement_score": "number",
    "last_interaction_at": "date",
    # Membership of a segment imported from a platform (its integrations.Segment id), as
    # its members were last read in (integrations/services/membership.py).
    "platform_segment": "membership",
    # A group of an A/B test's split: {"experiment": id, "integration": id, "group": "A"}.
    "experiment_group": "experiment",
}
OPERATORS: dict[str, tuple[str, ...]] = {
    "string": STRING_OPS,
    "number": NUMBER_OPS,
    "date": DATE_OPS,
    "status": STATUS_OPS,
    "attribute": ATTRIBUTE_OPS,
    "membership": ("member_of", "not_member_of"),
    "experiment": ("in_group",),
}
_NO_VALUE = ("is_set", "is_not_set")
_LIST_OPS = ("in", "not_in")
_TEXT_LOOKUPS = {"contains": "icontains", "starts_with": "istartswith", "ends_with": "iendswith"}
_ORDER_LOOKUPS = {"gt": "gt", "gte": "gte", "lt": "lt", "lte": "lte"}


@dataclass(frozen=True)
class _Context:
    path: str
    condition: dict

    def error(self, problem: str) -> ValidationError:
        shown = {k: self.condition.get(k) for k in ("field", "op", "value") if k in self.condition}
        return ValidationError(
            f"Segment rule, condition {self.path or 'at the top'} {shown}: {problem}",
            code="invalid_rule",
        )


def compile_rules(rules: Any) -> Q:
    """The Q selecting the subscribers `rules` describes; ValidationError if it is not valid."""
    counter = [0]
    return _compile(rules, "", 0, counter)


def validate_rules(rules: Any) -> None:
    compile_rules(rules)


def describe_fields() -> dict[str, tuple[str, ...]]:
    """field (or `attributes.<key>`) → the operators it takes, for help texts."""
    described = {name: OPERATORS[kind] for name, kind in FIELDS.items()}
    described["attributes.<key>"] = ATTRIBUTE_OPS
    return described


def _compile(rule: Any, path: str, depth: int, counter: list[int]) -> Q:
    context = _Context(path, rule if isinstance(rule, dict) else {})
    if not isinstance(rule, dict):
        raise context.error(f"a rule is an object, not {type(rule).__name__}.")
    if depth > MAX_DEPTH:
        raise context.error(f"groups nest at most {MAX_DEPTH} deep.")
    groups = [key for key in ("all", "any", "not") if key in rule]
    if groups:
        if len(rule) != 1:
            raise context.error(f"a group has only its '{groups[0]}' key; found {sorted(rule)}.")
        key = groups[0]
        if key == "not":
            return ~_compile(rule["not"], _join(path, "not"), depth + 1, counter)
        members = rule[key]
        if not isinstance(members, list):
            raise context.error(f"'{key}' takes a list of rules.")
        compiled = [
            _compile(member, _join(path, f"{key}[{i}]"), depth + 1, counter)
            for i, member in enumerate(members)
        ]
        if not compiled:
            return Q() if key == "all" else Q(pk__in=[])
        combined = compiled[0]
        for q in compiled[1:]:
            combined = combined & q if key == "all" else combined | q
        return combined
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise context.error(f"a segment has at most {MAX_CONDITIONS} conditions.")
    return _condition(rule, context)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _condition(rule: dict, context: _Context) -> Q:
    unknown = set(rule) - {"field", "op", "value"}
    if unknown:
        raise context.error(f"unknown keys {sorted(unknown)} (a condition has field, op, value).")
    field, op = rule.get("field"), rule.get("op")
    if not isinstance(field, str) or not field:
        raise context.error("'field' is missing.")
    if field.startswith(ATTRIBUTE_PREFIX):
        key = field[len(ATTRIBUTE_PREFIX) :]
        if not _ATTRIBUTE_KEY.match(key) or "__" in key:
            raise context.error(
                f"'{key}' is not a custom attribute key (letters, digits, _ and -, no '__')."
            )
        kind = "attribute"
    elif field in FIELDS:
        key, kind = field, FIELDS[field]
    else:
        raise context.error(
            f"unknown field '{field}'. Fields: {', '.join(FIELDS)}, or attributes.<key>."
        )
    if op not in OPERATORS[kind]:
        raise context.error(
            f"operator '{op}' does not apply to {field} ({kind}); use one of "
            f"{', '.join(OPERATORS[kind])}."
        )
    if op in _NO_VALUE:
        if "value" in rule and rule["value"] is not None:
            raise context.error(f"'{op}' takes no value.")
        value = None
    elif "value" not in rule:
        raise context.error(f"'{op}' needs a value.")
    else:
        value = rule["value"]
    return _BUILDERS[kind](key, op, value, context)


# --- values --------------------------------------------------------------------------------


def _as_list(value, check: Callable[[Any], Any], context: _Context) -> list:
    if not isinstance(value, list) or not value:
        raise context.error("'in' and 'not_in' take a non-empty list of values.")
    return [check(item) for item in value]


def _string(context: _Context):
    def check(value):
        if not isinstance(value, str):
            raise context.error(f"the value must be text, not {type(value).__name__}.")
        return value

    return check


def _number(context: _Context):
    def check(value):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise context.error(f"the value must be a number, not {type(value).__name__}.")
        return value

    return check


def _scalar(context: _Context):
    def check(value):
        if not isinstance(value, str | int | float | bool):
            raise context.error("the value must be text, a number or true/false.")
        return value

    return check


def _days(value, context: _Context) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 36_500:
        raise context.error("the value is a whole number of days, 1 to 36500.")
    return value


def _moment(value, context: _Context) -> datetime:
    if isinstance(value, str):
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = datetime.combine(day, time.min) if day else None
        if moment is not None:
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment, timezone.get_current_timezone())
            return moment
    raise context.error("the value must be an ISO date or date-time, e.g. 2026-01-31.")


# --- builders, one a field type ------------------------------------------------------------


def _plain(key: str, op: str, value, check, context: _Context) -> Q:
    if op == "eq":
        return Q(**{f"{key}__iexact" if _is_text(value) else key: check(value)})
    if op == "neq":
        return ~Q(**{f"{key}__iexact" if _is_text(value) else key: check(value)})
    if op in _LIST_OPS:
        q = Q(**{f"{key}__in": _as_list(value, check, context)})
        return q if op == "in" else ~q
    if op in _ORDER_LOOKUPS:
        return Q(**{f"{key}__{_ORDER_LOOKUPS[op]}": check(value)})
    lookup = _TEXT_LOOKUPS[op.removeprefix("not_")]
    q = Q(**{f"{key}__{lookup}": check(value)})
    return ~q if op.startswith("not_") else q


def _is_text(value) -> bool:
    return isinstance(value, str)


def _string_condition(key: str, op: str, value, context: _Context) -> Q:
    if op in _NO_VALUE:
        q = ~Q(**{key: ""})
        return q if op == "is_set" else ~q
    return _plain(key, op, value, _string(context), context)


def _number_condition(key: str, op: str, value, context: _Context) -> Q:
    return _plain(key, op, value, _number(context), context)


def _status_condition(key: str, op: str, value, context: _Context) -> Q:
    known = set(SubscriberStatus.values)

    def check(item):
        if item not in known:
            raise context.error(f"'{item}' is not a status ({', '.join(sorted(known))}).")
        return item

    if op in _LIST_OPS:
        q = Q(status__in=_as_list(value, check, context))
        return q if op == "in" else ~q
    q = Q(status=check(value))
    return q if op == "eq" else ~q


def _date_condition(key: str, op: str, value, context: _Context) -> Q:
    if op in _NO_VALUE:
        return Q(**{f"{key}__isnull": op == "is_not_set"})
    if op in ("within_days", "not_within_days"):
        since = timezone.now() - timedelta(days=_days(value, context))
        q = Q(**{f"{key}__gte": since})
        # Never opened is "not within": a null date is outside every window.
        return q if op == "within_days" else ~q | Q(**{f"{key}__isnull": True})
    moment = _moment(value, context)
    return Q(**{f"{key}__lt" if op == "before" else f"{key}__gte": moment})


def _attribute_condition(key: str, op: str, value, context: _Context) -> Q:
    """A custom attribute: the key is a JSON key transform (a parameter), never a lookup path.

    Equality compares JSON values (80 is not "80"; text compares case-insensitively);
    ordering takes numbers, and a number written as text ("85", as CSV imports store them)
    counts as that number (anything else is never greater or less than a number);
    contains, starts_with and ends_with compare the value as text.
    """
    has_key = Q(attributes__has_key=key)  # the key is the lookup's value: a parameter
    if op in _NO_VALUE:
        return has_key if op == "is_set" else ~has_key
    value_json = KeyTransform(key, "attributes")
    value_text = KeyTextTransform(key, "attributes")
    if op in ("eq", "neq", "in", "not_in"):
        items = _as_list(value, _scalar(context), context) if op in _LIST_OPS else [value]
        q = Q(pk__in=[])
        for item in items:
            item = _scalar(context)(item)
            if isinstance(item, str):
                q |= Q(value_text.get_lookup("iexact")(value_text, item))
            else:
                q |= Q(
                    value_json.get_lookup("exact")(
                        value_json, Value(item, output_field=JSONField())
                    )
                )
        q &= has_key
        return q if op in ("eq", "in") else ~q
    if op in _ORDER_LOOKUPS:
        number = _number(context)(value)
        return Q(_ORDER_CLASSES[op](_attribute_number(value_text), number))
    text = _string(context)(value)
    lookup = _TEXT_LOOKUPS[op.removeprefix("not_")]
    q = Q(value_text.get_lookup(lookup)(value_text, text)) & has_key
    return ~q if op.startswith("not_") else q


def _attribute_number(value_text):
    """The attribute as a number where its text is one, else NULL (never a failed cast)."""
    is_number = value_text.get_lookup("regex")(value_text, _NUMBER_TEXT)
    return Case(
        When(is_number, then=Cast(value_text, FloatField())),
        default=None,
        output_field=FloatField(),
    )


_NUMBER_TEXT = r"^-?[0-9]+(\.[0-9]+)?$"
_ORDER_CLASSES = {
    "gt": lookups.GreaterThan,
    "gte": lookups.GreaterThanOrEqual,
    "lt": lookups.LessThan,
    "lte": lookups.LessThanOrEqual,
}


def _membership_condition(key: str, op: str, value, context: _Context) -> Q:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise context.error("the value is the id of an imported platform segment.")
    q = Q(platform_segments__segment_id=value)
    return q if op == "member_of" else ~q


def _experiment_condition(key: str, op: str, value, context: _Context) -> Q:
    if not isinstance(value, dict) or set(value) != {"experiment", "integration", "group"}:
        raise context.error('the value is {"experiment": id, "integration": id, "group": …}.')
    experiment, integration, group = value["experiment"], value["integration"], value["group"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (experiment, integration)):
        raise context.error("the experiment and the integration are ids.")
    if not isinstance(group, str) or not group:
        raise context.error("the group is a variant label, holdout or rest.")
    # One Q: the three lookups bind to the same ExperimentMember row.
    return Q(
        experiment_groups__experiment_id=experiment,
        experiment_groups__integration_id=integration,
        experiment_groups__group=group,
    )


_BUILDERS = {
    "membership": _membership_condition,
    "experiment": _experiment_condition,
    "string": _string_condition,
    "number": _number_condition,
    "status": _status_condition,
    "date": _date_condition,
    "attribute": _attribute_condition,
}
