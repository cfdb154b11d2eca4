"""The assignment form in Chromium: a target's integration brings its platform's send methods
and, for a trigger-only method, the broadcasts the platform lists (asked over HTTP)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.sandbox import accounts, registry

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_target_is_offered_the_broadcasts_to_trigger(
    page, live_server, log_in, shot, admin_user, make_integration, sandbox_url
):
    registry.seed("customerio")
    make_integration(
        "customerio",
        name="Customer.io journeys",
        base_url=f"{sandbox_url}/customerio",
        credentials=dict(accounts.demo_account("customerio").credentials),
    )
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    log_in()
    page.goto(f"{live_server.url}/admin/campaigns/assignment/add/")
    page.select_option("#id_targets-0-integration", label="Customer.io journeys")
    methods = page.locator("#targets-0-methods option")
    expect(methods).to_have_count(2)
    assert methods.first.get_attribute("value") == "api_triggered_broadcast"
    page.fill("#id_targets-0-method", "api_triggered_broadcast")
    page.dispatch_event("#id_targets-0-method", "change")
    options = page.locator("#targets-0-triggers option")
    expect(options).to_have_count(2)
    assert options.evaluate_all("os => os.map(o => o.value)") == ["1", "2"]
    expect(page.locator(".trigger-choices-note").first).to_have_text("2 to choose from")
    page.fill("#id_targets-0-remote_template_or_campaign_id", "1")
    shot("target-form")
    assert problems == []
