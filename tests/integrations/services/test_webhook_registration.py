"""The registration service: the URL from CONSOLE_BASE_URL, the secret made once and kept
encrypted, what the platform issued stored, the hooks recorded without their token, twice
registered once; no secret in logs or records."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from responses import matchers

from integrations.models import ApiCall, ApiFeature, Integration, RegisteredWebhook
from integrations.platforms.errors import UnsupportedCapability
from integrations.services import webhook_registration
from tests.integrations.platforms.support import strict

pytestmark = pytest.mark.usefixtures("fake_clock")

SG = "https://api.sendgrid.com/v3/user/webhooks/event/settings"
KLAVIYO = "https://a.klaviyo.com/api"
MC_HOOKS = "https://us6.api.mailchimp.com/3.0/lists/a1b2c3d4e5/webhooks"
PUBLIC_KEY = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE-test-key"


@pytest.fixture(autouse=True)
def public_address(settings):
    settings.CONSOLE_BASE_URL = "https://console.example.com/"


def _sendgrid(make_integration):
    return make_integration("sendgrid", region="global", credentials={"api_key": "SG.test-key-0"})


def _url(integration) -> str:
    return f"https://console.example.com/webhooks/{integration.webhook_id}/"


def test_the_url_starts_at_the_public_address_and_carries_the_token(make_integration):
    integration = make_integration(
        "mailchimp", region="auto", credentials={"api_key": "k-us6", "list_id": "a1b2c3d4e5"}
    )
    url = webhook_registration.registration_url(integration)
    token = Integration.objects.get(pk=integration.pk).secrets["webhook_secret"]
    assert url == f"{_url(integration)}?token={token}"


def test_sendgrids_public_key_is_stored_and_the_hook_recorded_once(make_integration, caplog):
    integration = _sendgrid(make_integration)
    created = {"id": "w1", "url": _url(integration), "enabled": True, "open": True}
    caplog.set_level(logging.DEBUG)
    with strict() as rsps:
        rsps.get(f"{SG}/all", json={"webhooks": []})
        rsps.post(SG, json=created, status=201)
        rsps.patch(f"{SG}/signed/w1", json={"id": "w1", "public_key": PUBLIC_KEY})
        first = webhook_registration.register_webhooks(integration)
    assert (first.created, first.stored_secrets) == (1, ["webhook_public_key"])
    assert Integration.objects.get(pk=integration.pk).secrets["webhook_public_key"] == PUBLIC_KEY
    with strict() as rsps:  # again: the hook is found (with its key), nothing is created
        rsps.get(f"{SG}/all", json={"webhooks": [{**created, "public_key": PUBLIC_KEY}]})
        second = webhook_registration.register_webhooks(integration)
    assert (second.created, second.stored_secrets) == (0, [])
    (row,) = RegisteredWebhook.objects.filter(integration=integration)
    assert (row.remote_id, row.endpoint, row.active) == ("w1", _url(integration), True)
    assert row.confirmed_at >= row.registered_at
    assert "1 already in place" in second.summary()
    assert ApiCall.objects.filter(integration=integration, feature=ApiFeature.WEBHOOKS).count() == 4
    assert PUBLIC_KEY not in caplog.text
    with connection.cursor() as cursor:  # the key is in the encrypted column only
        cursor.execute(
            "SELECT credentials FROM integrations_integration WHERE id = %s", [integration.pk]
        )
        assert PUBLIC_KEY not in str(cursor.fetchone())


def test_klaviyos_secret_key_is_made_once_before_it_is_sent(make_integration):
    integration = make_integration("klaviyo", credentials={"private_api_key": "pk_test-0"})
    sent = []

    def created(request):
        data = request.body if isinstance(request.body, bytes) else request.body.encode()
        sent.append(data)
        stored = Integration.objects.get(pk=integration.pk).secrets["webhook_secret_key"]
        assert stored.encode() in data  # kept before the platform signs with it
        return 201, {}, '{"data": {"type": "webhook", "id": "01H", "attributes": {}}}'

    with strict() as rsps:
        rsps.get(f"{KLAVIYO}/webhooks", json={"data": []})
        rsps.get(f"{KLAVIYO}/webhook-topics", json={"data": [{"id": "event:klaviyo.opened_email"}]})
        rsps.add_callback("POST", f"{KLAVIYO}/webhooks", callback=created)
        webhook_registration.register_webhooks(integration)
    key = Integration.objects.get(pk=integration.pk).secrets["webhook_secret_key"]
    assert len(key) >= 32
    listed = {
        "data": [{"id": "01H", "attributes": {"name": f"SharpSend {integration.webhook_id}"}}]
    }
    with strict() as rsps:
        rsps.get(f"{KLAVIYO}/webhooks", json=listed)
        webhook_registration.register_webhooks(integration)
    assert Integration.objects.get(pk=integration.pk).secrets["webhook_secret_key"] == key


def test_mailchimps_signing_secret_switches_deliveries_to_the_signature(make_integration):
    integration = make_integration(
        "mailchimp", region="auto", credentials={"api_key": "k-us6", "list_id": "a1b2c3d4e5"}
    )
    with strict() as rsps:
        rsps.get(MC_HOOKS, json={"webhooks": []})
        rsps.post(
            MC_HOOKS,
            match=[
                matchers.json_params_matcher(
                    {"url": webhook_registration.registration_url(integration)}, strict_match=False
                )
            ],
            json={"id": "d2", "url": "x", "signing_secret": "whsec-test"},
        )
        webhook_registration.register_webhooks(integration)
    integration.refresh_from_db()
    scheme = integration.platform_class.webhook_scheme
    from integrations.platforms.webhooks import active_scheme

    assert integration.secrets["webhook_signing_secret"] == "whsec-test"
    assert active_scheme(scheme, integration.secrets).signed
    row = RegisteredWebhook.objects.get(integration=integration)
    assert "token" not in row.endpoint


def test_a_platform_without_the_api_says_why(make_integration):
    integration = make_integration("iterable", credentials={"api_key": "x"})
    with pytest.raises(UnsupportedCapability, match="cannot register webhooks: Iterable's API"):
        webhook_registration.register_webhooks(integration)
    assert not RegisteredWebhook.objects.exists()


def test_a_refused_registration_records_nothing(make_integration):
    integration = _sendgrid(make_integration)
    with strict() as rsps:
        rsps.get(f"{SG}/all", json={"webhooks": []})
        rsps.post(SG, status=400, json={"errors": [{"message": "'x' is not a valid url"}]})
        with pytest.raises(Exception, match="not a valid url"):
            webhook_registration.register_webhooks(integration)
    assert not RegisteredWebhook.objects.exists()
