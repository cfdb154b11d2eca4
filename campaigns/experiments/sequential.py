"""Comparing two rates in a way that stays valid however often the metrics are looked at.

A fixed-horizon z-test checked at every metrics refresh declares false winners far more often
than its alpha: every look is another chance. This is the mixture sequential probability ratio
test (mSPRT) with a normal mixing distribution of variance tau² over the true difference, on
the normal approximation of a difference of two proportions (Robbins 1970; Johari, Pekelis and
Walsh, "Always Valid Inference", 2017). Its likelihood ratio may be checked after every
refresh: when the rates are equal, the chance that it ever reaches 1/alpha is at most alpha.
The matching confidence interval (the differences the test would not reject) holds at every
look too, and is wider than a fixed-horizon one: that width is the price of peeking.

tau is the size of difference the test is tuned to find (absolute, in rate points): a lift of
about tau is detected fastest; smaller and larger ones still are, more slowly.

Written with `math` alone: the two formulas below are the whole test, and no maintained
library (scipy, statsmodels) offers a sequential test of two proportions to call instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Arm:
    """One variant's counts for the metric: `converted` of `exposed` (e.g. opened of sent)."""

    label: str
    exposed: int
    converted: int

    @property
    def rate(self) -> float:
        return self.converted / self.exposed if self.exposed else 0.0

    @property
    def variance(self) -> float:
        """Plug-in variance of the rate, kept off zero (a rate of 0 % or 100 % is not certain)."""
        if not self.exposed:
            return math.inf
        p = min(max(self.rate, 0.5 / self.exposed), 1 - 0.5 / self.exposed)
        return p * (1 - p) / self.exposed


@dataclass(frozen=True)
class Comparison:
    """`better` against `other`: the difference of rates, its interval and the test's verdict."""

    better: str
    other: str
    difference: float
    low: float
    high: float
    p_value: float
    significant: bool


def log_likelihood_ratio(difference: float, variance: float, tau: float) -> float:
    """log Λ of the normal-mixture SPRT for an observed difference with this variance."""
    tau2 = tau * tau
    return 0.5 * math.log(variance / (variance + tau2)) + (difference * difference * tau2) / (
        2 * variance * (variance + tau2)
    )


def radius(variance: float, tau: float, alpha: float) -> float:
    """Half-width of the always-valid interval: where log Λ crosses log(1/alpha)."""
    tau2 = tau * tau
    return math.sqrt(
        2
        * variance
        * (variance + tau2)
        / tau2
        * (math.log(1 / alpha) + 0.5 * math.log((variance + tau2) / variance))
    )


def compare(other: Arm, better: Arm, *, alpha: float, tau: float) -> Comparison:
    """Test `better`'s rate against `other`'s; significant when the interval excludes 0."""
    difference = better.rate - other.rate
    variance = better.variance + other.variance
    if math.isinf(variance):
        return Comparison(better.label, other.label, difference, -1.0, 1.0, 1.0, False)
    log_ratio = log_likelihood_ratio(difference, variance, tau)
    half = radius(variance, tau, alpha)
    return Comparison(
        better=better.label,
        other=other.label,
        difference=difference,
        low=difference - half,
        high=difference + half,
        p_value=min(1.0, math.exp(-log_ratio)),
        significant=log_ratio >= math.log(1 / alpha),
    )


def rate_interval(arm: Arm, *, alpha: float, tau: float) -> tuple[float, float]:
    """Always-valid interval for one variant's rate (the same mixture, one sample)."""
    if not arm.exposed:
        return 0.0, 1.0
    half = radius(arm.variance, tau, alpha)
    return max(0.0, arm.rate - half), min(1.0, arm.rate + half)
