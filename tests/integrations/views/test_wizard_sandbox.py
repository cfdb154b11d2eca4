"""The credentials step offers "Use the sandbox" (base URL and working key) when it is on."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db
PREFIX = "integration_wizard_new"


def credentials_page(client, slug: str):
    client.get(reverse("integrations:connect"))
    return client.post(
        reverse("integrations:connect"),
        {f"{PREFIX}-current_step": "platform", "platform-platform": slug},
    )


def fill(response) -> dict:
    found = re.search(
        r'<script id="sandbox-fill" type="application/json">(.*?)</script>',
        response.content.decode(),
    )
    assert found, "no sandbox values on the page"
    return json.loads(found.group(1))


def test_use_the_sandbox_fills_the_base_url_region_and_working_key(admin_client, settings):
    settings.SANDBOX_BASE_URL = "http://workers.example.test:9000/sandbox"
    response = credentials_page(admin_client, "iterable")
    assert b'id="use-sandbox"' in response.content
    assert b'href="/sandbox/#sandbox-iterable"' in response.content
    assert fill(response) == {
        "credentials-api_base_url": "http://workers.example.test:9000/sandbox/iterable",
        "credentials-region": "us",
        "credentials-credential_api_key": "sandbox-iterable-server-key-us",
    }


def test_every_credential_of_the_working_account_is_filled(admin_client):
    values = fill(credentials_page(admin_client, "customerio"))
    assert values["credentials-credential_site_id"] == "sandbox-site-us"
    assert values["credentials-credential_track_api_key"] == "sandbox-track-key-us"
    assert values["credentials-credential_app_api_key"] == "sandbox-app-key-us"


def test_an_oauth_only_platform_gets_the_base_url_and_the_consent_hint(admin_client, settings):
    settings.SANDBOX_BASE_URL = "http://127.0.0.1:8000/sandbox"
    response = credentials_page(admin_client, "keap")
    assert fill(response) == {
        "credentials-api_base_url": "http://127.0.0.1:8000/sandbox/keap",
        "credentials-region": "global",
    }
    assert b"then connect with Keap on the sandbox" in response.content


def test_no_offer_when_the_sandbox_is_off(admin_client, settings):
    settings.SANDBOX_ENABLED = False
    response = credentials_page(admin_client, "iterable")
    assert b"Credentials for Iterable" in response.content
    assert b"use-sandbox" not in response.content
    assert b"sandbox-iterable-server-key-us" not in response.content
