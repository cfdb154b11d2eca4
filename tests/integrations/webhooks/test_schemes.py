"""Every platform's webhooks, through the endpoint: signed the way the platform signs them
(integrations/sandbox/webhooks.py), valid ones are taken once, forged, tampered and replayed
ones refused, redeliveries counted and not processed again."""

from __future__ import annotations

import pytest
from django_q.conf import Conf

from audience.models import EngagementEvent, Subscriber
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.registry import PLATFORM_MODULES, get_platform
from integrations.sandbox import webhooks as signing
from tests.integrations.webhooks.helpers import post, post_signed
from tests.integrations.webhooks.samples import READER, SAMPLES

pytestmark = pytest.mark.django_db

TIMESTAMPED = [s for s in PLATFORM_MODULES if get_platform(s).webhook_scheme.has_timestamp]
UNSIGNED = [s for s in PLATFORM_MODULES if not get_platform(s).webhook_scheme.signed]


@pytest.fixture(autouse=True)
def _tasks_run_inline(monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", True)


@pytest.fixture
def reader(db):
    return Subscriber.objects.create(email=READER)


def test_every_platform_has_a_sample_and_a_signer():
    assert set(SAMPLES) == set(PLATFORM_MODULES) == set(signing.SIGNERS)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_valid_delivery_is_stored_processed_and_recorded(
    slug, client, webhook_integration, reader, fake_clock, django_capture_on_commit_callbacks
):
    integration = webhook_integration(slug)
    with django_capture_on_commit_callbacks(execute=True):
        response = post_signed(client, integration, fake_clock.time)
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(integration=integration)
    assert event.state == WebhookState.PROCESSED, event.error
    expected = SAMPLES[slug][2]
    assert event.events_count == len(expected)
    recorded = EngagementEvent.objects.filter(integration=integration)
    kinds = sorted(e.kind for e in recorded)
    with_reader = sorted(kind for kind, email in expected if email)
    assert kinds == with_reader
    assert all(e.subscriber_id == reader.pk for e in recorded)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_forged_delivery_is_refused(slug, client, webhook_integration, fake_clock):
    integration = webhook_integration(slug)
    body, content_type, _ = SAMPLES[slug]
    response = post(
        client, integration, body, content_type, signing.forge(slug, body, fake_clock.time)
    )
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorised"}  # nothing says why
    stored = WebhookEvent.objects.get(integration=integration)
    assert stored.state == WebhookState.REJECTED and stored.error
    assert not EngagementEvent.objects.exists()


@pytest.mark.parametrize("slug", sorted(set(PLATFORM_MODULES) - set(UNSIGNED)))
def test_a_tampered_body_is_refused(slug, client, webhook_integration, fake_clock):
    integration = webhook_integration(slug)
    body, content_type, _ = SAMPLES[slug]
    signed = signing.sign(slug, body, _signing(slug), fake_clock.time)
    tampered = body.replace(b"reader", b"Reader", 1)
    assert tampered != body
    assert post(client, integration, tampered, content_type, signed).status_code == 401


@pytest.mark.parametrize("slug", UNSIGNED)
def test_an_unsigned_platform_needs_its_token(slug, client, webhook_integration, fake_clock):
    integration = webhook_integration(slug)
    body, content_type, _ = SAMPLES[slug]
    assert post(client, integration, body, content_type, signing.SignedRequest()).status_code == 401


@pytest.mark.parametrize("slug", TIMESTAMPED)
def test_a_replayed_delivery_is_refused(slug, client, webhook_integration, fake_clock):
    """Signed six minutes ago (the window is five): refused, though the signature is right."""
    integration = webhook_integration(slug)
    assert post_signed(client, integration, fake_clock.time - 360).status_code == 401
    assert "timestamp" in WebhookEvent.objects.get(integration=integration).error
    # From the future beyond the window, likewise; within it, taken.
    assert post_signed(client, integration, fake_clock.time + 360).status_code == 401
    assert post_signed(client, integration, fake_clock.time - 240).status_code == 200


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_redelivery_is_counted_not_processed_again(
    slug, client, webhook_integration, reader, fake_clock, django_capture_on_commit_callbacks
):
    integration = webhook_integration(slug)
    with django_capture_on_commit_callbacks(execute=True) as first:
        post_signed(client, integration, fake_clock.time)
    fake_clock.time += 30  # the platform's retry, signed afresh
    with django_capture_on_commit_callbacks(execute=True) as second:
        assert post_signed(client, integration, fake_clock.time).status_code == 200
    assert len(first) == 1 and len(second) == 0  # no second processing task
    event = WebhookEvent.objects.get(integration=integration)
    assert event.redeliveries == 1 and event.attempts == 1
    expected = [kind for kind, email in SAMPLES[slug][2] if email]
    assert EngagementEvent.objects.filter(integration=integration).count() == len(expected)


@pytest.mark.parametrize("slug", ["mailchimp", "kit"])
def test_signed_and_unsigned_webhooks_of_one_platform(
    slug, client, webhook_integration, fake_clock
):
    """With a signing secret stored the signature is required; without, the URL token."""
    from integrations.services.webhooks import ensure_secret

    signed_one = webhook_integration(slug, name="signed")
    token = ensure_secret(signed_one)
    body, content_type, _ = SAMPLES[slug]
    url_only = signing.SignedRequest(query={"token": token})
    assert post(client, signed_one, body, content_type, url_only).status_code == 401

    unsigned = webhook_integration(slug, name="unsigned", key="webhook_secret")
    assert post_signed(client, unsigned, fake_clock.time, unsigned=True).status_code == 200


def test_no_secret_stored_refuses_everything(client, webhook_integration, fake_clock):
    integration = webhook_integration("customerio", secret=False)
    assert post_signed(client, integration, fake_clock.time).status_code == 401


def _signing(slug):
    from tests.integrations.webhooks.samples import signing_secret

    return signing_secret(slug)
