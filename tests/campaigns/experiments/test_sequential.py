"""The sequential test: valid however often it is looked at, and still finds real lifts.

The simulations draw the counts a metrics refresh would see (numpy's binomial, seeded) and ask
`compare`, the function the decision uses, at each of 40 refreshes.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from campaigns.experiments.sequential import (
    Arm,
    compare,
    log_likelihood_ratio,
    radius,
    rate_interval,
)

ALPHA = 0.05
TAU = 0.02
SIMULATIONS = 1000
PEEKS = 40
PER_PEEK = 250  # sends per variant between two refreshes: up to 10,000 each
# What a correct test may show by chance over 1,000 simulations: alpha plus three standard errors.
FALSE_POSITIVE_BOUND = ALPHA + 3 * math.sqrt(ALPHA * (1 - ALPHA) / SIMULATIONS)


def cumulative_counts(rng, rate: float) -> np.ndarray:
    return rng.binomial(PER_PEEK, rate, size=(SIMULATIONS, PEEKS)).cumsum(axis=1)


def peeked(a_rate: float, b_rate: float, seed: int):
    """For each simulation, the comparison at every refresh."""
    rng = np.random.default_rng(seed)
    a, b = cumulative_counts(rng, a_rate), cumulative_counts(rng, b_rate)
    for s in range(SIMULATIONS):
        yield [
            compare(
                Arm("A", PER_PEEK * (k + 1), int(a[s, k])),
                Arm("B", PER_PEEK * (k + 1), int(b[s, k])),
                alpha=ALPHA,
                tau=TAU,
            )
            for k in range(PEEKS)
        ]


def test_peeking_forty_times_at_equal_rates_keeps_false_winners_under_alpha():
    false_winners = sum(
        any(c.significant for c in looks) for looks in peeked(0.20, 0.20, seed=20261203)
    )
    assert false_winners / SIMULATIONS <= FALSE_POSITIVE_BOUND


def test_the_naive_z_test_peeked_the_same_way_declares_far_more_false_winners():
    # The reason the sequential test exists: same data, same 40 looks, a fixed-horizon test.
    rng = np.random.default_rng(20261203)
    a, b = cumulative_counts(rng, 0.20), cumulative_counts(rng, 0.20)
    n = PER_PEEK * np.arange(1, PEEKS + 1)
    pooled = (a + b) / (2 * n)
    z = (b - a) / n / np.sqrt(2 * pooled * (1 - pooled) / n)
    inflated = np.any(np.abs(z) > 1.959964, axis=1).mean()
    assert inflated > 0.10


def test_a_three_point_lift_is_found_in_most_tests_well_before_the_end():
    found_at = []
    for looks in peeked(0.20, 0.23, seed=7):
        first = next((k for k, c in enumerate(looks) if c.significant), None)
        if first is not None:
            found_at.append(PER_PEEK * (first + 1))
            assert looks[first].difference > 0  # never the wrong way round here
    power = len(found_at) / SIMULATIONS
    assert power >= 0.9, power
    assert float(np.median(found_at)) <= 5000


def test_the_interval_holds_the_true_difference_at_every_look_in_most_tests():
    missed = sum(
        any(not (c.low <= 0.03 <= c.high) for c in looks) for looks in peeked(0.20, 0.23, seed=11)
    )
    assert missed / SIMULATIONS <= FALSE_POSITIVE_BOUND


@pytest.mark.parametrize(
    ("a", "b"),
    [((10_000, 2000), (10_000, 2300)), ((500, 100), (500, 115)), ((3000, 600), (3000, 640))],
)
def test_significant_exactly_when_the_interval_excludes_zero(a, b):
    c = compare(Arm("A", *a), Arm("B", *b), alpha=ALPHA, tau=TAU)
    assert c.significant == (c.low > 0 or c.high < 0)
    assert c.significant == (c.p_value <= ALPHA)
    assert c.low < c.difference < c.high


def test_the_radius_is_where_the_likelihood_ratio_reaches_one_over_alpha():
    variance = 2 * 0.2 * 0.8 / 4000
    r = radius(variance, TAU, ALPHA)
    assert log_likelihood_ratio(r, variance, TAU) == pytest.approx(math.log(1 / ALPHA))


def test_a_variant_sent_to_nobody_decides_nothing():
    c = compare(Arm("A", 0, 0), Arm("B", 100, 30), alpha=ALPHA, tau=TAU)
    assert not c.significant and c.p_value == 1.0
    assert rate_interval(Arm("A", 0, 0), alpha=ALPHA, tau=TAU) == (0.0, 1.0)


def test_a_rate_of_zero_is_not_certain():
    low, high = rate_interval(Arm("A", 2000, 0), alpha=ALPHA, tau=TAU)
    assert low == 0.0 and 0 < high < 0.05
