"""The mapping step's preview and forecast, computed without sending anything."""

import pytest

from audience.models import Subscriber, SubscriberStatus
from integrations.models import FieldMapping
from integrations.platforms.types import TargetField
from integrations.services import preview
from integrations.services.mapping import MappingError

pytestmark = pytest.mark.django_db


def m(source, target, identifier=False, transform=""):
    return FieldMapping(source=source, target=target, is_identifier=identifier, transform=transform)


@pytest.fixture
def audience():
    Subscriber.objects.create(
        email="ok@example.com", first_name="Ok", attributes={"zip": "10001", "age": 40}
    )
    Subscriber.objects.create(
        email="nozip@example.com", first_name="No", attributes={"age": "forty"}
    )
    Subscriber.objects.create(
        email="bad@@example", first_name="Bad", attributes={"zip": "1", "age": 3}
    )
    Subscriber.objects.create(email="left@example.com", status=SubscriberStatus.UNSUBSCRIBED)


def test_forecast_counts_what_would_be_sent_and_why_the_rest_would_not(make_integration, audience):
    integration = make_integration("iterable")
    targets = [
        TargetField("email", "Email"),
        TargetField("zip", "ZIP", "string", required=True),
        TargetField("age", "Age", "number"),
    ]
    rows = [m("email", "email", True), m("attributes.zip", "zip"), m("attributes.age", "age")]
    result = preview.forecast(integration, rows, targets)
    assert (result.total, result.would_send, result.excluded) == (4, 1, 1)
    # Named by the code Iterable's run records for it (its declared EmailSyntax rule).
    assert dict(result.reasons) == {"missing required value: zip": 1, "InvalidEmail": 1}
    assert result.type_mismatches == {"age": "str value for a number field"}
    [request] = result.payloads
    assert (request["method"], request["url"]) == (
        "POST",
        "https://api.iterable.com/api/users/bulkUpdate",
    )
    assert request["body"] == {
        "users": [{"email": "ok@example.com", "dataFields": {"zip": "10001", "age": 40}}],
        "createNewFields": True,
    }
    assert result.sampled == 1


@pytest.mark.parametrize("slug", ["iterable", "sendgrid", "keap", "kit"])
def test_forecast_sends_non_ascii_local_parts_as_the_platforms_do(make_integration, slug):
    Subscriber.objects.create(email="jürgen.müller@example.com", first_name="Jürgen")
    Subscriber.objects.create(email="bad@@example", first_name="Bad")
    integration = make_integration(slug)
    result = preview.forecast(integration, [m("email", "email", True)], None)
    assert (result.would_send, result.rejected) == (1, 1)


def test_forecast_names_a_declared_length_limit_as_the_run_records_it(make_integration):
    Subscriber.objects.create(email="long@example.com", last_name="L" * 51)
    Subscriber.objects.create(email="short@example.com", last_name="L" * 50)
    rows = [m("email", "email", True), m("last_name", "last_name")]
    result = preview.forecast(make_integration("sendgrid"), rows, None)
    assert (result.would_send, dict(result.reasons)) == (1, {"invalid contact": 1})


def test_forecast_refuses_unusable_mappings(make_integration, audience):
    with pytest.raises(MappingError):
        preview.forecast(make_integration("iterable"), [m("email", "email")], None)


def test_source_fields_list_standard_fields_and_every_custom_attribute_with_a_sample(audience):
    fields = {f.key: f for f in preview.source_fields()}
    assert fields["email"].sample == "ok@example.com"
    assert fields["attributes.zip"].sample == "10001"
    assert fields["attributes.age"].type == "number"
    assert preview.attribute_keys() == ["age", "zip"]


def test_suggestions_match_attributes_to_platform_fields_by_name(audience):
    from integrations.platforms.iterable import IterableClient

    class FixedFields(IterableClient):
        accepts_new_fields = False

    targets = [
        TargetField("email", "Email"),
        TargetField("ZIP", "ZIP"),
        TargetField("firstName", "First"),
    ]
    rows = preview.suggest_mappings(FixedFields, preview.source_fields(), targets)
    pairs = {(r["source"], r["target"]) for r in rows}
    assert ("email", "email") in pairs and ("first_name", "firstName") in pairs
    assert ("attributes.zip", "ZIP") in pairs
    assert not any(r["source"] == "attributes.age" for r in rows)  # no such field, none made


def test_target_fields_are_cached_until_refreshed(make_integration, monkeypatch):
    integration = make_integration("iterable")
    calls = []

    def listed(self):
        calls.append(1)
        return [TargetField("email", "Email")]

    monkeypatch.setattr(integration.platform_class, "list_fields", listed)
    assert preview.target_fields(integration, "fp")[0].key == "email"
    preview.target_fields(integration, "fp")
    assert len(calls) == 1
    preview.target_fields(integration, "fp", refresh=True)
    assert len(calls) == 2


@pytest.fixture
def large_audience():
    """2,000 readers: every 4th unsubscribed, every 10th without a valid email."""
    Subscriber.objects.bulk_create(
        Subscriber(
            email=f"reader{i}@example.com" if i % 10 else f"reader{i}@@bad",
            status=SubscriberStatus.UNSUBSCRIBED if i % 4 == 0 else SubscriberStatus.SUBSCRIBED,
        )
        for i in range(1, 2001)
    )


def test_a_large_audience_is_forecast_from_a_sample_within_its_margin(
    make_integration, large_audience, settings, django_assert_max_num_queries
):
    settings.FORECAST_EXACT_UP_TO, settings.FORECAST_SAMPLE_SIZE = 1000, 900
    settings.FORECAST_SAMPLE_SEED = 7  # one fixed draw: a 95 % margin misses 1 draw in 20
    integration = make_integration("iterable")
    # Unsubscribed: i % 4 == 0 (500); a bad email among the others: i % 20 == 10 (100).
    exact = {"excluded": 500, "rejected": 100, "would_send": 1400}
    with django_assert_max_num_queries(8):  # bounds, a count and one batch of ids
        result = preview.forecast(integration, [m("email", "email", True)], None)
    assert (result.total, result.estimated_from) == (2000, 900)
    for name, true_count in exact.items():
        estimate, plus_minus = getattr(result, name), result.margins[name]
        assert 0 < plus_minus < 100
        assert abs(estimate - true_count) <= plus_minus, (name, estimate, true_count)
    assert result.would_send + result.excluded + result.rejected == pytest.approx(2000, abs=3)


def test_an_audience_up_to_the_limit_is_forecast_exactly(
    make_integration, large_audience, settings
):
    settings.FORECAST_EXACT_UP_TO = 2000
    result = preview.forecast(make_integration("iterable"), [m("email", "email", True)], None)
    assert (result.estimated_from, result.margins) == (0, {})
    assert (result.would_send, result.excluded, result.rejected) == (1400, 500, 100)


def test_the_margin_shrinks_with_the_sample_and_vanishes_for_a_census():
    from integrations.services.sampling import margin

    assert margin(250_000, 20_000, 1_000_000) > margin(250_000, 80_000, 1_000_000) > 0
    assert margin(500, 2000, 2000) == 0
