"""The credentials step offers "Use the sandbox" when it is on; the values come when pressed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from django.urls import reverse

pytestmark = pytest.mark.django_db
PREFIX = "integration_wizard_new"


def credentials_page(client, slug: str):
    client.get(reverse("integrations:connect"))
    return client.post(
        reverse("integrations:connect"),
        {f"{PREFIX}-current_step": "platform", "platform-platform": slug},
    )


def test_the_offer_names_the_values_url_and_the_fields_but_holds_no_key(admin_client):
    html = credentials_page(admin_client, "iterable").content.decode()
    assert 'id="use-sandbox"' in html
    assert 'data-url="/sandbox/connect/iterable.json"' in html
    assert 'data-prefix="credentials-"' in html and 'data-credential-prefix="credential_"' in html
    assert 'href="/sandbox/#sandbox-iterable"' in html
    assert "sandbox-iterable-server-key-us" not in html  # fetched only when pressed


def test_the_values_are_the_working_account_and_the_workers_base_url(admin_client, settings):
    settings.SANDBOX_BASE_URL = "http://workers.example.test:9000/sandbox"
    response = admin_client.get(reverse("sandbox-wizard-values", args=["customerio"]))
    assert response.status_code == 200
    assert response.json() == {
        "api_base_url": "http://workers.example.test:9000/sandbox/customerio",
        "region": "us",
        "credentials": {
            "site_id": "sandbox-site-us",
            "track_api_key": "sandbox-track-key-us",
            "app_api_key": "sandbox-app-key-us",
        },
    }
    assert admin_client.get("/sandbox/connect/nowhere.json").status_code == 404


@pytest.mark.parametrize("who", ["anonymous", "not staff"])
def test_others_get_no_values(client, who):
    if who == "not staff":
        client.force_login(User.objects.create_user("reader", password="reader-pw-123"))
    response = client.get(reverse("sandbox-wizard-values", args=["iterable"]))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_an_oauth_only_platform_gets_the_consent_hint(admin_client):
    response = credentials_page(admin_client, "keap")
    assert b"then connect with Keap on the sandbox" in response.content
    values = admin_client.get(reverse("sandbox-wizard-values", args=["keap"])).json()
    assert values["credentials"] == {}
    assert values["api_base_url"].endswith("/sandbox/keap")


def test_no_offer_when_the_sandbox_is_off(admin_client, settings):
    settings.SANDBOX_ENABLED = False
    response = credentials_page(admin_client, "iterable")
    assert b"Credentials for Iterable" in response.content
    assert b"use-sandbox" not in response.content
