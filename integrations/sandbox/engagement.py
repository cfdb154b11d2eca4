"""What readers do with a send the sandbox delivered: deterministic, seeded engagement.

Every emulator that sends (campaigns, broadcasts, triggered journeys) asks here what each
recipient did and when, so metrics endpoints, webhooks and A/B tests see the same story on every
run: a reader's fate is a hash of (send, reader), never a random draw. Rates depend on the
subject line (a stable lift per subject, up to ±MAX_SUBJECT_LIFT on the open rate), so two
variants of a test differ and one wins; with `NO_DIFFERENCE` every subject has the same rates and
a test should reach "no clear winner".

Opens and clicks arrive over time after the send (exponential delays, most in the first hours,
none after 72 h), so metrics refreshed at different times grow as a platform's do.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

BY_SUBJECT = "by_subject"
NO_DIFFERENCE = "no_difference"
MAX_SUBJECT_LIFT = 0.06
HORIZON = timedelta(hours=72)


@dataclass(frozen=True)
class Rates:
    """Shares of recipients. `click` is of openers (click-to-open); the rest of all sent."""

    open: float = 0.30
    click: float = 0.15
    bounce: float = 0.02
    hard_bounce_share: float = 0.5  # of bounces
    unsubscribe: float = 0.004
    complaint: float = 0.0005
    mean_open_delay_hours: float = 5.0
    mean_click_delay_minutes: float = 20.0


DEFAULT_RATES = Rates()


@dataclass(frozen=True)
class Event:
    email: str
    kind: str  # delivered, bounced_hard, bounced_soft, opened, clicked, unsubscribed, complained
    at: datetime


def _uniform(*parts: str) -> float:
    digest = hashlib.blake2b(":".join(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def subject_lift(subject: str, mode: str = BY_SUBJECT) -> float:
    """The subject's stable shift of the open rate (0 when every subject performs alike)."""
    if mode == NO_DIFFERENCE:
        return 0.0
    return (2 * _uniform("subject", subject.strip()) - 1) * MAX_SUBJECT_LIFT


def open_rate(subject: str, mode: str = BY_SUBJECT, rates: Rates = DEFAULT_RATES) -> float:
    return min(max(rates.open + subject_lift(subject, mode), 0.0), 1.0)


def _delay(u: float, mean: timedelta) -> timedelta:
    """An exponential delay of this mean, from a uniform draw, cut at the horizon."""
    return min(mean * -math.log(1 - u), HORIZON)


def reader_events(
    send_key: str,
    email: str,
    subject: str,
    sent_at: datetime,
    mode: str = BY_SUBJECT,
    rates: Rates = DEFAULT_RATES,
) -> list[Event]:
    """Everything one recipient of one send does, in time order (whenever it is asked)."""
    email = email.strip().lower()
    draw = lambda what: _uniform(send_key, email, what)  # noqa: E731
    if draw("bounce") < rates.bounce:
        hard = draw("hard") < rates.hard_bounce_share
        return [Event(email, "bounced_hard" if hard else "bounced_soft", sent_at)]
    events = [Event(email, "delivered", sent_at + timedelta(seconds=1))]
    if draw("open") < open_rate(subject, mode, rates):
        opened_at = sent_at + _delay(draw("open-at"), timedelta(hours=rates.mean_open_delay_hours))
        events.append(Event(email, "opened", opened_at))
        if draw("click") < rates.click:
            delay = _delay(draw("click-at"), timedelta(minutes=rates.mean_click_delay_minutes))
            events.append(Event(email, "clicked", min(opened_at + delay, sent_at + HORIZON)))
        if draw("unsubscribe") < rates.unsubscribe / max(open_rate(subject, mode, rates), 1e-9):
            events.append(Event(email, "unsubscribed", opened_at + timedelta(minutes=1)))
    if draw("complaint") < rates.complaint:
        events.append(Event(email, "complained", sent_at + timedelta(hours=1)))
    return sorted(events, key=lambda e: e.at)


def events_until(
    send_key: str,
    recipients: Iterable[str],
    subject: str,
    sent_at: datetime,
    now: datetime,
    mode: str = BY_SUBJECT,
) -> Iterator[Event]:
    """Every recipient's events that have happened by `now`, streamed recipient by recipient."""
    for email in recipients:
        for event in reader_events(send_key, email, subject, sent_at, mode):
            if event.at <= now:
                yield event


def totals(
    send_key: str,
    recipients: Iterable[str],
    subject: str,
    sent_at: datetime,
    now: datetime,
    mode: str = BY_SUBJECT,
) -> dict[str, int]:
    """A send's metrics at `now`: sent, delivered, bounces, unique opens and clicks, etc."""
    counts: Counter = Counter()
    for email in recipients:
        counts["sent"] += 1
        seen = set()
        for event in reader_events(send_key, email, subject, sent_at, mode):
            if event.at <= now and event.kind not in seen:
                seen.add(event.kind)
                counts[event.kind] += 1
    keys = (
        "sent", "delivered", "bounced_hard", "bounced_soft", "opened", "clicked",
        "unsubscribed", "complained",
    )  # fmt: skip
    return {key: counts[key] for key in keys}
