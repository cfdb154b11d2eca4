"""Figures and admin lists as a new user reads them, in Chromium (issue 8, item 5)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import (
    ApiCall,
    IntegrationStatus,
    OAuthConnection,
    Outcome,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)
from tests.browser.conftest import SHOTS

pytestmark = pytest.mark.django_db(transaction=True)

LONG_MESSAGE = (
    "Campaign Monitor refused the subscriber: the custom field 'favourite_newsletter_topic' "
    "holds 312 characters and the field allows at most 250; the value was not stored"
)
LONG_HINT = (
    "Shorten the value in SharpSend (Subscribers → the reader → attributes) or map a shorter "
    "field, then use Retry failed records on this run"
)


@pytest.fixture
def history(make_integration):
    """One integration with a finished partial run, its rejections and its API calls."""
    integration = make_integration("campaign_monitor", name="Campaign Monitor (sandbox)")
    now = timezone.now()
    runs = []
    for index in range(3):
        run = SyncRun.objects.create(
            integration=integration,
            trigger=SyncTrigger.SCHEDULE if index else SyncTrigger.WIZARD,
            status=SyncStatus.PARTIAL,
            total=120,
            seen=120,
            created=110,
            updated=4,
            unchanged=1,
            rejected_data=5,
            excluded=3,
            api_calls=1 if index == 0 else 12,
            started_at=now - timedelta(seconds=95),
            finished_at=now,
        )
        runs.append(run)
        for j in range(3):
            SyncRecord.objects.create(
                run=run,
                email=f"very.long.address.for.reader{j}@newsletter-subscribers.example.com",
                outcome=Outcome.REJECTED_DATA,
                code="CustomFieldValueTooLong_250",
                message=LONG_MESSAGE,
                hint=LONG_HINT,
            )
    keap = make_integration(
        "keap",
        name="Keap (sandbox)",
        credentials={},
        status=IntegrationStatus.NEEDS_ATTENTION,
        last_error="Keap refused to refresh the access token (invalid_grant): reconnect.",
        last_success_at=now,
    )
    OAuthConnection.objects.create(
        integration=keap,
        access_token="fake-access",
        refresh_token="fake-refresh",
        expires_at=now + timedelta(minutes=14),
        refresh_failures=3,
        last_refresh_error="invalid_grant",
    )
    SyncRun.objects.create(
        integration=keap, trigger=SyncTrigger.MANUAL, status=SyncStatus.FAILED, total=1
    )
    # One call: 1 API call, no error, 27.584… ms.
    ApiCall.objects.create(
        integration=integration,
        surface="api",
        method="POST",
        path="/api/v3.3/subscribers/a1b2c3d4e5f60718293a4b5c6d7e8f90/import.json",
        status_code=200,
        ok=True,
        latency_ms=27.584366000041882,
        bytes_sent=48213,
        bytes_received=1187,
        at=now,
    )
    return integration, runs


def test_the_integration_page_writes_its_figures_for_people(
    page, live_server, log_in, shot, admin_user, history
):
    integration, runs = history
    log_in()
    page.goto(f"{live_server.url}/console/integrations/{integration.pk}/")
    counts = page.locator(".counts")
    expect(page.locator("#usage-error-rate")).to_have_text("0.0 %")
    expect(page.locator("#usage-median")).to_have_text("28 ms")
    expect(page.locator("#usage-p95")).to_have_text("28 ms")
    expect(counts).to_contain_text("1API call (24 h)")
    expect(counts).not_to_contain_text("×100")
    expect(counts).not_to_contain_text("27.58")
    shot("integration-figures")

    page.goto(f"{live_server.url}/console/runs/{runs[0].pk}/")
    expect(page.locator("#run-api-calls")).to_have_text("1 API call")
    page.goto(f"{live_server.url}/console/runs/{runs[1].pk}/")
    expect(page.locator("#run-api-calls")).to_have_text("12 API calls")


@pytest.mark.parametrize("model", ["integration", "syncrun", "syncrecord", "apicall"])
def test_admin_log_lists_fit_a_1280_pixel_screen(
    page, live_server, log_in, shot, admin_user, history, model
):
    page.set_viewport_size({"width": 1280, "height": 800})
    log_in()
    page.goto(f"{live_server.url}/admin/integrations/{model}/")
    table = page.locator("#result_list")
    expect(table).to_be_visible()
    folder = SHOTS / "admin-lists-1280x800"
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{model}.png"))  # the window only: what a user sees
    # The list sits between the sidebar and the filters; it scrolls sideways (hiding
    # columns) when it is wider than that. Every column must end inside it.
    box = page.evaluate(
        """() => {
            const results = document.querySelector('#changelist .results');
            const ths = [...document.querySelectorAll('#result_list thead th')];
            return {
                right: results.getBoundingClientRect().right,
                overflow: results.scrollWidth - results.clientWidth,
                edges: ths.map(th => th.getBoundingClientRect().right),
            };
        }"""
    )
    assert box["overflow"] <= 0, box
    assert box["edges"] and max(box["edges"]) <= box["right"] <= 1280, box
    if model == "integration":
        expect(table).to_contain_text("OAuth token")
        expect(table).to_contain_text("expires in 13 minutes")
        expect(table).to_contain_text("3 refresh failures")
    if model == "apicall":
        expect(table).to_contain_text("28 ms")
        expect(table).not_to_contain_text("27.58")


def test_after_the_wizard_tested_the_connection_the_admin_shows_that_test(
    page, live_server, log_in, shot, admin_user
):
    log_in()
    page.goto(f"{live_server.url}/console/connect/")
    page.click("label.card[data-platform=iterable]")
    page.get_by_role("button", name="Next").click()
    page.fill("#id_credentials-name", "Iterable newsletter")
    page.fill("#id_credentials-api_base_url", f"{live_server.url}/sandbox/iterable")
    page.fill("#id_credentials-credential_api_key", "sandbox-iterable-server-key-us")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Connected")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Next").click()
    page.click("button[value=save]")  # Save, no sync: the status must not wait for one
    expect(page.locator("#integration-status")).to_have_text("Connected")
    page.click("text=Admin page")
    health = page.locator("fieldset", has_text="Connection test")
    expect(health).not_to_contain_text("Not tested yet")
    expect(health).to_contain_text("Result")
    expect(health.locator("td", has_text="OK").first).to_be_visible()
    shot("admin-after-wizard")
