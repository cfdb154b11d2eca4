"""What an A/B test does next, from its plan, its variants' counts and the time it has run."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from campaigns.experiments.sequential import Arm, Comparison, compare, rate_interval


class Metric(enum.StrEnum):
    OPEN_RATE = "open_rate", "unique open rate"
    CLICK_RATE = "click_rate", "unique click rate"
    CLICK_TO_OPEN = "click_to_open", "click-to-open rate"

    def __new__(cls, value: str, label: str):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


class NoWinner(enum.StrEnum):
    """What happens when the longest wait is over and no variant is clearly better."""

    SEND_FIRST = "send_first"
    BEST_SO_FAR = "best_so_far"
    ASK = "ask"


class State(enum.StrEnum):
    COLLECTING = "collecting"
    WINNER = "winner"
    NEEDS_PERSON = "needs_person"


@dataclass(frozen=True)
class ExperimentPlan:
    metric: Metric = Metric.OPEN_RATE
    alpha: float = 0.05
    tau: float = 0.02  # the lift (rate points) the test is tuned to find fastest
    min_sample: int = 1000
    longest_wait: timedelta = timedelta(hours=24)
    no_winner: NoWinner = NoWinner.BEST_SO_FAR

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 0.5:
            raise ValueError("The significance level must be between 0 and 0.5.")
        if not 0 < self.tau < 1:
            raise ValueError("tau is a rate difference between 0 and 1.")
        if self.min_sample < 1:
            raise ValueError("The minimum sample per variant is at least 1.")


@dataclass(frozen=True)
class VariantCounts:
    label: str
    sent: int
    opened: int
    clicked: int

    def arm(self, metric: Metric) -> Arm:
        if metric == Metric.OPEN_RATE:
            return Arm(self.label, self.sent, self.opened)
        if metric == Metric.CLICK_RATE:
            return Arm(self.label, self.sent, self.clicked)
        return Arm(self.label, self.opened, self.clicked)


@dataclass(frozen=True)
class Decision:
    state: State
    winner: str | None
    reason: str
    # label → (estimate, low, high) of the metric, always-valid at the plan's alpha
    intervals: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    comparisons: tuple[Comparison, ...] = ()
    decided_by: str = ""  # "test", "policy" or "" while collecting


def decide(plan: ExperimentPlan, variants: Sequence[VariantCounts], elapsed: timedelta) -> Decision:
    """The test's verdict now. Variant order matters only for ties and `SEND_FIRST`.

    The leader is compared with every other variant at alpha / (k − 1) (Bonferroni), and wins
    only when it beats each of them; otherwise the test goes on until the longest wait, then the
    plan's no-winner rule applies.
    """
    if len(variants) < 2:
        raise ValueError("A decision needs at least two variants.")
    arms = [v.arm(plan.metric) for v in variants]
    intervals = {
        arm.label: (arm.rate, *rate_interval(arm, alpha=plan.alpha, tau=plan.tau)) for arm in arms
    }
    leader = max(arms, key=lambda arm: arm.rate)  # max keeps the first of equals
    per_comparison = plan.alpha / (len(arms) - 1)
    comparisons = tuple(
        compare(other, leader, alpha=per_comparison, tau=plan.tau)
        for other in arms
        if other is not leader
    )
    short = [arm for arm in arms if arm.exposed < plan.min_sample]
    out_of_time = elapsed >= plan.longest_wait
    base = {"intervals": intervals, "comparisons": comparisons}
    metric = plan.metric.label

    if not short and all(c.significant and c.low > 0 for c in comparisons):
        weakest = max(comparisons, key=lambda c: c.p_value)
        reason = (
            f"{leader.label}'s {metric} {leader.rate:.1%} beats every other variant; closest: "
            f"{weakest.other} by {weakest.difference * 100:+.1f} points (interval "
            f"{weakest.low * 100:+.1f} to {weakest.high * 100:+.1f}), always-valid p = "
            f"{weakest.p_value:.3g} < {per_comparison:.3g}."
        )
        return Decision(State.WINNER, leader.label, reason, decided_by="test", **base)

    if short:
        why = ", ".join(f"{a.label} {a.exposed:,}" for a in short)
        waiting = f"the minimum sample of {plan.min_sample:,} per variant is not reached ({why})"
    else:
        best = min(comparisons, key=lambda c: c.p_value)
        waiting = (
            f"no variant is clearly better yet (leader {leader.label} at {leader.rate:.1%}, "
            f"p = {best.p_value:.3g} against {best.other}, needs < {per_comparison:.3g})"
        )
    if not out_of_time:
        return Decision(State.COLLECTING, None, waiting[0].upper() + waiting[1:] + ".", **base)

    hours = plan.longest_wait.total_seconds() / 3600
    if plan.no_winner == NoWinner.SEND_FIRST:
        first = variants[0].label
        reason = f"After {hours:g} h {waiting}; sending {first}, as the test is set to."
        return Decision(State.WINNER, first, reason, decided_by="policy", **base)
    if plan.no_winner == NoWinner.BEST_SO_FAR:
        reason = f"After {hours:g} h {waiting}; sending the best so far, {leader.label}."
        return Decision(State.WINNER, leader.label, reason, decided_by="policy", **base)
    reason = f"After {hours:g} h {waiting}; a person picks the winner."
    return Decision(State.NEEDS_PERSON, None, reason, **base)
