"""A send's figures counted from its webhook events, and when the console counts them instead
of asking the platform's API."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from audience.models import EngagementEvent, EngagementKind, Subscriber
from campaigns.models import Assignment, AssignmentTarget, CampaignSend, SendState
from campaigns.services import event_metrics, metrics
from integrations.models import WebhookEvent, WebhookState

pytestmark = pytest.mark.django_db

K = EngagementKind


def _send(integration, method, *, remote_id="", trigger_id="", campaign="", sent_at, key):
    author = User.objects.get_or_create(username="author")[0]
    assignment = Assignment.objects.create(title=f"Issue {key}", subject="Markets", author=author)
    target = AssignmentTarget.objects.create(
        assignment=assignment,
        integration=integration,
        method=method,
        remote_template_or_campaign_id=campaign,
    )
    return CampaignSend.objects.create(
        target=target,
        idempotency_key=f"key-{key}",
        state=SendState.SENT,
        remote_id=remote_id,
        remote_send_id=trigger_id,
        sent_at=sent_at,
    )


def _events(integration, readers, kind, when, *, campaign="", trigger=""):
    EngagementEvent.objects.bulk_create(
        EngagementEvent(
            subscriber=reader,
            integration=integration,
            kind=kind,
            occurred_at=when,
            source="webhook",
            dedupe_key=f"{kind}-{reader.pk}-{campaign}-{trigger}-{when.timestamp()}",
            remote_campaign_id=campaign,
            remote_send_id=trigger,
        )
        for reader in readers
    )


def _receiving(integration):
    WebhookEvent.objects.create(
        integration=integration, dedupe_key="d1", body=b"{}", state=WebhookState.PROCESSED
    )


@pytest.fixture
def readers():
    return Subscriber.objects.bulk_create(Subscriber(email=f"r{i}@example.com") for i in range(20))


def test_a_trigger_counts_only_the_events_naming_it(make_integration, readers):
    cio = make_integration("customerio")
    now = timezone.now()
    a = _send(cio, "api_triggered_broadcast", trigger_id="11", campaign="1", sent_at=now, key="a")
    b = _send(cio, "api_triggered_broadcast", trigger_id="12", campaign="1", sent_at=now, key="b")
    later = now + timedelta(hours=1)
    _events(cio, readers[:10], K.DELIVERED, later, campaign="1", trigger="11")
    _events(cio, readers[:4], K.OPENED, later, campaign="1", trigger="11")
    _events(cio, readers[:3], K.OPENED, later + timedelta(hours=2), campaign="1", trigger="11")
    _events(cio, readers[:1], K.CLICKED, later, campaign="1", trigger="11")
    _events(cio, readers[10:], K.DELIVERED, later, campaign="1", trigger="12")
    _events(cio, readers[10:12], K.BOUNCED_HARD, later, campaign="1", trigger="12")
    _events(cio, readers[12:13], K.BOUNCED_SOFT, later, campaign="1", trigger="12")

    first, second = event_metrics.count(a), event_metrics.count(b)
    assert (first.delivered, first.opened, first.clicked, first.bounced) == (10, 4, 1, 0)
    assert (second.delivered, second.opened, second.bounced) == (10, 0, 3)
    assert first.note == event_metrics.NOTE


def test_a_campaign_counts_its_events_until_it_is_sent_again(make_integration, readers):
    iterable = make_integration("iterable")
    start = timezone.now() - timedelta(days=3)
    first = _send(iterable, "triggered_campaign", campaign="77", sent_at=start, key="1")
    again = start + timedelta(days=1)
    second = _send(iterable, "triggered_campaign", campaign="77", sent_at=again, key="2")
    _events(iterable, readers[:5], K.OPENED, start - timedelta(hours=1), campaign="77")
    _events(iterable, readers[:8], K.OPENED, start + timedelta(hours=2), campaign="77")
    _events(iterable, readers[:6], K.OPENED, again + timedelta(hours=2), campaign="77")
    _events(iterable, readers, K.OPENED, start + timedelta(hours=2), campaign="78")

    assert event_metrics.count(first).opened == 8  # not before it, not the second send's
    assert event_metrics.count(second).opened == 6


def test_a_delivery_stamped_before_the_console_saw_the_send_counts(make_integration, readers):
    """The platform stamps by its own clock, to the second (Iterable's createdAt)."""
    iterable = make_integration("iterable")
    sent = timezone.now().replace(microsecond=900_000)
    blast = _send(iterable, "blast_campaign", remote_id="501", sent_at=sent, key="it")
    _events(iterable, readers[:5], K.DELIVERED, sent.replace(microsecond=0), campaign="501")
    _events(iterable, readers[5:], K.DELIVERED, sent - timedelta(minutes=2), campaign="501")
    assert event_metrics.count(blast).delivered == 5


def test_the_source_of_a_sends_figures(make_integration, readers):
    cio, iterable, mailchimp = (
        make_integration(slug) for slug in ("customerio", "iterable", "mailchimp")
    )
    now = timezone.now()
    broadcast = _send(cio, "api_triggered_broadcast", trigger_id="5", campaign="1",
                      sent_at=now, key="cio")  # fmt: skip
    blast = _send(iterable, "blast_campaign", remote_id="501", sent_at=now, key="it")
    campaign = _send(mailchimp, "campaign", remote_id="abc", sent_at=now, key="mc")
    # No webhooks yet: Customer.io's API counts the broadcast, Iterable's nothing.
    assert metrics.source_of(broadcast) == metrics.API
    assert metrics.source_of(blast) == ""
    # A second trigger of the broadcast: its figures would count both; wait for the webhooks.
    _send(cio, "api_triggered_broadcast", trigger_id="6", campaign="1", sent_at=now, key="cio2")
    assert metrics.source_of(broadcast) == ""
    for integration in (cio, iterable, mailchimp):
        _receiving(integration)
    assert metrics.source_of(broadcast) == metrics.EVENTS
    assert metrics.source_of(blast) == metrics.EVENTS
    assert metrics.source_of(campaign) == metrics.API  # its API counts this send alone


def test_refresh_keeps_counted_figures_as_a_snapshot(make_integration, readers):
    iterable = make_integration("iterable")
    _receiving(iterable)
    now = timezone.now() - timedelta(hours=2)
    blast = _send(iterable, "blast_campaign", remote_id="501", sent_at=now, key="it")
    _events(iterable, readers, K.DELIVERED, now + timedelta(minutes=1), campaign="501")
    _events(iterable, readers[:7], K.OPENED, now + timedelta(minutes=5), campaign="501")
    _events(iterable, readers[:2], K.UNSUBSCRIBED, now + timedelta(minutes=9), campaign="501")

    result = metrics.refresh_metrics()
    assert (result.read, result.unsupported, result.failed) == (1, 0, [])
    snapshot = metrics.latest(blast)
    assert (snapshot.delivered, snapshot.opened, snapshot.unsubscribed) == (20, 7, 2)
    assert snapshot.clicked == 0 and snapshot.note == event_metrics.NOTE
    assert metrics.refresh_metrics().read == 0  # read 30 minutes later, not now
