"""Webhooks over real HTTP: each platform's signed sample posted to the running console
(live_server) is verified, stored, processed (django-q in sync mode) and recorded; a forged one
is refused."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
import requests
from django_q.conf import Conf

from audience.models import EngagementEvent, Subscriber, SubscriberStatus
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.registry import PLATFORM_MODULES
from integrations.sandbox import webhooks as signing
from integrations.services.webhooks import webhook_path
from tests.integrations.webhooks.fixtures import integration_with_secret
from tests.integrations.webhooks.samples import READER, SAMPLES, signing_secret

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def reader():
    return Subscriber.objects.create(email=READER)


def _post(live_server, integration, body, content_type, signed):
    url = live_server.url + webhook_path(integration)
    if signed.query:
        url += "?" + urlencode(signed.query)
    headers = {"Content-Type": content_type, **signed.headers}
    return requests.post(url, data=body, headers=headers, timeout=15)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_signed_delivery_flows_into_engagement(
    slug, live_server, reader, fake_clock, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = integration_with_secret(slug)
    body, content_type, expected = SAMPLES[slug]
    signed = signing.sign(slug, body, signing_secret(slug), fake_clock.time)
    response = _post(live_server, integration, body, content_type, signed)
    assert response.status_code == 200, response.text
    event = WebhookEvent.objects.get(integration=integration)
    assert event.state == WebhookState.PROCESSED, event.error
    kinds = sorted(
        EngagementEvent.objects.filter(integration=integration).values_list("kind", flat=True)
    )
    assert kinds == sorted(kind for kind, email in expected if email)
    forged = signing.forge(slug, body, fake_clock.time)
    assert _post(live_server, integration, body, content_type, forged).status_code == 401


def test_an_unsubscribe_over_http_changes_the_status(live_server, reader, fake_clock, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)
    integration = integration_with_secret("mailchimp")
    body, content_type, _ = SAMPLES["mailchimp"]
    signed = signing.sign("mailchimp", body, signing_secret("mailchimp"), fake_clock.time)
    assert _post(live_server, integration, body, content_type, signed).status_code == 200
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED
