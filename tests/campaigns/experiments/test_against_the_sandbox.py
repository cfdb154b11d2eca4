"""The split and the decision over the sandbox's engagement: the better subject wins, and
equal subjects reach no winner (the e2e A/B tests rely on both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from campaigns.experiments.decision import ExperimentPlan, NoWinner, State, VariantCounts, decide
from campaigns.experiments.split import SplitPlan, group_for
from integrations.sandbox import engagement

SENT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
READERS = [(i, f"reader{i}@example.com") for i in range(100_000)]
SUBJECTS = ["Markets today", "Your Monday brief", "Three stocks to watch", "The Fed, explained"]


def variant_counts(subjects: dict[str, str], mode: str, hours: float) -> list[VariantCounts]:
    plan = SplitPlan(variants=tuple(subjects), test_share=0.2)
    groups: dict[str, list[str]] = {label: [] for label in subjects}
    for sid, email in READERS:
        group = group_for(plan, "test-42", sid)
        if group in groups:
            groups[group].append(email)
    now = SENT + timedelta(hours=hours)
    result = []
    for label, emails in groups.items():
        t = engagement.totals(f"test-42:{label}", emails, subjects[label], SENT, now, mode)
        result.append(VariantCounts(label, t["delivered"], t["opened"], t["clicked"]))
    return result


def test_the_subject_the_sandbox_favours_wins_the_test():
    by_lift = sorted(SUBJECTS, key=engagement.subject_lift)
    worst, best = by_lift[0], by_lift[-1]
    assert engagement.subject_lift(best) - engagement.subject_lift(worst) > 0.04
    variants = variant_counts({"A": worst, "B": best}, engagement.BY_SUBJECT, hours=24)
    decision = decide(ExperimentPlan(), variants, timedelta(hours=24))
    assert (decision.state, decision.winner, decision.decided_by) == (State.WINNER, "B", "test")


def test_equal_subjects_reach_no_clear_winner():
    subjects = {"A": SUBJECTS[0], "B": SUBJECTS[1]}
    variants = variant_counts(subjects, engagement.NO_DIFFERENCE, hours=72)
    plan = ExperimentPlan(no_winner=NoWinner.ASK, longest_wait=timedelta(hours=48))
    decision = decide(plan, variants, timedelta(hours=72))
    assert decision.state == State.NEEDS_PERSON
    assert "no variant is clearly better" in decision.reason
