"""A deterministic demo audience: readers of a financial newsletter publisher."""

from __future__ import annotations

import random

from audience.models import Subscriber, SubscriberStatus

FIRST = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hugo", "Iris", "Jonas", "Kemi",
         "Liam", "Maya", "Noor", "Oscar", "Priya", "Quinn", "Rosa", "Sami", "Tara"]  # fmt: skip
LAST = ["Adams", "Baker", "Chen", "Diaz", "Evans", "Fischer", "Garcia", "Hughes", "Ito", "Jones",
        "Khan", "Lopez", "Müller", "Nakamura", "Okafor", "Patel", "Rossi", "Silva", "Tanaka"]  # fmt: skip
INTERESTS = ["growth", "dividends", "crypto", "macro"]
PLANS = ["free", "premium", "alliance"]
# A few readers whose data some platforms refuse, so the first demo syncs end *partial* with
# explained rejections (Sync logs, the failures CSV, Retry failed records):
# - a last name over SendGrid's 50 and Keap's 40 characters (their documented field limits);
LONG_LAST_NAME = "Montgomery-Fitzwilliam-Castellanos-Abernathy-Vanderberg"
LONG_NAME_EVERY = 50  # readers 23, 73, …
# - a plan imported from an old system as a number, where the first readers wrote it as text:
#   Iterable fixes a field's type on its first write and refuses the others' value.
LEGACY_PLAN = 2
LEGACY_PLAN_EVERY = 60  # readers 41, 101, …


def demo_subscriber(index: int, rng: random.Random) -> Subscriber:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    status = SubscriberStatus.SUBSCRIBED
    if index % 40 == 39:
        status = SubscriberStatus.UNSUBSCRIBED
    elif index % 97 == 96:
        status = SubscriberStatus.BOUNCED
    email = f"{first}.{last}.{index}@example.com".lower()
    plan = rng.choice(PLANS)
    if index % LONG_NAME_EVERY == 23:
        last = LONG_LAST_NAME
    if index % LEGACY_PLAN_EVERY == 41:
        plan = LEGACY_PLAN
    return Subscriber(
        email=email,
        first_name=first,
        last_name=last,
        status=status,
        attributes={"interest": INTERESTS[index % len(INTERESTS)], "plan": plan, "source": "demo"},
    )


def create_demo_audience(count: int, seed: int = 7, batch_size: int = 5000) -> int:
    """Add demo subscribers until there are `count` demo ones; return how many were added."""
    existing = Subscriber.objects.filter(email__endswith="@example.com").count()
    rng = random.Random(seed)
    added = 0
    batch = []
    for index in range(count):
        subscriber = demo_subscriber(index, rng)
        if index < existing:
            continue
        subscriber.email = subscriber.email.strip().lower()
        batch.append(subscriber)
        if len(batch) >= batch_size:
            Subscriber.objects.bulk_create(batch, ignore_conflicts=True)
            added += len(batch)
            batch = []
    if batch:
        Subscriber.objects.bulk_create(batch, ignore_conflicts=True)
        added += len(batch)
    return added
