"""Contact rules declared by the platforms: what they check, and that the emulators agree."""

import pytest

from integrations.platforms import rules
from integrations.platforms.registry import all_platforms, get_platform
from integrations.platforms.types import ContactRecord
from integrations.sandbox import campaign_monitor as campaign_monitor_sandbox
from integrations.sandbox import keap as keap_sandbox
from integrations.sandbox import sendgrid as sendgrid_sandbox
from integrations.sandbox import store


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("jürgen.müller@example.com", True),
        ("ada@example.co.uk", True),
        ("bad@@example.com", False),
        ("no-at.example.com", False),
        ("@example.com", False),
        ("ada@localhost", False),
        ("ada lovelace@example.com", False),
        (None, False),
    ],
)
def test_email_syntax_is_the_platforms_not_djangos(value, ok):
    assert rules.email_syntax_ok(value) is ok
    assert store.looks_like_email(value) is ok  # what every emulator checks


def test_max_length_counts_characters_or_bytes_and_names_the_field():
    chars = rules.MaxLength(3, ("name",))
    assert chars.violation("email", "a@b.co", {"name": "äää"}, {}) is None
    found = rules.MaxLength(3, ("name",), unit="bytes").violation(
        "email", "a@b.co", {"name": "äää"}, {}
    )
    assert found == rules.Violation("value_too_long", "name is 6 bytes; at most 3 allowed")
    assert chars.violation("email", "a@b.co", {"other": "xxxx"}, {}) is None


def test_max_length_checks_the_identifier_only_when_named():
    assert rules.MaxLength(5).violation("email", "long@example.com", {}, {}) is None
    assert rules.MaxLength(5, ("email",)).violation("email", "long@example.com", {}, {})


def test_typed_fields_loose_and_strict():
    loose, strict = rules.TypedFields(), rules.TypedFields(strict=True)
    types = {"age": "number", "plan": "string"}
    assert loose.violation("email", "a@b.co", {"age": "forty"}, types).code == "type_mismatch"
    assert loose.violation("email", "a@b.co", {"plan": 2, "age": 3}, types) is None
    assert strict.violation("email", "a@b.co", {"plan": 2}, types).message == (
        "plan: a number value for a string field"
    )
    assert strict.violation("email", "a@b.co", {"plan": None}, types) is None


def test_types_fixed_on_first_write_are_learnt_only_where_declared():
    types: dict = {}
    rules.learn_types([rules.TypedFields()], "email", {"plan": "free"}, types)
    assert types == {}
    rules.learn_types(
        [rules.TypedFields(fixed_on_first_write=True)], "email", {"plan": "free", "x": None}, types
    )
    assert types == {"plan": "string"}


@pytest.mark.parametrize("platform", all_platforms(), ids=lambda p: p.slug)
def test_every_platform_declares_its_contact_rules(platform):
    assert "contact_rules" in vars(platform), "declared on the platform class, not inherited"
    assert all(isinstance(rule, rules.Rule) for rule in platform.contact_rules)
    assert any(isinstance(rule, rules.EmailSyntax) for rule in platform.contact_rules)


def _limits(platform) -> dict[str, int]:
    return {
        field: rule.limit
        for rule in get_platform(platform).contact_rules
        if isinstance(rule, rules.MaxLength)
        for field in rule.fields
    }


def test_keap_emulator_enforces_the_declared_length_limits():
    declared = _limits("keap")
    assert declared.pop("email") == 75  # EMAIL1, checked by the emulator on email_addresses
    assert declared == keap_sandbox.MAX_LENGTHS


def test_sendgrid_emulator_enforces_the_declared_length_limits():
    emulated = {name: limit for name, _, limit in sendgrid_sandbox.RESERVED if limit}
    declared = _limits("sendgrid")
    assert declared and all(emulated[name] == limit for name, limit in declared.items())


def test_campaign_monitor_emulator_enforces_the_declared_custom_value_limit():
    (rule,) = [
        r for r in get_platform("campaign_monitor").contact_rules if isinstance(r, rules.MaxLength)
    ]
    assert rule.limit == campaign_monitor_sandbox.MAX_VALUE == 250
    assert rule.violation("email", "a@example.com", {"sector": "x" * 251}, {})
    assert rule.violation("email", "a@example.com", {"last_name": "x" * 251}, {}) is None


def test_keap_client_rejects_a_declared_length_locally_without_sending(make_integration):
    client = make_integration("keap").client()
    record = ContactRecord(1, "email", "a@example.com", {"family_name": "x" * 41})
    encoded, rejected = client.encode_records([record], client.entry_for)
    assert encoded == []
    assert [(r.code, r.message) for r in rejected] == [
        ("too_long", "family_name is 41 characters; at most 40 allowed")
    ]
