"""A uniform sample of the audience, and the margin of a count estimated from it.

The wizard's forecast maps every subscriber of a small audience; above FORECAST_EXACT_UP_TO it
maps a uniform random sample instead (ids drawn at random between the lowest and the highest,
read by primary key, so the cost follows the sample, not the audience) and scales the counts.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator, Sequence

from django.db.models import Max, Min

from audience.models import Subscriber

# At most this many ids a query (SQLite's limit on bound parameters is far above it).
_BATCH = 900


def sampled_rows(columns: Sequence[str], size: int, seed: int | None = None) -> Iterator[tuple]:
    """About `size` subscribers drawn uniformly at random, as `values_list(*columns)` rows."""
    bounds = Subscriber.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    low, high = bounds["low"], bounds["high"]
    chooser = random.Random(seed)
    ids = chooser.sample(range(low, high + 1), min(size, high - low + 1))
    ids.sort()
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        yield from Subscriber.objects.filter(id__in=batch).order_by("id").values_list(*columns)


def margin(count: int, sampled: int, population: int) -> int:
    """The 95 % margin of a count scaled from `sampled` rows to `population` (normal
    approximation of a proportion, with the finite-population correction)."""
    if sampled <= 0 or sampled >= population:
        return 0
    share = count / population
    spread = math.sqrt(share * (1 - share) / sampled)
    correction = math.sqrt((population - sampled) / (population - 1))
    return math.ceil(1.96 * spread * correction * population)
