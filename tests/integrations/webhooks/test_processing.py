"""Normalised events → EngagementEvents and subscriber status (services/webhook_events.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audience.models import EngagementEvent, Subscriber, SubscriberStatus
from audience.profiles import ConflictPolicy
from audience.suppression import suppress
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.webhook_events import Kind, NormalisedEvent
from integrations.services import webhook_events
from tests.integrations.webhooks.samples import READER

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def event(kind, at=T0, email=READER, **fields):
    return NormalisedEvent(kind=kind, occurred_at=at, email=email, **fields)


@pytest.fixture
def reader(db):
    return Subscriber.objects.create(email=READER, first_name="Ada")


@pytest.fixture
def integration(webhook_integration):
    return webhook_integration("sendgrid")


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (Kind.UNSUBSCRIBED, SubscriberStatus.UNSUBSCRIBED),
        (Kind.BOUNCED_HARD, SubscriberStatus.BOUNCED),
        (Kind.COMPLAINED, SubscriberStatus.COMPLAINED),
    ],
)
def test_opt_outs_change_the_subscribers_status(integration, reader, kind, status):
    outcome = webhook_events.apply_events(integration, [event(kind)])
    reader.refresh_from_db()
    assert reader.status == status
    assert outcome.status_changes == 1


@pytest.mark.parametrize("kind", [Kind.BOUNCED_SOFT, Kind.DELIVERED, Kind.CONTACT_DELETED])
def test_other_events_leave_the_status(integration, reader, kind):
    webhook_events.apply_events(integration, [event(kind)])
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.SUBSCRIBED
    assert EngagementEvent.objects.get().kind == kind


def test_an_older_subscribe_after_a_newer_unsubscribe_changes_nothing(integration, reader):
    webhook_events.apply_events(integration, [event(Kind.UNSUBSCRIBED, T0)])
    outcome = webhook_events.apply_events(
        integration, [event(Kind.CONTACT_CREATED, T0 - timedelta(minutes=5))]
    )
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED
    assert outcome.kept_newer == 1


def test_an_older_unsubscribe_after_a_newer_resubscribe_in_sharpsend_changes_nothing(
    integration, reader
):
    """The reader came back (a newer subscribe recorded): a delayed old unsubscribe does not
    throw them out again."""
    webhook_events.apply_events(integration, [event(Kind.CONTACT_CREATED, T0)])
    webhook_events.apply_events(integration, [event(Kind.UNSUBSCRIBED, T0 - timedelta(hours=1))])
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.SUBSCRIBED


def test_a_newer_subscribe_never_undoes_an_opt_out(integration, reader):
    webhook_events.apply_events(integration, [event(Kind.COMPLAINED, T0)])
    webhook_events.apply_events(integration, [event(Kind.CONTACT_CREATED, T0 + timedelta(days=1))])
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.COMPLAINED


def test_out_of_order_within_one_batch(integration, reader):
    batch = [event(Kind.UNSUBSCRIBED, T0), event(Kind.CONTACT_CREATED, T0 - timedelta(seconds=1))]
    webhook_events.apply_events(integration, batch)
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED


def test_opens_and_clicks_count_once_each_and_keep_the_latest_time(integration, reader):
    later, earlier = T0 + timedelta(hours=1), T0
    events = [
        event(Kind.OPENED, later, event_id="o1"),
        event(Kind.OPENED, earlier, event_id="o2"),
        event(Kind.CLICKED, earlier, event_id="c1", url="https://news.example.com/a"),
    ]
    webhook_events.apply_events(integration, events)
    outcome = webhook_events.apply_events(integration, events)  # replayed: nothing twice
    reader.refresh_from_db()
    assert (reader.opens_count, reader.clicks_count) == (2, 1)
    assert reader.last_opened_at == later and reader.last_clicked_at == earlier
    assert outcome.duplicates == 3 and outcome.recorded == 0
    assert EngagementEvent.objects.get(kind=Kind.CLICKED).url == "https://news.example.com/a"


def test_events_without_an_id_are_deduplicated_by_what_they_say(integration, reader):
    webhook_events.apply_events(integration, [event(Kind.OPENED)])
    webhook_events.apply_events(integration, [event(Kind.OPENED)])
    webhook_events.apply_events(integration, [event(Kind.OPENED, T0 + timedelta(seconds=1))])
    assert EngagementEvent.objects.filter(kind=Kind.OPENED).count() == 2


def test_an_unknown_or_suppressed_reader_creates_nothing(integration):
    suppress("gone@example.com")
    outcome = webhook_events.apply_events(
        integration,
        [
            event(Kind.UNSUBSCRIBED, email="nobody@example.com"),
            event(Kind.OPENED, email="gone@example.com"),
        ],
    )
    assert outcome.unknown == 2
    assert not Subscriber.objects.exists() and not EngagementEvent.objects.exists()


def test_the_email_is_matched_case_insensitively(integration, reader):
    webhook_events.apply_events(
        integration, [event(Kind.UNSUBSCRIBED, email=" Reader@Example.COM ")]
    )
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED


@pytest.mark.parametrize(
    ("policy", "first_name"),
    [(ConflictPolicy.SHARPSEND_WINS, "Ada"), (ConflictPolicy.PLATFORM_WINS, "Adeline")],
)
def test_contact_updates_follow_the_conflict_policy(
    webhook_integration, reader, policy, first_name
):
    integration = webhook_integration("campaign_monitor", conflict_policy=policy)
    webhook_events.apply_events(
        integration, [event(Kind.CONTACT_UPDATED, data={"first_name": "Adeline"})]
    )
    reader.refresh_from_db()
    assert reader.first_name == first_name


def _stored(integration, body: bytes, content_type="application/json"):
    return WebhookEvent.objects.create(
        integration=integration,
        dedupe_key="sha256:x",
        body=body,
        content_type=content_type,
        state=WebhookState.VERIFIED,
    )


def test_a_delivery_that_fails_is_kept_failed_and_replays(webhook_integration, reader):
    integration = webhook_integration("sendgrid")
    stored = _stored(integration, b'{"not": "an array"}')
    webhook_events.process(stored.pk)
    stored.refresh_from_db()
    assert stored.state == WebhookState.FAILED
    assert "ValueError" in stored.error and stored.attempts == 1
    # Fixed (say, after a normaliser fix) and replayed:
    WebhookEvent.objects.filter(pk=stored.pk).update(
        body=b'[{"email": "reader@example.com", "event": "spamreport", "timestamp": 1796292000}]'
    )
    stored.refresh_from_db()
    webhook_events.replay(stored)
    stored.refresh_from_db()
    assert stored.state == WebhookState.PROCESSED and stored.attempts == 2 and not stored.error
    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.COMPLAINED


def test_a_processed_delivery_is_not_processed_again(webhook_integration, reader):
    integration = webhook_integration("sendgrid")
    stored = _stored(
        integration, b'[{"email": "reader@example.com", "event": "open", "timestamp": 1796292000}]'
    )
    webhook_events.process(stored.pk)
    webhook_events.process(stored.pk)
    stored.refresh_from_db()
    assert stored.attempts == 1
    reader.refresh_from_db()
    assert reader.opens_count == 1


def test_unknown_event_types_are_processed_with_a_note(webhook_integration):
    integration = webhook_integration("sendgrid")
    stored = _stored(integration, b'[{"email": "x@example.com", "event": "group_resubscribe"}]')
    webhook_events.process(stored.pk)
    stored.refresh_from_db()
    assert stored.state == WebhookState.PROCESSED and stored.note


def test_a_delivery_of_events_already_recorded_is_a_duplicate(webhook_integration, reader):
    integration = webhook_integration("sendgrid")
    body = b'[{"email": "reader@example.com", "event": "open", "sg_event_id": "e1", "timestamp": 1796292000}]'
    first = _stored(integration, body)
    again = WebhookEvent.objects.create(
        integration=integration,
        dedupe_key="sha256:y",
        body=body.replace(b"[", b"[ ", 1),
        content_type="application/json",
        state=WebhookState.VERIFIED,
    )
    webhook_events.process(first.pk)
    webhook_events.process(again.pk)
    again.refresh_from_db()
    assert again.state == WebhookState.DUPLICATE
    reader.refresh_from_db()
    assert reader.opens_count == 1
