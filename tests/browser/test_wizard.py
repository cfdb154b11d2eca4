"""A publisher's staff connect platforms through the wizard and watch their syncs, in Chromium."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from playwright.sync_api import expect

from audience.models import Subscriber, SubscriberStatus
from integrations.models import Integration, SyncRun, SyncStatus
from integrations.sandbox.models import SandboxContact
from integrations.sandbox.registry import seed

pytestmark = pytest.mark.django_db(transaction=True)

CIO = {
    "credential_site_id": "sandbox-site-us",
    "credential_track_api_key": "sandbox-track-key-us",
    "credential_app_api_key": "sandbox-app-key-us",
}


@pytest.fixture
def audience(admin_user):
    for i in range(12):
        Subscriber.objects.create(
            email=f"reader{i}@example.com",
            first_name=f"Reader{i}",
            status=SubscriberStatus.UNSUBSCRIBED if i == 11 else SubscriberStatus.SUBSCRIBED,
            attributes={"interest": "growth" if i % 2 else "dividends"},
        )


def choose_platform(page, live_server, slug: str, shot=None):
    page.goto(f"{live_server.url}/admin/")
    page.click("#connect-platform >> text=Connect a platform")
    expect(page.locator("h2")).to_have_text("Which platform?")
    if shot:
        shot("1-platform")
    page.click(f"label.card[data-platform={slug}]")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("h2")).to_contain_text("Credentials for")


def fill_credentials(page, live_server, slug: str, name: str, values: dict, region: str = ""):
    page.fill("#id_credentials-name", name)
    if region:
        page.select_option("#id_credentials-region", region)
    page.fill("#id_credentials-api_base_url", f"{live_server.url}/sandbox/{slug}")
    for field, value in values.items():
        page.fill(f"#id_credentials-{field}", value)


def test_a_new_user_connects_customerio_and_iterable_and_watches_the_runs_finish(
    page, live_server, log_in, shot, audience, q_cluster
):
    log_in()
    # One reader is suppressed in Customer.io: its run shows that outcome and how to fix it.
    SandboxContact.objects.create(
        platform="customerio",
        account="sandbox-site-us",
        identifier="reader4@example.com",
        suppressed=True,
    )
    iterable_key = {"credential_api_key": "sandbox-iterable-server-key-us"}
    for slug, name, values, created in (
        ("customerio", "Customer.io newsletter", CIO, "10"),
        ("iterable", "Iterable newsletter", iterable_key, "11"),
    ):
        choose_platform(page, live_server, slug, shot=lambda n, s=slug: shot(f"{s}-{n}"))
        fill_credentials(page, live_server, slug, name, values)
        shot(f"{slug}-2-credentials")
        page.get_by_role("button", name="Test connection").click()
        expect(page.locator("#connection-report")).to_contain_text("Connected")
        expect(page.locator("#capabilities")).to_contain_text("Upsert contacts")
        shot(f"{slug}-3-test")
        page.get_by_role("button", name="Continue").click()
        expect(page.locator("h2").first).to_have_text("Field mapping")
        expect(page.locator("#forecast")).to_contain_text("11")  # subscribed readers
        expect(page.locator("#forecast")).to_contain_text("would be sent")
        shot(f"{slug}-4-mapping")
        page.get_by_role("button", name="Next").click()
        expect(page.locator("h2")).to_have_text("Sync settings")
        page.check("input[name=settings-sync_frequency][value=hourly]")
        shot(f"{slug}-5-settings")
        page.get_by_role("button", name="Save & Sync Now").click()
        finished = "Partial" if slug == "customerio" else "Succeeded"
        expect(page.locator("#run-status")).to_have_text(finished, timeout=60_000)
        expect(page.locator('[data-outcome="created"]')).to_have_text(created)
        shot(f"{slug}-6-run")
        integration = Integration.objects.get(name=name)
        assert integration.field_mappings.filter(is_identifier=True, source="email").exists()
        assert SandboxContact.objects.filter(platform=slug).count() == 11

    customerio = Integration.objects.get(name="Customer.io newsletter")
    page.goto(f"{live_server.url}/console/integrations/{customerio.pk}/")
    page.click("#runs a")
    expect(page.locator("#records")).to_contain_text("reader4@example.com")
    expect(page.locator("#records")).to_contain_text("Rejected (compliance)")
    expect(page.locator("#retry-failed")).to_be_visible()
    shot("customerio-7-run-with-a-rejection")

    page.goto(f"{live_server.url}/admin/integrations/integration/")
    expect(page.locator("#result_list")).to_contain_text("Succeeded")
    shot("integrations-list")


def test_a_wrong_key_and_a_read_only_key_are_refused_with_their_reason(
    page, live_server, log_in, shot, admin_user
):
    log_in()
    choose_platform(page, live_server, "customerio")
    fill_credentials(
        page, live_server, "customerio", "Wrong key", {**CIO, "credential_track_api_key": "nope"}
    )
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text(
        "Customer.io refused the Site ID and Track API key"
    )
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    shot("customerio-wrong-key")

    choose_platform(page, live_server, "iterable")
    fill_credentials(
        page,
        live_server,
        "iterable",
        "Read-only key",
        {"credential_api_key": "sandbox-iterable-readonly-key-us"},
    )
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("read-only Iterable key")
    shot("iterable-read-only-key")

    choose_platform(page, live_server, "iterable")
    fill_credentials(
        page,
        live_server,
        "iterable",
        "Wrong region",
        {"credential_api_key": "sandbox-iterable-server-key-us"},
        region="eu",
    )
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Choose US")
    assert not Integration.objects.exists()


def test_an_edit_keeps_the_stored_credentials(
    page, live_server, log_in, shot, make_integration, admin_user
):
    seed("customerio")
    integration = make_integration("customerio", base_url=f"{live_server.url}/sandbox/customerio")
    log_in()
    page.goto(f"{live_server.url}/console/integrations/{integration.pk}/edit/")
    expect(page.locator("#id_credentials-credential_track_api_key")).to_have_value("")
    assert "sandbox-track-key-us" not in page.content()
    page.fill("#id_credentials-name", "Customer.io renamed")
    shot("edit-credentials")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Connected")
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Next").click()
    page.click("button[value=save]")
    expect(page.locator(".messagelist")).to_contain_text("Customer.io renamed saved")
    integration.refresh_from_db()
    assert integration.name == "Customer.io renamed"
    assert integration.secrets["track_api_key"] == "sandbox-track-key-us"
    assert integration.secrets["app_api_key"] == "sandbox-app-key-us"


def test_a_viewer_sees_the_logs_but_cannot_run_a_sync(
    page, live_server, log_in, shot, make_integration
):
    integration = make_integration("customerio")
    viewer = User.objects.create_user("viewer", password="viewer-pw-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    log_in("viewer", "viewer-pw-123")
    page.goto(f"{live_server.url}/console/integrations/{integration.pk}/")
    expect(page.locator("h1")).to_have_text(integration.name)
    expect(page.locator("#sync-now")).to_have_count(0)
    shot("viewer-integration")
    assert not SyncRun.objects.exists()
    assert SyncStatus.QUEUED not in SyncRun.objects.values_list("status", flat=True)


def test_a_new_user_connects_keap_through_the_oauth_screens(
    page, live_server, log_in, shot, audience, q_cluster
):
    log_in()
    choose_platform(page, live_server, "keap")
    page.fill("#id_credentials-name", "Keap CRM")
    page.fill("#id_credentials-api_base_url", f"{live_server.url}/sandbox/keap")
    expect(page.locator("#oauth-status")).to_contain_text("Not connected")
    shot("keap-1-credentials")
    page.get_by_role("button", name="Connect with Keap").click()
    expect(page.locator("h1")).to_contain_text("Sandbox keap")  # the platform's consent page
    shot("keap-2-consent")
    page.click("#allow")
    expect(page.locator("#oauth-status")).to_contain_text("granted access")
    shot("keap-3-connected")
    assert "sbx-at-" not in page.content() and "sbx-rt-" not in page.content()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Connected")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h2").first).to_have_text("Field mapping")
    page.get_by_role("button", name="Next").click()
    page.get_by_role("button", name="Save & Sync Now").click()
    expect(page.locator("#run-status")).to_have_text("Succeeded", timeout=60_000)
    shot("keap-4-run")
    integration = Integration.objects.get(name="Keap CRM")
    assert integration.oauth_connection.access_token.startswith("sbx-at-")
    page.goto(f"{live_server.url}/console/integrations/{integration.pk}/")
    expect(page.locator("#token-health")).to_contain_text("access token expires")
    expect(page.get_by_role("button", name="Reconnect with Keap")).to_be_visible()
    shot("keap-5-integration")
