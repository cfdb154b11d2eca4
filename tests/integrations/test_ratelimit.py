"""The shared GCRA rate limiter (one database row a limit), on the fake clock."""

from __future__ import annotations

import pytest

from integrations import ratelimit
from integrations.models import RateLimitState
from integrations.ratelimit import Rate, RateLimitWaitTooLong

pytestmark = pytest.mark.django_db


def test_rate_interval_and_tolerance():
    assert Rate(5, 1.0).interval == pytest.approx(0.2)
    assert Rate(5, 60.0).interval == pytest.approx(12.0)
    assert Rate(10).tolerance == 0
    assert Rate(10, 1.0, burst=4).tolerance == pytest.approx(0.3)


def test_first_request_is_immediate(fake_clock):
    assert ratelimit.acquire("k", Rate(5, 1.0)) == 0.0
    assert fake_clock.sleeps == []
    assert RateLimitState.objects.get(key="k").tat == pytest.approx(fake_clock.time + 0.2)


@pytest.mark.parametrize("n", [2, 5, 11])
def test_requests_are_spaced_evenly(fake_clock, n):
    start = fake_clock.time
    sent_at = []
    for _ in range(n):
        ratelimit.acquire("k", Rate(5, 1.0))
        sent_at.append(fake_clock.time)
    assert fake_clock.time - start == pytest.approx((n - 1) * 0.2)
    assert [t - start for t in sent_at] == [pytest.approx(i * 0.2) for i in range(n)]
    # No window of one second holds more than five requests.
    for i, t in enumerate(sent_at):
        assert sum(1 for u in sent_at if t <= u < t + 1.0 - 1e-9) <= 5, i


def test_acquire_returns_the_time_waited(fake_clock):
    ratelimit.acquire("k", Rate(2, 1.0))
    assert ratelimit.acquire("k", Rate(2, 1.0)) == pytest.approx(0.5)


def test_time_passing_frees_the_slot(fake_clock):
    ratelimit.acquire("k", Rate(1, 10.0))
    fake_clock.time += 10
    assert ratelimit.acquire("k", Rate(1, 10.0)) == 0.0
    assert fake_clock.sleeps == []


def test_burst_allows_back_to_back_requests_then_spaces(fake_clock):
    rate = Rate(5, 1.0, burst=3)
    start = fake_clock.time
    for _ in range(3):
        ratelimit.acquire("k", rate)
    assert fake_clock.time == start  # three at once
    ratelimit.acquire("k", rate)
    assert fake_clock.time - start == pytest.approx(0.2)
    ratelimit.acquire("k", rate)
    assert fake_clock.time - start == pytest.approx(0.4)


def test_keys_are_independent(fake_clock):
    ratelimit.acquire("a", Rate(1, 60.0))
    ratelimit.acquire("b", Rate(1, 60.0))
    assert fake_clock.sleeps == []
    assert RateLimitState.objects.count() == 2


def test_pause_is_honoured_by_the_next_acquire(fake_clock):
    rate = Rate(5, 1.0)
    ratelimit.acquire("k", rate)
    ratelimit.pause("k", 10, rate)
    assert ratelimit.acquire("k", rate) == pytest.approx(10)
    # and spacing resumes after the pause
    assert ratelimit.acquire("k", rate) == pytest.approx(0.2)


def test_pause_on_a_fresh_key(fake_clock):
    ratelimit.pause("fresh", 3, Rate(100, 1.0))
    assert ratelimit.acquire("fresh", Rate(100, 1.0)) == pytest.approx(3)


def test_a_shorter_pause_never_shortens_a_longer_one(fake_clock):
    rate = Rate(5, 1.0)
    ratelimit.pause("k", 10, rate)
    ratelimit.pause("k", 2, rate)
    assert ratelimit.acquire("k", rate) == pytest.approx(10)


def test_a_pause_holds_off_bursts_too(fake_clock):
    rate = Rate(5, 1.0, burst=3)
    ratelimit.pause("k", 4, rate)
    assert ratelimit.acquire("k", rate) == pytest.approx(4)


def test_max_wait_raises_without_waiting_or_taking_a_slot(fake_clock):
    rate = Rate(1, 60.0)
    ratelimit.acquire("k", rate)
    tat = RateLimitState.objects.get(key="k").tat
    with pytest.raises(RateLimitWaitTooLong) as caught:
        ratelimit.acquire("k", rate, max_wait=5)
    assert caught.value.wait == pytest.approx(60)
    assert "60.0s" in str(caught.value)
    assert fake_clock.sleeps == []
    assert RateLimitState.objects.get(key="k").tat == tat


def test_max_wait_long_enough_waits(fake_clock):
    rate = Rate(1, 60.0)
    ratelimit.acquire("k", rate)
    assert ratelimit.acquire("k", rate, max_wait=60) == pytest.approx(60)


def test_max_wait_counts_a_pause(fake_clock):
    rate = Rate(100, 1.0)
    ratelimit.pause("k", 30, rate)
    with pytest.raises(RateLimitWaitTooLong):
        ratelimit.acquire("k", rate, max_wait=29)
    assert ratelimit.acquire("k", rate, max_wait=30) == pytest.approx(30)


def test_state_lives_in_the_database(fake_clock):
    """Another process reading the same row sees the same limit."""
    rate = Rate(1, 60.0)
    ratelimit.acquire("shared", rate)
    RateLimitState.objects.filter(key="shared").update(tat=fake_clock.time + 500)
    assert ratelimit.acquire("shared", rate) == pytest.approx(500)


def _simulate(fake_clock, workers: int, rate: Rate, send_at: float | None, until: float):
    """Bulk workers (and maybe one send arriving at `send_at`) polling one key on the fake
    clock, each waking when the limiter told it to: returns (admissions, send's wait)."""
    start = fake_clock.time
    wake = {f"bulk{i}": start for i in range(workers)}
    if send_at is not None:
        wake["send"] = start + send_at
    admitted: list[tuple[float, str]] = []
    send_waited = None
    while wake:
        name = min(wake, key=lambda n: (wake[n], n))
        if wake[name] - start > until:
            break
        fake_clock.time = max(fake_clock.time, wake[name])
        wait = ratelimit._reserve("shared", rate, priority=name == "send")
        if wait > 0:
            wake[name] = fake_clock.time + wait
            continue
        admitted.append((fake_clock.time, name))
        if name == "send":
            send_waited = fake_clock.time - (start + send_at)
            del wake[name]
    return admitted, send_waited


def test_a_send_takes_the_next_slot_ahead_of_every_waiting_bulk_worker(fake_clock):
    rate = Rate(10, 1.0)
    admitted, send_waited = _simulate(fake_clock, workers=4, rate=rate, send_at=3.05, until=6)
    assert send_waited is not None and send_waited <= rate.interval + 1e-6
    times = [t for t, _ in admitted]
    assert all(b - a >= rate.interval - 1e-6 for a, b in zip(times, times[1:], strict=False)), (
        "rate exceeded"
    )
    # Bulk work goes on after the send: the claim lapses by itself.
    assert any(name != "send" and t > 3.05 + 1 for t, name in admitted)


def test_without_a_send_bulk_workers_use_the_whole_rate(fake_clock):
    rate = Rate(10, 1.0)
    admitted, _ = _simulate(fake_clock, workers=3, rate=rate, send_at=None, until=5)
    assert 49 <= len(admitted) <= 51


def test_a_claim_left_by_a_send_that_died_lapses(fake_clock):
    rate = Rate(2, 1.0)
    ratelimit.acquire("k", rate)
    assert ratelimit._reserve("k", rate, priority=True) > 0  # claims, then never comes back
    claim = RateLimitState.objects.get(key="k").priority_until
    assert claim <= fake_clock.time + 2 * rate.interval + ratelimit.CLAIM_GRACE_SECONDS
    assert ratelimit._reserve("k", rate) > 0  # bulk holds off while the claim stands
    fake_clock.time = claim
    assert ratelimit._reserve("k", rate) == 0.0
