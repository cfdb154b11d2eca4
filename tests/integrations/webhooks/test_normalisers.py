"""Each platform's normaliser (integrations/platforms/<slug>/webhooks.py) on its real-shaped
sample: the kinds, who, when, the ids, the campaign and the link."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from integrations.platforms.registry import PLATFORM_MODULES, get_platform
from tests.integrations.webhooks.samples import READER, SAMPLES

RECEIVED = datetime(2027, 1, 1, tzinfo=UTC)


def parse(slug, body=None):
    sample, content_type, _ = SAMPLES[slug]
    client = get_platform(slug).__new__(get_platform(slug))  # no integration needed to parse
    return client.parse_webhook(sample if body is None else body, content_type, RECEIVED)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_the_sample_becomes_the_expected_events(slug):
    events = parse(slug)
    assert [(e.kind, e.email) for e in events] == SAMPLES[slug][2]
    assert all(e.occurred_at.tzinfo is not None for e in events)


@pytest.mark.parametrize("slug", PLATFORM_MODULES)
def test_a_body_of_the_wrong_shape_is_a_value_error(slug):
    with pytest.raises(ValueError):
        parse(slug, b"[1, 2]" if slug != "sendgrid" else b'{"a": 1}')


def test_sendgrid_fields():
    opened, clicked = parse("sendgrid")
    assert opened.event_id == "sg_event_id_open_1"
    assert opened.occurred_at == datetime.fromtimestamp(1796292000, UTC)
    assert clicked.url == "https://news.example.com/a"


def test_sendgrid_millisecond_timestamps_and_bounce_types():
    body = (
        b'[{"email": "a@example.com", "event": "bounce", "type": "blocked", "timestamp": 1796292000000},'
        b' {"email": "a@example.com", "event": "bounce", "type": "bounce", "timestamp": 1796292000}]'
    )
    blocked, bounced = parse("sendgrid", body)
    assert (blocked.kind, bounced.kind) == ("bounced_soft", "bounced_hard")
    assert blocked.occurred_at == bounced.occurred_at


def test_customerio_fields():
    (clicked,) = parse("customerio")
    assert clicked.event_id == "01E4C4CT6YDC7Y5M7FE1GWWPQJ"
    assert (clicked.remote_campaign_id, clicked.url) == ("17", "https://news.example.com/b")


def test_mailchimp_fields_and_cleaned_reasons():
    (unsub,) = parse("mailchimp")
    assert unsub.occurred_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert (unsub.remote_campaign_id, unsub.platform_id) == ("4fjk2ma9xd", "8a25ff1d98")
    assert unsub.event_id  # type + id + fired_at, stable across retries
    assert parse("mailchimp")[0].event_id == unsub.event_id
    abuse = b"type=cleaned&fired_at=2026-12-03+10%3A00%3A00&data%5Breason%5D=abuse&data%5Bemail%5D=a%40example.com"
    assert parse("mailchimp", abuse)[0].kind == "complained"
    hard = abuse.replace(b"abuse", b"hard")
    assert parse("mailchimp", hard)[0].kind == "bounced_hard"


def test_keap_carries_ids_only():
    (edited,) = parse("keap")
    assert (edited.platform_id, edited.email) == ("123", "")


def test_campaign_monitor_names_and_dates():
    deactivated, _ = parse("campaign_monitor")
    assert deactivated.data == {"first_name": "Ada", "last_name": "Reader"}
    assert deactivated.occurred_at == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_kit_legacy_hooks_read_the_subscribers_state():
    body = (
        b'{"subscriber": {"id": 1, "email_address": "%s", "state": "cancelled"}}' % READER.encode()
    )
    (event,) = parse("kit", body)
    assert event.kind == "unsubscribed" and event.occurred_at == RECEIVED


def test_unknown_event_types_become_nothing():
    assert parse("iterable", b'{"email": "a@example.com", "eventName": "smsSend"}') == []
    assert parse("braze", b'{"events": [{"event_type": "users.behaviors.CustomEvent"}]}') == []
