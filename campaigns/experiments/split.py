"""Who gets which variant: a stable hash of (test, reader), never a random draw.

The same reader always lands in the same group of the same test, whatever the number of reruns,
crashes or workers, so nobody receives two variants. Each platform's audience is split with the
same shares (a target spanning several platforms is stratified by platform: every platform gets
its own test groups, its own winner send and its own balance report).
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

HOLDOUT = "holdout"
REST = "rest"  # receives the winner
_SCALE = float(16**15)


@dataclass(frozen=True)
class SplitPlan:
    """Variants share `test_share` of the audience equally; `holdout_share` receives nothing."""

    variants: tuple[str, ...]
    test_share: float
    holdout_share: float = 0.0

    def __post_init__(self) -> None:
        if not 2 <= len(self.variants) <= 5:
            raise ValueError(f"An A/B test has 2 to 5 variants, not {len(self.variants)}.")
        if len(set(self.variants)) != len(self.variants):
            raise ValueError("Variant names must differ.")
        if not 0 < self.test_share <= 1:
            raise ValueError("The test share must be above 0 % and at most 100 %.")
        if not 0 <= self.holdout_share < 1 or self.test_share + self.holdout_share > 1:
            raise ValueError("The test share and the holdout together cannot exceed 100 %.")

    @property
    def variant_share(self) -> float:
        return self.test_share / len(self.variants)


def position(test_key: str, subscriber_id: int | str) -> float:
    """A reader's place in [0, 1) for this test: uniform, stable, independent across tests."""
    digest = hashlib.sha256(f"{test_key}:{subscriber_id}".encode()).hexdigest()
    return int(digest[:15], 16) / _SCALE


def group_for(plan: SplitPlan, test_key: str, subscriber_id: int | str) -> str:
    """The reader's group: one of the variants, HOLDOUT, or REST (the winner's audience)."""
    u = position(test_key, subscriber_id)
    if u < plan.holdout_share:
        return HOLDOUT
    u -= plan.holdout_share
    if u < plan.test_share:
        return plan.variants[min(int(u / plan.variant_share), len(plan.variants) - 1)]
    return REST


def group_counts(
    plan: SplitPlan, test_key: str, readers: Iterable[tuple[int | str, str]]
) -> dict[str, Counter]:
    """Group sizes per stratum (platform) for (subscriber id, stratum) pairs, streamed."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for subscriber_id, stratum in readers:
        counts[stratum][group_for(plan, test_key, subscriber_id)] += 1
    return dict(counts)


def too_small(plan: SplitPlan, audience_by_stratum: dict[str, int], min_sample: int) -> list[str]:
    """Why the split cannot reach `min_sample` per variant, per stratum (empty when it can)."""
    problems = []
    for stratum, audience in sorted(audience_by_stratum.items()):
        expected = int(audience * plan.variant_share)
        if expected < min_sample:
            problems.append(
                f"{stratum}: {audience:,} readers give about {expected:,} per variant at a "
                f"{plan.test_share:.0%} test share; the minimum sample is {min_sample:,}."
            )
    return problems
