"""The sandbox's engagement: the same on every run, rates as declared, subjects that differ."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from integrations.sandbox import engagement

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
READERS = [f"reader{i}@example.com" for i in range(20_000)]
LATER = SENT + engagement.HORIZON


def test_a_readers_events_are_the_same_whenever_they_are_asked():
    first = engagement.reader_events("send-1", "Ann@Example.com", "Hello", SENT)
    again = engagement.reader_events("send-1", "ann@example.com ", "Hello", SENT)
    assert first == again and first[0].kind in {"delivered", "bounced_hard", "bounced_soft"}
    assert [e.at for e in first] == sorted(e.at for e in first)


def test_the_shares_match_the_declared_rates_within_a_point():
    counts = engagement.totals("send-rates", READERS, "A subject", SENT, LATER)
    rates = engagement.DEFAULT_RATES
    n = counts["sent"]
    assert n == len(READERS)
    bounced = counts["bounced_hard"] + counts["bounced_soft"]
    assert abs(bounced / n - rates.bounce) < 0.01
    assert counts["delivered"] + bounced == n
    expected_open = engagement.open_rate("A subject")
    assert abs(counts["opened"] / counts["delivered"] - expected_open) < 0.01
    assert abs(counts["clicked"] / counts["opened"] - rates.click) < 0.015
    assert counts["unsubscribed"] <= counts["opened"]


def test_metrics_grow_over_time_and_stop_at_the_horizon():
    at = [SENT + timedelta(hours=h) for h in (0, 1, 6, 24, 72, 100)]
    opened = [engagement.totals("send-t", READERS[:5000], "S", SENT, t)["opened"] for t in at]
    assert opened[0] == 0
    assert opened == sorted(opened) and opened[1] < opened[2] < opened[3]
    assert opened[4] == opened[5]  # nothing after 72 h


def test_subjects_differ_by_a_stable_lift_unless_told_there_is_no_difference():
    lifts = {s: engagement.subject_lift(s) for s in ("Markets today", "Your Monday brief", "Q4")}
    assert all(abs(v) <= engagement.MAX_SUBJECT_LIFT for v in lifts.values())
    assert len(set(lifts.values())) == 3
    assert engagement.subject_lift("Markets today") == lifts["Markets today"]
    assert engagement.subject_lift("Markets today", engagement.NO_DIFFERENCE) == 0.0


def test_no_difference_mode_gives_every_subject_the_same_rates():
    a = engagement.totals("s", READERS, "Subject A", SENT, LATER, engagement.NO_DIFFERENCE)
    b = engagement.totals("s", READERS, "Subject B", SENT, LATER, engagement.NO_DIFFERENCE)
    assert a == b  # same send key and readers: the same fates


@pytest.mark.parametrize("mode", [engagement.BY_SUBJECT, engagement.NO_DIFFERENCE])
def test_events_until_streams_only_what_has_happened(mode):
    noon = SENT + timedelta(hours=3)
    events = list(engagement.events_until("send-e", READERS[:2000], "S", SENT, noon, mode))
    assert events and all(e.at <= noon for e in events)
    kinds = {e.kind for e in events}
    assert {"delivered", "opened"} <= kinds
