"""A new user finds the sandbox's keys and connects Iterable with "Use the sandbox", in Chromium."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from integrations.models import Integration, IntegrationStatus
from integrations.platforms.registry import get_platform
from integrations.sandbox.registry import emulators

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sandbox_root(live_server, settings):
    """The workers' sandbox URL is the live server's, as `make run` makes it."""
    settings.SANDBOX_BASE_URL = f"{live_server.url}/sandbox"
    return settings.SANDBOX_BASE_URL


def test_staff_see_every_emulator_and_its_keys_and_others_see_none(
    page, browser, live_server, log_in, shot, admin_user, sandbox_root
):
    log_in()
    page.goto(f"{live_server.url}/sandbox/")
    expect(page.locator("h1")).to_have_text("Sandbox")
    sections = page.locator("section.sandbox-platform")
    expect(sections).to_have_count(12)
    for slug in emulators():
        section = page.locator(f"#sandbox-{slug}")
        expect(section.locator("h2")).to_have_text(get_platform(slug).label)
        expect(section.locator(".base-url")).to_have_text(f"{sandbox_root}/{slug}")
    iterable = page.locator("#sandbox-iterable")
    expect(iterable.locator("tr[data-kind=working]")).to_contain_text(
        "sandbox-iterable-server-key-us"
    )
    expect(iterable.locator("tr[data-kind=read-only]")).to_contain_text(
        "sandbox-iterable-readonly-key-us"
    )
    expect(iterable.locator("tr[data-kind='other region']")).to_contain_text(
        "sandbox-iterable-server-key-eu"
    )
    expect(page.locator("#sandbox-keap .oauth-help")).to_contain_text("Connect with Keap")
    full = shot("sandbox-index-full")
    page.screenshot(path=str(full.with_name("sandbox-index.png")))  # the top, as README shows

    anonymous = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    anonymous.goto(f"{live_server.url}/sandbox/")
    expect(anonymous.locator("#id_username")).to_be_visible()  # the login page
    assert "/admin/login/" in anonymous.url
    assert "sandbox-iterable-server-key-us" not in anonymous.content()
    assert "section" not in anonymous.locator("#content").inner_html()
    anonymous.context.close()


def start_iterable(page, live_server, name: str):
    page.goto(f"{live_server.url}/console/connect/")
    page.click("label.card[data-platform=iterable]")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("h2")).to_contain_text("Credentials for Iterable")
    page.fill("#id_credentials-name", name)


def test_a_new_user_connects_iterable_with_use_the_sandbox_and_sees_a_read_only_key_refused(
    page, live_server, log_in, shot, admin_user, sandbox_root
):
    log_in()
    start_iterable(page, live_server, "Iterable via the sandbox")
    expect(page.locator("#sandbox-offer")).to_contain_text("Use the sandbox")
    expect(page.locator("#id_credentials-api_base_url")).to_have_value("")
    page.get_by_role("button", name="Use the sandbox").click()
    expect(page.locator("#id_credentials-api_base_url")).to_have_value(f"{sandbox_root}/iterable")
    expect(page.locator("#id_credentials-region")).to_have_value("us")
    expect(page.locator("#id_credentials-credential_api_key")).to_have_value(
        "sandbox-iterable-server-key-us"
    )
    shot("2-credentials")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Connected")
    shot("3-test-connection")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator("h2").first).to_have_text("Field mapping")
    page.get_by_role("button", name="Next").click()
    expect(page.locator("h2")).to_have_text("Sync settings")
    page.click("button[value=save]")
    expect(page.locator(".messagelist")).to_contain_text("Iterable via the sandbox connected")
    integration = Integration.objects.get(name="Iterable via the sandbox")
    assert integration.api_base_url == f"{sandbox_root}/iterable"
    assert integration.secrets["api_key"] == "sandbox-iterable-server-key-us"
    assert integration.status == IntegrationStatus.CONNECTED

    # The read-only key as the user finds it: on the sandbox index the wizard links to.
    start_iterable(page, live_server, "Iterable read-only")
    page.click("#sandbox-index-link")
    expect(page.locator("h1")).to_have_text("Sandbox")
    read_only = page.locator("#sandbox-iterable tr[data-kind=read-only] code").inner_text()
    assert read_only == "sandbox-iterable-readonly-key-us"
    start_iterable(page, live_server, "Iterable read-only")
    page.get_by_role("button", name="Use the sandbox").click()
    expect(page.locator("#id_credentials-api_base_url")).to_have_value(f"{sandbox_root}/iterable")
    page.fill("#id_credentials-credential_api_key", read_only)  # once the fetched values are in
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#connection-report")).to_contain_text("Refused")
    expect(page.locator("#connection-report")).to_contain_text("read-only Iterable key")
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    shot("read-only-key")
    assert not Integration.objects.filter(name="Iterable read-only").exists()


def test_a_person_adds_an_iterable_system_webhook_on_the_sandbox_settings_form(
    page, live_server, log_in, shot, admin_user, sandbox_root, settings, make_integration
):
    """What Iterable's app asks (its API makes no webhooks): the URL and the token the
    integration's page shows; the emulator then holds it and the index lists it."""
    from integrations.sandbox.models import SandboxWebhook
    from integrations.services import webhooks

    settings.CONSOLE_BASE_URL = live_server.url
    integration = make_integration("iterable", base_url=f"{sandbox_root}/iterable")
    url, token = (
        webhooks.webhook_url(integration, live_server.url),
        webhooks.ensure_secret(integration),
    )
    log_in()
    page.goto(f"{live_server.url}/sandbox/#sandbox-iterable")
    section = page.locator("#sandbox-iterable")
    section.locator("summary").click()
    section.get_by_label("Endpoint URL").fill(url)
    section.get_by_label("Auth Token (Auth Type: Basic)").fill(token)
    section.get_by_label("emailSend").uncheck()
    section.get_by_role("button", name="Add webhook").click()
    expect(page.locator(".messagelist")).to_contain_text("Iterable: Webhook 1 added")
    row = page.locator("#sandbox-iterable table.sandbox-webhooks tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text(url)
    expect(row).to_contain_text("emailOpen")
    expect(row).not_to_contain_text("emailSend")
    assert token not in page.content()
    hook = SandboxWebhook.objects.get(platform="iterable")
    assert hook.secret == token and "emailSend" not in hook.events
    page.locator("#sandbox-iterable").screenshot(path=str(shot("iterable").with_name("form.png")))
