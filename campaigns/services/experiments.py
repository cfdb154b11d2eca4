"""Running an assignment's A/B test: configure it, split each target's audience, read the
variants' metrics, decide, and record who decided (the test, its rule, or a person).

The split is the stable hash of (test, reader) (campaigns/experiments/split.py), computed per
target platform (stratified) over the target's audience as SharpSend knows it: the members of
its imported platform segment, or everyone synced to that integration. It is written as
ExperimentMember rows in chunks; a rerun after a crash writes the same groups again (the hash
does not change), so nobody is ever in two groups.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus
from campaigns import analytics
from campaigns.experiments.decision import Decision, State, VariantCounts, decide
from campaigns.experiments.split import SplitPlan, group_for, too_small
from campaigns.models import (
    Assignment,
    AssignmentTarget,
    Experiment,
    ExperimentMember,
    ExperimentState,
    Variant,
)
from integrations.models import SyncState

CHUNK = 5000
VARIANT_FIELDS = ("subject", "preview_text", "html", "from_name")


@dataclass
class SplitResult:
    groups: dict[str, Counter] = field(default_factory=dict)  # integration name → group sizes
    warnings: list[str] = field(default_factory=list)


def configure(assignment: Assignment, variants: Sequence[dict], **plan) -> Experiment:
    """The assignment's test with these variants (2–5; each a dict of subject, preview_text,
    html, from_name, blank meaning the assignment's) and plan settings; ValidationError with
    the reason when the plan cannot work."""
    labels = tuple("ABCDE"[: len(variants)])
    try:
        SplitPlan(labels, plan.get("test_share", 0.2), plan.get("holdout_share", 0.0))
    except ValueError as exc:
        raise ValidationError(str(exc)) from None
    with transaction.atomic():
        experiment, _ = Experiment.objects.update_or_create(assignment=assignment, defaults=plan)
        experiment.full_clean(exclude=["assignment", "winner", "decided_by_user"])
        experiment.variants.all().delete()
        Variant.objects.bulk_create(
            Variant(experiment=experiment, label=label, **{k: v.get(k, "") for k in VARIANT_FIELDS})
            for label, v in zip(labels, variants, strict=True)
        )
    return experiment


def base_targets(experiment: Experiment):
    """The assignment's own targets (not those made for a variant or the winner)."""
    return experiment.assignment.targets.filter(variant__isnull=True, audience_group="")


def audience_ids(target: AssignmentTarget):
    """Subscribed SharpSend readers the target reaches, as far as SharpSend knows, by id."""
    readers = Subscriber.objects.filter(status=SubscriberStatus.SUBSCRIBED)
    if target.segment_id:
        readers = readers.filter(platform_segments__segment_id=target.segment_id)
    else:
        synced = SyncState.objects.filter(integration=target.integration, ever_synced=True)
        readers = readers.filter(pk__in=synced.values("subscriber_id"))
    return readers.order_by("pk").values_list("pk", flat=True)


def split(experiment: Experiment) -> SplitResult:
    """Write every base target's readers into their group; sizes and warnings per platform."""
    plan = experiment.split_plan()
    result = SplitResult()
    audiences: dict[str, int] = {}
    for target in base_targets(experiment).select_related("integration"):
        integration = target.integration
        sizes: Counter = Counter()
        chunk: list[ExperimentMember] = []
        for sid in audience_ids(target).iterator(chunk_size=CHUNK):
            group = group_for(plan, experiment.key, sid)
            sizes[group] += 1
            chunk.append(ExperimentMember(experiment=experiment, subscriber_id=sid,
                                          integration=integration, group=group))  # fmt: skip
            if len(chunk) >= CHUNK:
                ExperimentMember.objects.bulk_create(chunk, ignore_conflicts=True)
                chunk = []
        ExperimentMember.objects.bulk_create(chunk, ignore_conflicts=True)
        result.groups[integration.name] = sizes
        audiences[integration.name] = sum(sizes.values())
    result.warnings = too_small(plan, audiences, experiment.min_sample)
    return result


def variant_counts(experiment: Experiment) -> list[VariantCounts]:
    """Each variant's exposure, opens and clicks: its sends' latest metrics, summed."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    sends = analytics.sent_sends().filter(
        target__assignment=experiment.assignment, target__variant__isnull=False
    )
    labels = dict(Variant.objects.filter(experiment=experiment).values_list("pk", "label"))
    for send, snapshot in analytics.sends_with_latest(sends):
        if snapshot is None:
            continue
        row = sums[labels[send.target.variant_id]]
        row[0] += snapshot.delivered or snapshot.sent or 0
        row[1] += snapshot.opened or 0
        row[2] += snapshot.clicked or 0
    return [VariantCounts(label, *sums[label]) for label in experiment.labels]


def decide_now(experiment: Experiment, now=None) -> Decision:
    """The test's verdict now, recorded on the experiment (a decided test stays decided)."""
    now = now or timezone.now()
    elapsed = now - (experiment.started_at or now)
    decision = decide(experiment.plan(), variant_counts(experiment), elapsed)
    if experiment.state != ExperimentState.TESTING:
        return decision
    experiment.decision_reason = decision.reason
    if decision.state == State.WINNER:
        experiment.state = ExperimentState.DECIDED
        experiment.winner = experiment.variants.get(label=decision.winner)
        experiment.decided_by, experiment.decided_at = decision.decided_by, now
    elif decision.state == State.NEEDS_PERSON:
        experiment.state = ExperimentState.NEEDS_PERSON
    experiment.save()
    return decision


def pick_winner(experiment: Experiment, label: str, user) -> Experiment:
    """A person's choice (needs campaigns.approve_assignment: the winner's send goes out)."""
    if not user.has_perm("campaigns.approve_assignment"):
        raise PermissionError("Picking an A/B winner needs the permission to approve sends.")
    if experiment.state not in (ExperimentState.TESTING, ExperimentState.NEEDS_PERSON):
        raise ValidationError(f"The test is {experiment.get_state_display().lower()}.")
    experiment.winner = experiment.variants.get(label=label)
    experiment.state = ExperimentState.DECIDED
    experiment.decided_by, experiment.decided_by_user = "person", user
    experiment.decided_at = timezone.now()
    experiment.decision_reason = f"{label} picked by {user.get_username()}."
    experiment.save()
    return experiment


def select_winners(now=None) -> dict[str, int]:
    """Decide every running test (the schedule and `select_ab_winners` call this)."""
    counts: Counter = Counter()
    for experiment in Experiment.objects.filter(state=ExperimentState.TESTING):
        counts[decide_now(experiment, now).state.value] += 1
    return dict(counts)


@dataclass
class VariantResult:
    variant: Variant
    counts: VariantCounts
    rate: float
    low: float
    high: float


@dataclass
class Results:
    """What the results page shows: each variant's metric with its always-valid interval,
    the verdict the test would give now, and the decision recorded (if any)."""

    experiment: Experiment
    variants: list[VariantResult]
    now: Decision

    def chart(self) -> dict:
        return {
            "labels": [f"{r.variant.label}: {r.variant.subject_line}" for r in self.variants],
            "rate": [r.rate for r in self.variants],
            "interval": [[r.low, r.high] for r in self.variants],
        }


def results(experiment: Experiment) -> Results:
    counts = variant_counts(experiment)
    elapsed = timezone.now() - (experiment.started_at or timezone.now())
    verdict = decide(experiment.plan(), counts, elapsed)
    variants = {v.label: v for v in experiment.variants.all()}
    rows = [VariantResult(variants[c.label], c, *verdict.intervals[c.label]) for c in counts]
    return Results(experiment, rows, verdict)
