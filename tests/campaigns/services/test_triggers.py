"""What a trigger-only target can trigger, asked of the platform once and checked on save."""

from __future__ import annotations

import pytest

from campaigns.services import triggers
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_customerio import APP_US, US_CREDS

BROADCASTS = {"broadcasts": [{"id": 1, "name": "Daily issue"}, {"id": 2, "name": "Breaking"}]}


@pytest.fixture
def customerio(make_integration, settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    return make_integration("customerio", region="us", credentials=dict(US_CREDS))


def test_listed_once_then_from_the_cache(customerio):
    with strict() as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", json=BROADCASTS)
        first = triggers.trigger_choices(customerio, "api_triggered_broadcast")
        second = triggers.trigger_choices(customerio, "api_triggered_broadcast")
        assert len(rsps.calls) == 1
    assert first == second == triggers.TriggerChoices([("1", "Daily issue"), ("2", "Breaking")])


def test_a_method_with_content_triggers_nothing(make_integration):
    mailchimp = make_integration("mailchimp")
    assert triggers.trigger_choices(mailchimp, "campaign") == triggers.TriggerChoices()
    assert triggers.choice_problem(mailchimp, "campaign", "anything") == ""


def test_an_unknown_broadcast_is_named_with_what_is_offered(customerio):
    with strict() as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", json=BROADCASTS)
        assert triggers.choice_problem(customerio, "api_triggered_broadcast", "2") == ""
        assert triggers.choice_problem(customerio, "api_triggered_broadcast", "7") == (
            "Customer.io has no such api triggered broadcast: it offers Daily issue (1); "
            "Breaking (2)."
        )


def test_a_refusal_is_reported_not_cached(customerio):
    with strict() as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", status=401, json={"meta": {"error": "Unauthorized"}})
        found = triggers.trigger_choices(customerio, "api_triggered_broadcast")
        assert found.choices == [] and found.error.startswith("Customer.io: ")
        rsps.get(f"{APP_US}/v1/broadcasts", json=BROADCASTS)
        assert triggers.trigger_choices(customerio, "api_triggered_broadcast").choices
    # With nothing listed there is nothing to check the id against: the pre-flight says more.
    assert triggers.choice_problem(customerio, "broadcast_unknown_method", "7") == ""
