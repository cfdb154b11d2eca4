"""Which send methods can be sent as a test, and why the others cannot (the message the admin
action and `send_assignment --test-to` show for a target)."""

from __future__ import annotations

import pytest

from integrations.platforms.registry import get_platform

TESTABLE = [
    ("mailchimp", "campaign"),
    ("campaign_monitor", "campaign"),
    ("iterable", "blast_campaign"),
    ("sendgrid", "single_send"),
]
NOT_TESTABLE = {
    ("klaviyo", "campaign"): "Klaviyo cannot test send: its API has no test send for campaigns: "
    "send a test from Klaviyo's campaign editor.",
    ("kit", "broadcast"): "Kit cannot test send: the v4 API has no test-send endpoint.",
    ("keap", "email"): "Keap cannot test send: test sends are not available through the API.",
    ("braze", "api_triggered_campaign"): "Braze cannot test send: its campaigns and Canvases "
    "are made in Braze and its API has no test send: send a test from the Braze dashboard.",
    ("customerio", "api_triggered_broadcast"): "Customer.io cannot test send: its broadcasts "
    "are made in Customer.io and the App API has no test send for them: send a test from "
    "Customer.io.",
    ("iterable", "journey"): "Iterable cannot test send a journey: the console sends no content "
    "of its own to test (send a test from Iterable).",
}


@pytest.mark.parametrize(("slug", "method"), TESTABLE)
def test_these_methods_can_be_sent_as_a_test(slug, method):
    assert get_platform(slug).test_send_problem(method) == ""


@pytest.mark.parametrize(("slug", "method"), sorted(NOT_TESTABLE))
def test_the_others_say_why(slug, method):
    platform = get_platform(slug)
    assert platform.send_method(method) is not None, "a declared method"
    assert platform.test_send_problem(method) == NOT_TESTABLE[(slug, method)]


def test_an_unknown_method_is_named():
    assert get_platform("mailchimp").test_send_problem("fax") == (
        "Mailchimp has no send method 'fax'."
    )
