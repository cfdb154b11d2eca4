"""The decision table: winner by the test, wait, or the plan's rule once the wait is over."""

from __future__ import annotations

from datetime import timedelta

import pytest

from campaigns.experiments.decision import (
    ExperimentPlan,
    Metric,
    NoWinner,
    State,
    VariantCounts,
    decide,
)

EARLY = timedelta(hours=2)
LATE = timedelta(hours=30)


def counts(label, sent, opened, clicked=0):
    return VariantCounts(label, sent=sent, opened=opened, clicked=clicked)


def test_a_clear_lift_with_enough_readers_wins_by_the_test():
    decision = decide(
        ExperimentPlan(), [counts("A", 10_000, 2000), counts("B", 10_000, 2300)], EARLY
    )
    assert decision.state == State.WINNER
    assert decision.winner == "B" and decision.decided_by == "test"
    assert decision.reason.startswith("B's unique open rate 23.0% beats every other variant")
    low, high = decision.comparisons[0].low, decision.comparisons[0].high
    assert 0 < low < 0.03 < high
    assert set(decision.intervals) == {"A", "B"}


def test_no_winner_below_the_minimum_sample_however_large_the_lift():
    decision = decide(
        ExperimentPlan(min_sample=1000), [counts("A", 900, 90), counts("B", 900, 400)], EARLY
    )
    assert decision.state == State.COLLECTING and decision.winner is None
    assert "minimum sample of 1,000 per variant is not reached (A 900, B 900)" in decision.reason


def test_an_unclear_difference_keeps_collecting_until_the_longest_wait():
    variants = [counts("A", 10_000, 2000), counts("B", 10_000, 2050)]
    decision = decide(ExperimentPlan(), variants, EARLY)
    assert decision.state == State.COLLECTING
    assert decision.reason.startswith("No variant is clearly better yet (leader B at 20.5%")


@pytest.mark.parametrize(
    ("rule", "state", "winner"),
    [
        (NoWinner.SEND_FIRST, State.WINNER, "A"),
        (NoWinner.BEST_SO_FAR, State.WINNER, "B"),
        (NoWinner.ASK, State.NEEDS_PERSON, None),
    ],
)
def test_after_the_longest_wait_the_plans_rule_decides(rule, state, winner):
    variants = [counts("A", 10_000, 2000), counts("B", 10_000, 2050)]
    decision = decide(
        ExperimentPlan(no_winner=rule, longest_wait=timedelta(hours=24)), variants, LATE
    )
    assert (decision.state, decision.winner) == (state, winner)
    assert decision.reason.startswith("After 24 h no variant is clearly better yet")
    assert decision.decided_by == ("policy" if winner else "")


def test_the_rule_applies_too_when_the_sample_never_reached_the_minimum():
    variants = [counts("A", 300, 60), counts("B", 300, 90)]
    decision = decide(ExperimentPlan(no_winner=NoWinner.ASK), variants, LATE)
    assert decision.state == State.NEEDS_PERSON
    assert "minimum sample" in decision.reason


def test_with_three_variants_each_comparison_is_held_to_half_the_alpha():
    # B over A at p ≈ 0.0499: a winner with two variants, not with three (0.05 / 2).
    two = [counts("A", 10_000, 2000), counts("B", 10_000, 2175)]
    assert decide(ExperimentPlan(), two, EARLY).winner == "B"
    three = [*two, counts("C", 10_000, 2000)]
    decision = decide(ExperimentPlan(), three, EARLY)
    assert decision.state == State.COLLECTING
    assert "needs < 0.025" in decision.reason


def test_the_leader_must_beat_every_other_variant():
    variants = [counts("A", 10_000, 2000), counts("B", 10_000, 2300), counts("C", 10_000, 2290)]
    decision = decide(ExperimentPlan(), variants, EARLY)
    assert decision.state == State.COLLECTING
    assert {c.other for c in decision.comparisons} == {"A", "C"}


def test_click_to_open_counts_clicks_among_openers():
    variants = [counts("A", 20_000, 5000, clicked=500), counts("B", 20_000, 4000, clicked=800)]
    decision = decide(ExperimentPlan(metric=Metric.CLICK_TO_OPEN), variants, EARLY)
    # B has fewer opens but a higher share of openers clicking (20 % against 10 %).
    assert decision.winner == "B"
    assert decision.intervals["B"][0] == pytest.approx(0.20)


def test_click_rate_uses_clicks_over_sends():
    variants = [counts("A", 20_000, 5000, clicked=1000), counts("B", 20_000, 4000, clicked=1400)]
    decision = decide(ExperimentPlan(metric=Metric.CLICK_RATE), variants, EARLY)
    assert decision.winner == "B"
    assert decision.intervals["A"][0] == pytest.approx(0.05)


def test_equal_rates_lead_with_the_first_variant():
    variants = [counts("A", 10_000, 2000), counts("B", 10_000, 2000)]
    decision = decide(ExperimentPlan(no_winner=NoWinner.BEST_SO_FAR), variants, LATE)
    assert decision.winner == "A"


def test_one_variant_is_not_a_test():
    with pytest.raises(ValueError, match="at least two variants"):
        decide(ExperimentPlan(), [counts("A", 100, 10)], EARLY)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"alpha": 0}, "significance level"),
        ({"alpha": 0.6}, "significance level"),
        ({"tau": 0}, "tau"),
        ({"min_sample": 0}, "minimum sample"),
    ],
)
def test_an_impossible_plan_is_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ExperimentPlan(**kwargs)
