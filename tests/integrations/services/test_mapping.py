"""Checking field mappings against a platform, and mapping subscribers to payloads."""

from datetime import UTC, datetime

import pytest

from audience.models import Subscriber, SubscriberStatus
from integrations.models import FieldMapping
from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.iterable import IterableClient
from integrations.platforms.types import TargetField
from integrations.services.mapping import (
    MappingError,
    check_mappings,
    compile_mapper,
    compile_reverse,
    payload_hash,
    reads_back,
)


def mapping(source, target, transform="", identifier=False):
    return FieldMapping(source=source, target=target, transform=transform, is_identifier=identifier)


class FixedSchemaPlatform(IterableClient):
    """Iterable's declarations, but without creating fields on first write."""

    accepts_new_fields = False


def test_no_mappings_is_a_problem():
    assert check_mappings([], CustomerIoClient, None) == [
        "No fields are mapped: map at least the identifier (email)."
    ]


def test_exactly_one_identifier_is_required():
    problems = check_mappings([mapping("email", "email")], CustomerIoClient, None)
    assert problems == ["Exactly one mapping must be marked as the identifier."]


def test_the_identifier_must_be_one_the_platform_identifies_by():
    problems = check_mappings([mapping("email", "mail", identifier=True)], IterableClient, None)
    assert problems == [
        "Iterable identifies contacts by email or userId; 'mail' cannot be the identifier."
    ]


def test_unknown_sources_are_named():
    problems = check_mappings(
        [
            mapping("email", "email", identifier=True),
            mapping("shoe_size", "x"),
            mapping("attributes.", "y"),
        ],
        CustomerIoClient,
        None,
    )
    assert "'shoe_size' is not a subscriber field or attributes.<key>." in problems
    assert "A custom attribute source needs a key: attributes.<key>." in problems


def test_a_target_the_platform_lacks_is_refused_where_fields_are_fixed():
    fields = [TargetField("email", "Email"), TargetField("firstName", "First name")]
    rows = [
        mapping("email", "email", identifier=True),
        mapping("first_name", "firstName"),
        mapping("attributes.plan", "plan"),
    ]
    problems = check_mappings(rows, FixedSchemaPlatform, fields)
    assert problems == [
        "Iterable has no field 'plan' (mapped from custom attribute 'plan'). "
        "Create it in Iterable or pick another field."
    ]
    # A platform that creates attributes on first write accepts it.
    assert check_mappings(rows, IterableClient, fields) == []


def test_required_target_fields_must_be_mapped():
    fields = [TargetField("email", "Email"), TargetField("zip", "ZIP", required=True)]
    problems = check_mappings([mapping("email", "email", identifier=True)], IterableClient, fields)
    assert problems == ["Iterable requires the field 'zip': map it."]


@pytest.mark.django_db
def test_compiled_mapper_applies_transforms_and_omits_empty_values(make_integration):
    integration = make_integration(
        "customerio",
        mappings=[
            ("email", "email", "", True),
            ("first_name", "first_name", "upper", False),
            ("last_name", "last_name", "", False),
            ("status", "unsubscribed", "is_unsubscribed", False),
            ("attributes.plan", "plan", "", False),
            ("created_at", "created_at", "", False),
        ],
    )
    subscriber = Subscriber.objects.create(
        email="Ann@Example.com",
        first_name="ann",
        status=SubscriberStatus.UNSUBSCRIBED,
        attributes={"plan": "premium"},
    )
    mapper = compile_mapper(integration)
    assert mapper.columns == (
        "id",
        "email",
        "status",
        "first_name",
        "last_name",
        "attributes",
        "created_at",
    )
    row = Subscriber.objects.filter(pk=subscriber.pk).values_list(*mapper.columns).get()
    identifier, fields = mapper.map(row)
    assert identifier == "ann@example.com"
    assert fields["first_name"] == "ANN"
    assert "last_name" not in fields  # empty: never sent, so never clears the platform's value
    assert fields["unsubscribed"] is True
    assert fields["plan"] == "premium"
    assert isinstance(fields["created_at"], datetime)


@pytest.mark.django_db
def test_compile_mapper_raises_with_every_problem(make_integration):
    integration = make_integration("iterable", mappings=[("nope", "email", "", False)])
    with pytest.raises(MappingError) as error:
        compile_mapper(integration)
    assert "identifier" in str(error.value) and "'nope'" in str(error.value)


def test_payload_hash_is_stable_and_sensitive():
    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    a = payload_hash("a@example.com", {"x": 1, "y": when})
    assert a == payload_hash("a@example.com", {"y": when, "x": 1})
    assert a != payload_hash("a@example.com", {"x": 2, "y": when})
    assert a != payload_hash("b@example.com", {"x": 1, "y": when})


# --- read backwards (a profile import) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "transform", "identifier", "expected"),
    [
        ("first_name", "", False, True),
        ("last_name", "", False, True),
        ("attributes.plan", "", False, True),
        ("attributes.plan", "lower", False, False),  # "Gold" sent as "gold": not SharpSend's
        ("first_name", "upper", False, False),
        ("first_name", "strip", False, False),
        ("status", "is_subscribed", False, False),  # the platform's own state is read instead
        ("status", "", False, False),
        ("email", "", True, False),  # the key, not a value to write back
        ("created_at", "", False, False),  # SharpSend's own
        ("engagement_score", "", False, False),
        ("attributes.", "", False, False),
    ],
)
def test_only_reversible_mappings_to_profile_fields_and_attributes_read_back(
    source, transform, identifier, expected
):
    assert reads_back(mapping(source, "x", transform, identifier)) is expected


def test_the_reverse_mapper_turns_platform_fields_into_a_profile(make_integration):
    integration = make_integration(
        "mailchimp",
        mappings=[
            ("email", "email", "", True),
            ("first_name", "FNAME", "", False),
            ("last_name", "LNAME", "strip", False),
            ("attributes.interest", "INTEREST", "", False),
            ("status", "status", "", False),
        ],
    )
    reverse = compile_reverse(integration)
    assert reverse.sources == {"FNAME": "first_name", "INTEREST": "attributes.interest"}
    incoming = reverse.map_back(
        {"FNAME": "Ada", "LNAME": "Lovelace", "INTEREST": "growth", "OTHER": "x"}
    )
    assert incoming == {"first_name": "Ada", "attributes": {"interest": "growth"}}
    assert reverse.map_back({}) == {"attributes": {}}
