"""The segment rule compiler, against real rows."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from audience.models import AudienceSegment, Subscriber, SubscriberStatus
from audience.segment_rules import compile_rules

pytestmark = pytest.mark.django_db


def _reader(email, **fields):
    return Subscriber.objects.create(email=email, **fields)


@pytest.fixture
def readers():
    now = timezone.now()
    return {
        "ann": _reader(
            "ann@example.com",
            first_name="Ann",
            last_name="Lee",
            attributes={"interest": "crypto", "score": 90, "plan": "Pro", "vip": True},
            opens_count=12,
            clicks_count=3,
            last_opened_at=now - timedelta(days=2),
            last_clicked_at=now - timedelta(days=3),
        ),
        "bob": _reader(
            "bob@sample.org",
            first_name="Bob",
            attributes={"interest": "stocks", "score": 40},
            opens_count=1,
            last_opened_at=now - timedelta(days=45),
        ),
        "cat": _reader(
            "cat@example.com",
            first_name="Cat",
            status=SubscriberStatus.UNSUBSCRIBED,
            attributes={"interest": "crypto", "score": "85"},
        ),
        "dan": _reader("dan@example.com", attributes={}),
    }


def emails(rules) -> set[str]:
    return {s.email.split("@")[0] for s in Subscriber.objects.filter(compile_rules(rules))}


def cond(field, op, value=None):
    rule = {"field": field, "op": op}
    if value is not None:
        rule["value"] = value
    return rule


@pytest.mark.parametrize(
    ("rule", "expected"),
    [
        (cond("first_name", "eq", "ann"), {"ann"}),
        (cond("first_name", "neq", "Ann"), {"bob", "cat", "dan"}),
        (cond("email", "contains", "EXAMPLE"), {"ann", "cat", "dan"}),
        (cond("email", "not_contains", "example"), {"bob"}),
        (cond("email", "starts_with", "b"), {"bob"}),
        (cond("email", "ends_with", ".org"), {"bob"}),
        (cond("first_name", "in", ["Bob", "Cat"]), {"bob", "cat"}),
        (cond("first_name", "not_in", ["Bob", "Cat"]), {"ann", "dan"}),
        (cond("last_name", "is_set"), {"ann"}),
        (cond("last_name", "is_not_set"), {"bob", "cat", "dan"}),
        (cond("status", "eq", "unsubscribed"), {"cat"}),
        (cond("status", "neq", "subscribed"), {"cat"}),
        (cond("status", "in", ["subscribed", "bounced"]), {"ann", "bob", "dan"}),
        (cond("status", "not_in", ["subscribed"]), {"cat"}),
        (cond("opens_count", "gt", 1), {"ann"}),
        (cond("opens_count", "gte", 1), {"ann", "bob"}),
        (cond("opens_count", "lt", 1), {"cat", "dan"}),
        (cond("opens_count", "lte", 1), {"bob", "cat", "dan"}),
        (cond("opens_count", "eq", 12), {"ann"}),
        (cond("clicks_count", "neq", 0), {"ann"}),
        (cond("clicks_count", "in", [3, 4]), {"ann"}),
        (cond("clicks_count", "not_in", [3]), {"bob", "cat", "dan"}),
        (cond("last_opened_at", "within_days", 30), {"ann"}),
        (cond("last_opened_at", "not_within_days", 30), {"bob", "cat", "dan"}),
        (cond("last_clicked_at", "is_set"), {"ann"}),
        (cond("last_opened_at", "is_not_set"), {"cat", "dan"}),
        (cond("created_at", "after", "2000-01-01"), {"ann", "bob", "cat", "dan"}),
        (cond("created_at", "before", "2000-01-01T00:00:00Z"), set()),
        (cond("attributes.interest", "eq", "Crypto"), {"ann", "cat"}),
        (cond("attributes.interest", "neq", "crypto"), {"bob", "dan"}),
        (cond("attributes.score", "eq", 90), {"ann"}),
        (cond("attributes.score", "eq", "85"), {"cat"}),
        (cond("attributes.vip", "eq", True), {"ann"}),
        (cond("attributes.score", "gt", 80), {"ann", "cat"}),  # "85" counts as 85
        (cond("attributes.score", "gte", 40), {"ann", "bob", "cat"}),
        (cond("attributes.score", "lt", 50), {"bob"}),
        (cond("attributes.score", "lte", 89.5), {"bob", "cat"}),
        (cond("attributes.interest", "gt", 0), set()),  # text is never greater than a number
        (cond("attributes.interest", "in", ["stocks", "bonds"]), {"bob"}),
        (cond("attributes.interest", "not_in", ["stocks"]), {"ann", "cat", "dan"}),
        (cond("attributes.plan", "contains", "r"), {"ann"}),
        (cond("attributes.plan", "not_contains", "r"), {"bob", "cat", "dan"}),
        (cond("attributes.interest", "starts_with", "cry"), {"ann", "cat"}),
        (cond("attributes.interest", "ends_with", "ks"), {"bob"}),
        (cond("attributes.plan", "is_set"), {"ann"}),
        (cond("attributes.interest", "is_not_set"), {"dan"}),
    ],
)
def test_each_operator_selects_the_right_rows(readers, rule, expected):
    assert emails(rule) == expected


def test_groups_nest(readers):
    rules = {
        "all": [
            cond("attributes.interest", "eq", "crypto"),
            {
                "any": [
                    cond("last_opened_at", "within_days", 30),
                    cond("status", "eq", "unsubscribed"),
                ]
            },
            {"not": cond("first_name", "eq", "Cat")},
        ]
    }
    assert emails(rules) == {"ann"}


def test_empty_groups(readers):
    with pytest.raises(ValidationError, match="'field' is missing"):
        emails({})
    assert emails({"all": []}) == set(readers)
    assert emails({"any": []}) == set()


def test_the_issue_example(readers):
    rules = {
        "all": [
            cond("attributes.interest", "eq", "crypto"),
            cond("attributes.score", "gt", 80),
            cond("last_opened_at", "within_days", 30),
        ]
    }
    assert emails(rules) == {"ann"}


def test_a_hostile_attribute_key_or_value_is_only_ever_a_parameter(readers):
    with pytest.raises(ValidationError, match="not a custom attribute key"):
        compile_rules(cond("attributes.x') OR 1=1 --", "eq", "a"))
    with pytest.raises(ValidationError, match="not a custom attribute key"):
        compile_rules(cond("attributes.interest__contains", "eq", "a"))
    assert emails(cond("attributes.interest", "eq", "crypto' OR '1'='1")) == set()


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        (cond("age", "eq", 3), "all\\[0\\].*unknown field 'age'"),
        (cond("opens_count", "contains", "x"), "operator 'contains' does not apply"),
        (cond("opens_count", "gt", "ten"), "must be a number"),
        (cond("opens_count", "gt", True), "must be a number"),
        (cond("first_name", "eq", 3), "must be text"),
        (cond("status", "eq", "gone"), "'gone' is not a status"),
        (cond("last_opened_at", "within_days", 0), "whole number of days"),
        (cond("last_opened_at", "within_days", "30"), "whole number of days"),
        (cond("created_at", "before", "yesterday"), "ISO date"),
        (cond("first_name", "in", []), "non-empty list"),
        (cond("first_name", "in", "Bob"), "non-empty list"),
        (cond("first_name", "eq"), "needs a value"),
        (cond("last_name", "is_set", "x"), "takes no value"),
        ({"field": "email", "op": "eq", "value": "a", "extra": 1}, "unknown keys"),
        ({"op": "eq", "value": "a"}, "'field' is missing"),
        (cond("attributes.score", "gt", "80"), "must be a number"),
        (cond("attributes.x", "eq", {"a": 1}), "text, a number or true/false"),
    ],
)
def test_validation_errors_name_the_condition(rule, message):
    with pytest.raises(ValidationError, match=message):
        compile_rules({"all": [rule]})


def test_structural_errors():
    with pytest.raises(ValidationError, match="a rule is an object"):
        compile_rules([])
    with pytest.raises(ValidationError, match="takes a list"):
        compile_rules({"any": {"field": "email"}})
    with pytest.raises(ValidationError, match="only its 'all' key"):
        compile_rules({"all": [], "any": []})
    with pytest.raises(ValidationError, match="any\\[0\\].not"):
        compile_rules({"any": [{"not": cond("nope", "eq", 1)}]})
    deep = cond("email", "eq", "a")
    for _ in range(10):
        deep = {"all": [deep]}
    with pytest.raises(ValidationError, match="nest at most"):
        compile_rules(deep)


def test_segment_model_validates_and_selects(readers):
    segment = AudienceSegment(name="Crypto", slug="crypto", rules={"field": "nope"})
    with pytest.raises(ValidationError) as caught:
        segment.full_clean()
    assert "rules" in caught.value.message_dict
    segment.rules = cond("attributes.interest", "eq", "crypto")
    segment.full_clean()
    segment.save()
    assert {s.email for s in segment.members()} == {"ann@example.com", "cat@example.com"}


def test_admin_change_page_shows_live_count_and_sample(admin_client, readers):
    from django.urls import reverse

    segment = AudienceSegment.objects.create(
        name="Crypto", slug="crypto", rules=cond("attributes.interest", "eq", "crypto")
    )
    for i in range(25):
        _reader(f"z{i:02d}@example.com", attributes={"interest": "crypto"})
    url = reverse("admin:audience_audiencesegment_change", args=[segment.pk])
    content = admin_client.get(url).content.decode()
    assert "27" in content  # ann, cat and the 25 others
    assert "ann@example.com" in content and "z17@example.com" in content
    assert "z18@example.com" not in content  # the sample stops at 20
    AudienceSegment.objects.filter(pk=segment.pk).update(rules={"field": "age"})
    content = admin_client.get(url).content.decode()
    assert "unknown field" in content and "age" in content


def test_admin_refuses_an_invalid_rule(admin_client):
    from django.urls import reverse

    response = admin_client.post(
        reverse("admin:audience_audiencesegment_add"),
        {
            "name": "Bad",
            "slug": "bad",
            "rules": '{"field": "opens_count", "op": "gt", "value": "x"}',
        },
    )
    assert response.status_code == 200
    assert "must be a number" in response.content.decode()
    assert not AudienceSegment.objects.exists()


def _emails(rules):
    return set(Subscriber.objects.filter(compile_rules(rules)).values_list("email", flat=True))


def test_members_of_an_imported_platform_segment_and_engagement_fields(readers, make_integration):
    from integrations.models import Segment, SegmentMember

    segment = Segment.objects.create(integration=make_integration("customerio"), remote_id="7",
                                     name="Growth Investors", imported_at=timezone.now())  # fmt: skip
    SegmentMember.objects.create(segment=segment, subscriber=readers["ann"], generation=1)
    SegmentMember.objects.create(segment=segment, subscriber=readers["bob"], generation=1)
    Subscriber.objects.filter(pk=readers["ann"].pk).update(engagement_score=85)
    growth = {"field": "platform_segment", "op": "member_of", "value": segment.pk}
    assert _emails(growth) == {"ann@example.com", "bob@sample.org"}
    engaged = {"field": "engagement_score", "op": "gt", "value": 80}
    assert _emails({"all": [growth, engaged]}) == {"ann@example.com"}
    outside = _emails({"field": "platform_segment", "op": "not_member_of", "value": segment.pk})
    assert "ann@example.com" not in outside and "bob@sample.org" not in outside
    with pytest.raises(ValidationError, match="id of an imported platform segment"):
        compile_rules({"field": "platform_segment", "op": "member_of", "value": "Growth"})


def test_an_experiment_group_selects_that_group_on_that_platform_only(
    readers, make_integration, make_assignment
):
    from campaigns.models import Experiment, ExperimentMember

    cio, kl = make_integration("customerio", name="c"), make_integration("klaviyo", name="k")
    experiment = Experiment.objects.create(assignment=make_assignment())
    ExperimentMember.objects.create(
        experiment=experiment, subscriber=readers["ann"], integration=cio, group="A"
    )
    ExperimentMember.objects.create(
        experiment=experiment, subscriber=readers["bob"], integration=kl, group="A"
    )
    ExperimentMember.objects.create(
        experiment=experiment, subscriber=readers["cat"], integration=cio, group="B"
    )
    value = {"experiment": experiment.pk, "integration": cio.pk, "group": "A"}
    assert _emails({"field": "experiment_group", "op": "in_group", "value": value}) == {
        "ann@example.com"
    }
    with pytest.raises(ValidationError, match="experiment"):
        compile_rules({"field": "experiment_group", "op": "in_group", "value": {"group": "A"}})
