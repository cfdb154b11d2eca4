"""Deliveries processed in batches (services/webhook_events.drain): the same results as one by
one, each delivery once, a broken one failing alone, a crash leaving the batch pending, and
the endpoint queueing a drain only when none is at work."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from audience.models import EngagementEvent, Subscriber, SubscriberStatus
from integrations import tasks
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.webhook_events import Kind, NormalisedEvent
from integrations.sandbox import webhooks as signing
from integrations.services import queue, webhook_events, webhooks
from integrations.services.webhooks import DRAIN_TASK, webhook_path
from tests.integrations.webhooks.samples import signing_secret
from tests.processes import process_env

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
EPOCH = int(T0.timestamp())


def sendgrid_body(*events: dict) -> bytes:
    return json.dumps(list(events)).encode()


def sg(email: str, event: str, at: int = EPOCH, event_id: str = "", **fields) -> dict:
    entry = {"email": email, "event": event, "timestamp": at, **fields}
    if event_id:
        entry["sg_event_id"] = event_id
    return entry


def stored(integration, body: bytes, key: str, received_at=None) -> WebhookEvent:
    event = WebhookEvent.objects.create(
        integration=integration,
        dedupe_key=key,
        body=body,
        content_type="application/json",
        state=WebhookState.VERIFIED,
    )
    if received_at is not None:
        WebhookEvent.objects.filter(pk=event.pk).update(received_at=received_at)
    return event


@pytest.fixture
def integration(webhook_integration):
    return webhook_integration("sendgrid")


def test_a_drain_processes_every_pending_delivery_once_in_batches(integration):
    readers = [Subscriber.objects.create(email=f"r{i}@example.com") for i in range(7)]
    for n in range(250):
        email = readers[n % 7].email
        kind = ("open", "click", "delivered")[n % 3]
        body = sendgrid_body(sg(email, kind, EPOCH + n, f"e{n}", singlesend_id=f"s{n % 5}"))
        stored(integration, body, f"sha256:{n}")

    done = webhook_events.drain(integration.pk, batch_size=100)

    assert (done.batches, done.processed, done.failed) == (3, 250, 0)
    inbox = WebhookEvent.objects.filter(integration=integration)
    assert set(inbox.values_list("state", flat=True)) == {WebhookState.PROCESSED}
    assert set(inbox.values_list("attempts", flat=True)) == {1}
    assert EngagementEvent.objects.count() == 250
    for reader in readers:
        reader.refresh_from_db()
        events = EngagementEvent.objects.filter(subscriber=reader)
        assert reader.opens_count == events.filter(kind=Kind.OPENED).count() > 0
        assert reader.clicks_count == events.filter(kind=Kind.CLICKED).count() > 0
    # Nothing left: a second drain finds nothing and changes nothing.
    assert webhook_events.drain(integration.pk).batches == 0
    assert set(inbox.values_list("attempts", flat=True)) == {1}


def test_a_batch_holds_a_bounded_number_of_events(integration, monkeypatch):
    """Deliveries of many events each (SendGrid posts arrays) make smaller batches; a
    delivery bigger than the bound still goes, alone."""
    monkeypatch.setattr(webhook_events, "BATCH_EVENTS", 10)
    reader = Subscriber.objects.create(email="reader@example.com")
    sizes = [4, 4, 4, 12, 1]
    for n, size in enumerate(sizes):
        events = [sg(reader.email, "open", EPOCH + i, f"d{n}-{i}") for i in range(size)]
        stored(integration, sendgrid_body(*events), f"k{n}")

    done = webhook_events.drain(integration.pk, linger=0)

    assert (done.batches, done.processed) == (4, 5)  # [4 + 4], [4], [12], [1]
    reader.refresh_from_db()
    assert reader.opens_count == sum(sizes) == EngagementEvent.objects.count()


def test_the_same_event_in_two_deliveries_of_one_batch_counts_once(integration):
    reader = Subscriber.objects.create(email="reader@example.com")
    body = sendgrid_body(sg(reader.email, "open", event_id="same"))
    first = stored(integration, body, "sha256:a")
    again = stored(integration, body.replace(b"[", b"[ ", 1), "sha256:b")

    webhook_events.drain(integration.pk)

    first.refresh_from_db()
    again.refresh_from_db()
    assert (first.state, again.state) == (WebhookState.PROCESSED, WebhookState.DUPLICATE)
    reader.refresh_from_db()
    assert reader.opens_count == 1 == EngagementEvent.objects.count()


def test_an_old_subscribe_in_a_later_delivery_of_the_batch_does_not_undo_an_unsubscribe(
    integration,
):
    reader = Subscriber.objects.create(email="reader@example.com")
    unsubscribe = NormalisedEvent(kind=Kind.UNSUBSCRIBED, occurred_at=T0, email=reader.email)
    old = NormalisedEvent(
        kind=Kind.CONTACT_CREATED, occurred_at=T0 - timedelta(minutes=5), email=reader.email
    )

    outcomes = webhook_events.apply_batch(integration, [[unsubscribe], [old]])

    reader.refresh_from_db()
    assert reader.status == SubscriberStatus.UNSUBSCRIBED
    assert (outcomes[0].status_changes, outcomes[1].kept_newer) == (1, 1)


# --- one batch gives what one by one gives ------------------------------------------------------

KINDS = [
    Kind.OPENED,
    Kind.CLICKED,
    Kind.DELIVERED,
    Kind.UNSUBSCRIBED,
    Kind.BOUNCED_HARD,
    Kind.BOUNCED_SOFT,
    Kind.COMPLAINED,
    Kind.CONTACT_CREATED,
    Kind.CONTACT_UPDATED,
]


def _deliveries(rng: random.Random, prefix: str) -> list[list[NormalisedEvent]]:
    """Random deliveries for three readers `prefix`0..2: any kind, times out of order, some
    events repeated (same id), some without an id."""
    deliveries, sent = [], []
    for _ in range(rng.randint(1, 8)):
        events = []
        for _ in range(rng.randint(1, 4)):
            if sent and rng.random() < 0.15:
                events.append(rng.choice(sent))  # a platform's retry inside another delivery
                continue
            kind = rng.choice(KINDS)
            reader = rng.randrange(3)
            event = NormalisedEvent(
                kind=kind,
                occurred_at=T0 + timedelta(minutes=rng.randint(-30, 30)),
                email=f"{prefix}{reader}@example.com",
                event_id=f"{prefix}-{len(sent)}" if rng.random() < 0.7 else "",
                remote_campaign_id=rng.choice(["", "c1", "c2"]),
                data={"first_name": rng.choice(["Ada", "Grace"])}
                if kind in (Kind.CONTACT_CREATED, Kind.CONTACT_UPDATED)
                else {},
            )
            sent.append(event)
            events.append(event)
        deliveries.append(events)
    return deliveries


def _renamed(deliveries, old: str, new: str):
    return [
        [
            NormalisedEvent(
                kind=e.kind,
                occurred_at=e.occurred_at,
                email=new + e.email.removeprefix(old),
                event_id=new + e.event_id.removeprefix(old) if e.event_id else "",
                remote_campaign_id=e.remote_campaign_id,
                data=dict(e.data),
            )
            for e in events
        ]
        for events in deliveries
    ]


def _state(prefix: str) -> list[tuple]:
    fields = ("status", "first_name", "opens_count", "clicks_count", "sends_received")
    fields += ("open_rate", "click_rate", "engagement_score", "last_interaction_at")
    return [
        Subscriber.objects.filter(email=f"{prefix}{i}@example.com").values_list(*fields).get()
        for i in range(3)
    ]


@pytest.mark.parametrize("seed", range(25))
def test_one_batch_records_what_one_delivery_at_a_time_records(webhook_integration, seed):
    integration = webhook_integration("campaign_monitor", conflict_policy="platform_wins")
    for prefix in ("a", "b"):
        for i in range(3):
            Subscriber.objects.create(email=f"{prefix}{i}@example.com", first_name="Start")
    deliveries = _deliveries(random.Random(seed), "a")

    one_by_one = [webhook_events.apply_events(integration, events) for events in deliveries]
    batched = webhook_events.apply_batch(integration, _renamed(deliveries, "a", "b"))

    assert _state("b") == _state("a")
    assert [vars(o) for o in batched] == [vars(o) for o in one_by_one]


# --- failures -----------------------------------------------------------------------------------


def test_a_delivery_that_cannot_be_parsed_fails_alone(integration):
    reader = Subscriber.objects.create(email="reader@example.com")
    good = stored(integration, sendgrid_body(sg(reader.email, "open", event_id="o")), "k1")
    bad = stored(integration, b'{"not": "an array"}', "k2")

    done = webhook_events.drain(integration.pk)

    good.refresh_from_db()
    bad.refresh_from_db()
    assert (done.processed, done.failed) == (1, 1)
    assert good.state == WebhookState.PROCESSED
    assert bad.state == WebhookState.FAILED and "ValueError" in bad.error
    reader.refresh_from_db()
    assert reader.opens_count == 1


def test_a_delivery_whose_events_fail_to_apply_fails_alone(integration, monkeypatch):
    """One delivery breaks the batch's insert: the batch is redone one delivery at a time, so
    only that one is failed (and keeps its error for a replay)."""
    readers = [Subscriber.objects.create(email=f"r{i}@example.com") for i in range(3)]
    deliveries = [
        stored(integration, sendgrid_body(sg(r.email, "open", event_id=f"o{i}")), f"k{i}")
        for i, r in enumerate(readers)
    ]
    real_row = webhook_events._row

    def row(integration, subscriber, event, key):
        if subscriber.email == "r1@example.com":
            raise RuntimeError("a broken normaliser")
        return real_row(integration, subscriber, event, key)

    monkeypatch.setattr(webhook_events, "_row", row)
    webhook_events.drain(integration.pk)

    states = [WebhookEvent.objects.get(pk=d.pk).state for d in deliveries]
    assert states == [WebhookState.PROCESSED, WebhookState.FAILED, WebhookState.PROCESSED]
    assert "a broken normaliser" in WebhookEvent.objects.get(pk=deliveries[1].pk).error
    assert sorted(EngagementEvent.objects.values_list("dedupe_key", flat=True)) == ["o0", "o2"]

    monkeypatch.setattr(webhook_events, "_row", real_row)  # fixed, then replayed
    replayed = webhook_events.replay(WebhookEvent.objects.get(pk=deliveries[1].pk))
    assert replayed.state == WebhookState.PROCESSED and replayed.attempts == 2
    assert EngagementEvent.objects.count() == 3


KILLED_DRAIN = """
import sys, time
import django
django.setup()
from audience import engagement
from integrations.services import webhook_events

def refresh(ids):
    print("in the batch", flush=True)  # the events are inserted, nothing committed
    time.sleep(60)

engagement.refresh = refresh
webhook_events.drain(int(sys.argv[1]))
"""


@pytest.mark.django_db(transaction=True)
def test_a_drain_killed_mid_batch_loses_nothing_and_records_nothing_twice(webhook_integration):
    integration = webhook_integration("sendgrid")
    reader = Subscriber.objects.create(email="reader@example.com")
    for n in range(30):
        stored(integration, sendgrid_body(sg(reader.email, "open", EPOCH + n, f"o{n}")), f"k{n}")

    drain = subprocess.Popen(
        [sys.executable, "-c", KILLED_DRAIN, str(integration.pk)],
        env=process_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert drain.stdout.readline().strip() == "in the batch"
        drain.send_signal(signal.SIGKILL)
        drain.wait(timeout=30)
    finally:
        if drain.poll() is None:
            drain.kill()

    inbox = WebhookEvent.objects.filter(integration=integration)
    assert set(inbox.values_list("state", "attempts")) == {(WebhookState.VERIFIED, 0)}
    assert not EngagementEvent.objects.exists()

    done = webhook_events.drain(integration.pk)  # the next drain (or the housekeeping's)

    assert done.processed == 30
    assert set(inbox.values_list("state", "attempts")) == {(WebhookState.PROCESSED, 1)}
    reader.refresh_from_db()
    assert reader.opens_count == 30 == EngagementEvent.objects.count()


# --- when a drain is queued ---------------------------------------------------------------------


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: calls.append(args))
    return calls


@pytest.fixture
def post(client, fake_clock, django_capture_on_commit_callbacks):
    """post(integration, n) → the endpoint's answer to a signed delivery of event n (what
    it queues once its transaction commits is queued)."""

    def post(integration, n: int):
        body = sendgrid_body(sg("reader@example.com", "open", EPOCH + n, f"p{n}"))
        signed = signing.sign("sendgrid", body, signing_secret("sendgrid"), fake_clock.time)
        headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in signed.headers.items()}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                webhook_path(integration), data=body, content_type="application/json", **headers
            )

    return post


def test_the_endpoint_queues_a_drain_only_when_none_is_at_work(integration, queued, post):
    Subscriber.objects.create(email="reader@example.com")
    for n in range(3):
        assert post(integration, n).status_code == 200
    # The first delivery queued a drain; the next two found it pending (the drain takes them).
    assert queued == [(DRAIN_TASK, integration.pk)]

    tasks.drain_webhook_events(integration.pk)
    assert post(integration, 3).status_code == 200
    assert queued == [(DRAIN_TASK, integration.pk)] * 2
    assert post(integration, 1).status_code == 200  # a redelivery
    assert len(queued) == 2


def test_the_housekeeping_drains_deliveries_left_pending(
    integration, queued, django_capture_on_commit_callbacks
):
    body = sendgrid_body(sg("reader@example.com", "open"))
    stored(integration, body, "fresh")
    assert webhook_events.drain_stalled() == 0  # a drain may well be at work on it
    stored(integration, body, "old", received_at=timezone.now() - timedelta(minutes=2))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.look_after_webhooks() == "1 webhook drains queued"
    assert queued == [(DRAIN_TASK, integration.pk)]


def test_a_changed_secret_is_used_at_once(integration, post):
    """The endpoint keeps the integrations it verified for; a saved change is read again."""
    assert post(integration, 0).status_code == 200
    time.sleep(0.002)  # updated_at moves on
    credentials = dict(integration.credentials)
    credentials[integration.platform_class.webhook_scheme.secret.key] = "another-key"
    integration.credentials = credentials
    integration.save()
    assert post(integration, 1).status_code == 401
    integration.enabled = False
    integration.save()
    assert post(integration, 2).status_code == 404
    assert webhooks.find_integration(integration.webhook_id) is None


TWO_DRAINS = """
import sys
import django
django.setup()
from integrations.services import webhook_events
print(webhook_events.drain(int(sys.argv[1]), batch_size=20, linger=0).processed, flush=True)
"""


@pytest.mark.django_db(transaction=True)
def test_two_drains_side_by_side_process_each_delivery_once(webhook_integration):
    integration = webhook_integration("sendgrid")
    readers = [Subscriber.objects.create(email=f"r{i}@example.com") for i in range(5)]
    for n in range(300):
        body = sendgrid_body(sg(readers[n % 5].email, "open", EPOCH + n, f"o{n}"))
        stored(integration, body, f"k{n}")

    drains = [
        subprocess.Popen(
            [sys.executable, "-c", TWO_DRAINS, str(integration.pk)],
            env=process_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [drain.communicate(timeout=120)[0] for drain in drains]

    assert sum(int(output.strip().splitlines()[-1]) for output in outputs) == 300, outputs
    inbox = WebhookEvent.objects.filter(integration=integration)
    assert set(inbox.values_list("state", "attempts")) == {(WebhookState.PROCESSED, 1)}
    for reader in readers:
        reader.refresh_from_db()
        assert reader.opens_count == 60
    assert EngagementEvent.objects.count() == 300
