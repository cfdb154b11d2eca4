"""The sandbox index (/sandbox/): every emulator's base URL and test keys, for staff only."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, catalog
from integrations.sandbox.registry import emulators

pytestmark = pytest.mark.django_db
INDEX = "/sandbox/"
ROOT = "http://sandbox.example.test:8123/sandbox"


@pytest.fixture(autouse=True)
def _workers_sandbox_url(settings):
    settings.SANDBOX_BASE_URL = ROOT + "/"


def secret_values() -> set[str]:
    """Every secret credential the emulators accept (what must never reach a non-staff page)."""
    values = set()
    for account in accounts.all_accounts():
        platform = get_platform(account.platform)
        for field in platform.credential_fields:
            if field.secret and account.credentials.get(field.key):
                values.add(account.credentials[field.key])
    return values


def test_staff_see_every_emulator_with_its_base_url_and_keys(admin_client):
    response = admin_client.get(INDEX)
    assert response.status_code == 200
    html = response.content.decode()
    assert len(emulators()) == 12
    for slug in emulators():
        platform = get_platform(slug)
        assert f'data-platform="{slug}"' in html
        assert f"<h2>{platform.label}</h2>" in html
        assert f"{ROOT}/{slug}</code>" in html  # SANDBOX_BASE_URL, the workers' one
    for value in secret_values():
        assert value in html
    # What each key is for, by kind.
    assert "Wrong-region key" in html and "Read-only key" in html and "Working key" in html


def test_the_index_is_linked_by_name():
    assert reverse("sandbox-index") == INDEX


@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_others_are_sent_to_the_login_page_and_see_no_key(client, who):
    if who == "not staff":
        client.force_login(User.objects.create_user("reader", password="reader-pw-123"))
    response = client.get(INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
    followed = client.get(INDEX, follow=True).content.decode()
    assert not any(value in followed for value in secret_values())


def test_staff_without_the_view_permission_are_refused(client):
    client.force_login(User.objects.create_user("intern", password="intern-pw-123", is_staff=True))
    response = client.get(INDEX)
    assert response.status_code == 403
    assert "sandbox-iterable-server-key-us" not in response.content.decode()


def test_a_viewer_may_see_the_index(client):
    viewer = User.objects.create_user("viewer", password="viewer-pw-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    assert client.get(INDEX).status_code == 200


def keys_of(slug: str) -> dict[str, list[dict[str, str]]]:
    """kind → [{credential key: value}] of the platform's index entry."""
    kinds: dict[str, list[dict[str, str]]] = {}
    for key in catalog.describe(get_platform(slug)).credentials:
        kinds.setdefault(key.kind, []).append({f.key: f.value for f in key.fields})
    return kinds


def test_iterable_lists_its_working_read_only_and_wrong_region_keys():
    assert keys_of("iterable") == {
        catalog.WORKING: [{"api_key": "sandbox-iterable-server-key-us"}],
        catalog.OTHER_REGION: [{"api_key": "sandbox-iterable-server-key-eu"}],
        catalog.READ_ONLY: [{"api_key": "sandbox-iterable-readonly-key-us"}],
    }


def test_every_platform_with_regions_lists_a_wrong_region_key_where_the_sandbox_has_one():
    for slug in emulators():
        platform = get_platform(slug)
        regions = {a.region for a in accounts.accounts_for(slug) if _has_key(a, platform)}
        kinds = keys_of(slug)
        if len(regions) > 1:
            assert catalog.OTHER_REGION in kinds, slug
        if any(a.read_only and _has_key(a, platform) for a in accounts.accounts_for(slug)):
            assert catalog.READ_ONLY in kinds, slug
        if platform.credential_fields:
            assert len(kinds[catalog.WORKING]) == 1, slug


def _has_key(account, platform) -> bool:
    return any(account.credentials.get(f.key) for f in platform.credential_fields)


def test_oauth_only_platforms_say_how_to_connect(admin_client):
    for slug in ("keap", "drift"):
        entry = catalog.describe(get_platform(slug))
        assert entry.credentials == ()
        assert entry.oauth_authorize_url == f"{ROOT}/oauth/{slug}/authorize"
        assert entry.oauth_account == accounts.demo_account(slug).name
    html = admin_client.get(INDEX).content.decode()
    assert f"{ROOT}/oauth/keap/authorize" in html
    assert "Connect with Keap" in html


def test_wizard_values_are_the_working_account_and_the_workers_base_url():
    assert catalog.wizard_values(get_platform("iterable")) == {
        "api_base_url": f"{ROOT}/iterable",
        "region": "us",
        "credentials": {"api_key": "sandbox-iterable-server-key-us"},
    }
    assert catalog.wizard_values(get_platform("keap")) == {
        "api_base_url": f"{ROOT}/keap",
        "region": "global",
        "credentials": {},
    }


def test_the_admin_home_links_the_sandbox_index(admin_client):
    content = admin_client.get("/admin/").content.decode()
    assert 'href="/sandbox/"' in content and "every emulator's base URL and test keys" in content


def test_the_webhooks_an_emulator_holds_are_listed_without_the_urls_token(admin_client):
    """As the platform's settings page shows them; the signing key only where the platform
    shows it there and nowhere in its API (Customer.io), never a console-made or API one."""
    from integrations.sandbox import outbound

    hook_url = "http://testserver/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"
    cio = outbound.new_hook("customerio", "sandbox-site-us", remote_id="1", name="SharpSend",
                            url=hook_url + "?token=url-token-not-real", events=["email_opened"],
                            secret="cio-signing-key-not-real", signed=True)  # fmt: skip
    outbound.new_hook("klaviyo", "sandbox-klaviyo", remote_id="k1", url=hook_url,
                      events=["event:klaviyo.opened_email"], secret="console-made-not-real")  # fmt: skip
    html = admin_client.get(INDEX).content.decode()
    assert f"<code>{hook_url}</code>" in html and "email_opened" in html
    assert f'<code class="signing-key">{cio.secret}</code>' in html
    assert "url-token-not-real" not in html and "console-made-not-real" not in html


# --- webhooks made on a platform's own settings page (Iterable, Braze, Crisp, Drift, Front) ------

HOOK = "/webhooks/6f1c2a9e-0000-4000-8000-00000000abcd/"


@pytest.fixture
def console_url(settings):
    settings.CONSOLE_BASE_URL = "https://console.example.test"
    return settings.CONSOLE_BASE_URL + HOOK


def test_a_webhook_added_on_the_settings_form_posts_with_the_typed_token(admin_client, console_url):
    from integrations.sandbox.models import SandboxWebhook

    html = admin_client.get(INDEX).content.decode()
    assert 'action="/sandbox/webhooks/iterable/"' in html and "Auth Token" in html
    assert 'action="/sandbox/webhooks/mailchimp/"' not in html  # made through its API instead
    response = admin_client.post(
        "/sandbox/webhooks/iterable/",
        {"url": console_url, "secret": "console-token-not-real", "events": ["emailOpen"]},
    )
    assert response.status_code == 302 and response["Location"].endswith("#sandbox-iterable")
    hook = SandboxWebhook.objects.get(platform="iterable")
    assert (hook.url, hook.events, hook.secret) == (
        console_url,
        ["emailOpen"],
        "console-token-not-real",
    )
    assert hook.account == accounts.demo_account("iterable").account
    page = admin_client.get(INDEX).content.decode()
    assert "console-token-not-real" not in page  # typed by the person: never shown back


def test_crisp_makes_the_signature_secret_and_the_index_shows_it(admin_client, console_url):
    from integrations.sandbox.models import SandboxWebhook

    admin_client.post("/sandbox/webhooks/crisp/", {"url": console_url})
    hook = SandboxWebhook.objects.get(platform="crisp")
    assert len(hook.secret) == 64 and len(hook.events) == 4
    assert (
        f'<code class="signing-key">{hook.secret}</code>'
        in admin_client.get(INDEX).content.decode()
    )


def test_drift_and_front_show_their_apps_secret_before_any_webhook(admin_client, console_url):
    from integrations.sandbox.drift.webhooks import verification_token
    from integrations.sandbox.front.webhooks import app_secret
    from integrations.sandbox.models import SandboxWebhook

    html = admin_client.get(INDEX).content.decode()
    for slug, value in (("drift", verification_token("sandbox-drift-org")),
                        ("front", app_secret("sbx-company"))):  # fmt: skip
        assert f'action="/sandbox/webhooks/{slug}/"' in html
        assert f'<code class="app-secret">{value}</code>' in html
    admin_client.post("/sandbox/webhooks/drift/", {"url": console_url})
    hook = SandboxWebhook.objects.get(platform="drift")
    assert hook.secret == verification_token("sandbox-drift-org")
    assert hook.events == ["contact_identified", "contact_updated"]


@pytest.mark.parametrize(
    ("form", "message"),
    [
        (
            {"url": "https://elsewhere.example.com/webhooks/x/", "secret": "t"},
            "only to this console",
        ),
        ({"url": "CONSOLE", "secret": " "}, "Auth Token (Auth Type: Basic) is required"),
        ({"url": "CONSOLE", "secret": "t", "events": ["emailSpy"]}, "Not an event iterable offers"),
    ],
)
def test_the_settings_form_refuses_what_the_platform_would(
    admin_client, console_url, form, message
):
    from integrations.sandbox.models import SandboxWebhook

    form = {**form, "url": console_url if form["url"] == "CONSOLE" else form["url"]}
    page = admin_client.post("/sandbox/webhooks/iterable/", form, follow=True).content.decode()
    assert message in page
    assert not SandboxWebhook.objects.exists()


def test_only_those_who_may_change_integrations_add_webhooks(client, console_url):
    viewer = User.objects.create_user("viewer", password="viewer-pw-123", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    response = client.post("/sandbox/webhooks/iterable/", {"url": console_url, "secret": "t"})
    assert response.status_code == 403
    assert client.get("/sandbox/webhooks/iterable/").status_code in (403, 405)
