"""Recording engagement once, opting readers out, computing the engagement fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from audience.engagement import Observed, computed, record, refresh
from audience.models import EngagementEvent, EngagementKind, Subscriber, SubscriberStatus
from integrations.models import Integration

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def integration():
    return Integration.objects.create(platform="customerio", name="cio", region="us")


@pytest.fixture
def ann():
    return Subscriber.objects.create(email="ann@example.com")


def seen(kind, campaign="c1", minutes=0, email="Ann@Example.com", key=None):
    return Observed(
        email=email, kind=kind, occurred_at=T0 + timedelta(minutes=minutes),
        dedupe_key=key or f"{campaign}:{kind}:{email.lower()}:{minutes}", remote_campaign_id=campaign,
    )  # fmt: skip


def test_events_are_stored_once_and_fields_computed_from_them(integration, ann):
    events = [
        seen(EngagementKind.DELIVERED, "c1"),
        seen(EngagementKind.OPENED, "c1", 10),
        seen(EngagementKind.OPENED, "c1", 50),  # a second open of the same send
        seen(EngagementKind.CLICKED, "c1", 52),
        seen(EngagementKind.DELIVERED, "c2", 1440),
    ]
    first = record(integration, events, source="webhook")
    assert (first.created, first.duplicates, first.refreshed) == (5, 0, 1)
    ann.refresh_from_db()
    assert (ann.opens_count, ann.clicks_count, ann.sends_received) == (2, 1, 2)
    assert (ann.open_rate, ann.click_rate) == (0.5, 0.5)
    assert ann.engagement_score == 50  # 60 % × 0.5 + 40 % × 0.5
    assert ann.last_opened_at == T0 + timedelta(minutes=50)
    assert ann.last_interaction_at == T0 + timedelta(minutes=52)

    updated_at = ann.updated_at
    again = record(integration, events, source="webhook")  # a redelivery of every event
    assert (again.created, again.duplicates, again.refreshed) == (0, 5, 0)
    ann.refresh_from_db()
    assert ann.opens_count == 2 and ann.updated_at == updated_at
    assert EngagementEvent.objects.count() == 5


def test_the_same_key_from_another_integration_is_another_event(integration, ann):
    other = Integration.objects.create(platform="klaviyo", name="kl")
    record(integration, [seen(EngagementKind.OPENED, key="evt-1")], source="webhook")
    record(other, [seen(EngagementKind.OPENED, key="evt-1")], source="webhook")
    ann.refresh_from_db()
    assert ann.opens_count == 2


def test_a_duplicate_inside_one_batch_counts_once(integration, ann):
    result = record(integration, [seen(EngagementKind.OPENED, key="k")] * 3, source="webhook")
    assert (result.created, result.duplicates) == (1, 2)
    ann.refresh_from_db()
    assert ann.opens_count == 1


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (EngagementKind.UNSUBSCRIBED, SubscriberStatus.UNSUBSCRIBED),
        (EngagementKind.COMPLAINED, SubscriberStatus.COMPLAINED),
        (EngagementKind.BOUNCED_HARD, SubscriberStatus.BOUNCED),
    ],
)
def test_opt_out_events_change_the_readers_status(integration, ann, kind, status):
    result = record(integration, [seen(kind)], source="webhook")
    ann.refresh_from_db()
    assert ann.status == status and result.opted_out == 1


def test_a_soft_bounce_opts_nobody_out_and_an_opted_out_reader_stays_as_they_are(integration, ann):
    record(integration, [seen(EngagementKind.BOUNCED_SOFT)], source="webhook")
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.SUBSCRIBED
    ann.status = SubscriberStatus.COMPLAINED
    ann.save()
    result = record(integration, [seen(EngagementKind.UNSUBSCRIBED, minutes=5)], source="webhook")
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.COMPLAINED and result.opted_out == 0


def test_the_earliest_opt_out_in_a_batch_decides_the_status(integration, ann):
    record(
        integration,
        [seen(EngagementKind.COMPLAINED, minutes=9), seen(EngagementKind.UNSUBSCRIBED, minutes=3)],
        source="webhook",
    )
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.UNSUBSCRIBED


def test_events_for_unknown_addresses_are_kept_for_the_send_and_create_nobody(integration):
    result = record(
        integration, [seen(EngagementKind.OPENED, email="stranger@example.com")], source="metrics"
    )
    assert result.unknown_readers == 1 and result.created == 1
    assert Subscriber.objects.count() == 0
    assert EngagementEvent.objects.get().subscriber is None


def test_opens_without_deliveries_still_count_as_received():
    assert computed({"opens": 3, "sends_opened": 2, "sends_clicked": 1, "received": 0}) == {
        "opens_count": 3, "clicks_count": 0, "last_opened_at": None, "last_clicked_at": None,
        "sends_received": 2, "open_rate": 1.0, "click_rate": 0.5, "engagement_score": 80,
        "last_interaction_at": None,
    }  # fmt: skip


def test_refresh_of_nobody_does_nothing():
    assert refresh([]) == 0
