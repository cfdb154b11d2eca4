"""Running an assignment's A/B test: configure it, split each target's audience, read the
variants' metrics, decide, and record who decided (the test, its rule, or a person).

The split is the stable hash of (test, reader) (campaigns/experiments/split.py), computed per
target platform (stratified) over the target's audience as SharpSend knows it: the members of
its imported platform segment, or everyone synced to that integration. It is written as
ExperimentMember rows in chunks; a rerun after a crash writes the same groups again (the hash
does not change), so nobody is ever in two groups.

Where the test's one target is on a platform that runs A/B tests itself
(Capability.NATIVE_AB_TEST) and the test fits what that platform can do, the test is the
platform's instead (`choose_method`): one send through the ledger carries every version, the
platform splits, waits, picks and sends the winner to the rest, and the console reads its
result back into the variants and the decision (`decide_native`). Otherwise, and for a test
whose targets span several platforms, the console splits and decides; `method_reason` says
which and why.
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
from campaigns.experiments.decision import (
    Decision,
    Metric,
    NoWinner,
    State,
    VariantCounts,
    decide,
)
from campaigns.experiments.sequential import rate_interval
from campaigns.experiments.split import SplitPlan, group_for, too_small
from campaigns.models import (
    Assignment,
    AssignmentTarget,
    CampaignSend,
    Experiment,
    ExperimentMember,
    ExperimentMethod,
    ExperimentState,
    SendState,
    Variant,
)
from integrations.models import SyncState
from integrations.platforms.errors import PlatformError
from integrations.platforms.sending import NativeTest, NativeTestResult, NativeVersion
from integrations.platforms.types import Capability

CHUNK = 5000
VARIANT_FIELDS = ("subject", "preview_text", "html", "from_name")
NATIVE_GROUP = "native"  # the audience_group of the target a native test sends through


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
        # What the test would use now (shown before it starts; `launch` decides for good).
        experiment.method, experiment.method_reason = choose_method(experiment)
        experiment.save(update_fields=["method", "method_reason"])
    return experiment


def base_targets(experiment: Experiment):
    """The assignment's own targets (not those made for a variant or the winner)."""
    return experiment.assignment.targets.filter(variant__isnull=True, audience_group="")


# --- the platform's own A/B test (native) ---------------------------------------------------


def native_test_of(experiment: Experiment) -> NativeTest:
    """The test as the platform layer takes it: each variant with the assignment's blanks."""
    assignment = experiment.assignment
    versions = tuple(
        NativeVersion(
            label=v.label,
            subject=v.subject or assignment.subject,
            preview_text=v.preview_text or assignment.preview_text,
            from_name=v.from_name or assignment.from_name,
            html=v.html or assignment.html,
            plain_text=assignment.plain_text,
        )
        for v in experiment.variants.order_by("label")
    )
    return NativeTest(
        metric=experiment.metric,
        test_share=experiment.test_share,
        wait_hours=experiment.longest_wait_hours,
        versions=versions,
        holdout_share=experiment.holdout_share,
    )


def native_target(experiment: Experiment) -> AssignmentTarget | None:
    return experiment.assignment.targets.filter(audience_group=NATIVE_GROUP).first()


def choose_method(experiment: Experiment) -> tuple[str, str]:
    """(method, why): native where the one target's platform runs A/B tests itself and the
    test fits what it can do, else the console's split."""
    split = ExperimentMethod.SPLIT.value
    if native_target(experiment) is not None:
        return ExperimentMethod.NATIVE.value, experiment.method_reason  # already under way
    targets = list(base_targets(experiment).select_related("integration"))
    if not targets:
        return split, "The assignment has no target yet: the console splits the test itself."
    platforms = [t.integration.platform_class for t in targets]
    native = [p for p in platforms if p.supports(Capability.NATIVE_AB_TEST)]
    if not native:
        names = ", ".join(sorted({p.label for p in platforms}))
        return split, (
            f"The console splits the test and decides it: {names} has no A/B test of its own "
            "that the console can use."
        )
    if len(targets) > 1:
        names = ", ".join(str(t.integration) for t in targets)
        return split, (
            f"The console splits the test on every platform: it spans {len(targets)} targets "
            f"({names}), and one decision for all of them needs one split; "
            f"{native[0].label}'s own test would decide for its own audience only."
        )
    (target,) = targets
    platform = platforms[0]
    problems = []
    if experiment.no_winner != NoWinner.BEST_SO_FAR:
        problems.append(
            f"{platform.label} always sends its best version once it has waited, and the test "
            f"is set to “{experiment.get_no_winner_display().lower()}” when no variant is "
            "clearly better."
        )
    problems += target.integration.client().native_test_problems(native_test_of(experiment))
    if problems:
        return split, (
            f"The console splits the test and decides it: {platform.label}'s own A/B test "
            f"cannot run it. {' '.join(problems)}"
        )
    metric = Metric(experiment.metric).label
    return ExperimentMethod.NATIVE.value, (
        f"{platform.label} runs the test itself ({platform.native_test_label}): it sends the "
        f"test share ({experiment.test_share:.0%}) split across the versions, picks the best "
        f"{metric} after {experiment.longest_wait_hours} h and sends it to the rest; the "
        "console reads its result (its sequential test, minimum sample and significance "
        "level do not apply)."
    )


def native_send(experiment: Experiment) -> CampaignSend | None:
    target = native_target(experiment)
    return CampaignSend.objects.filter(target=target).first() if target else None


def _result_as_dict(experiment: Experiment, result: NativeTestResult) -> dict:
    labels = experiment.labels
    return {
        "status": result.status,
        "criterion": result.criterion,
        "winner_id": result.winner_id,
        "winner_campaign_id": result.winner_campaign_id,
        "read_at": timezone.now().isoformat(),
        "combinations": [
            {
                "id": c.remote_id,
                "label": labels[c.version] if 0 <= c.version < len(labels) else "",
                "recipients": c.recipients,
                "sent": c.sent,
                "opened": c.opened,
                "clicked": c.clicked,
            }
            for c in result.combinations
        ],
    }


def read_native(experiment: Experiment) -> NativeTestResult | None:
    """The platform's result of the test, kept on the experiment (None before it went out).
    Raises PlatformError when the platform cannot be read."""
    send = native_send(experiment)
    if send is None or send.state != SendState.SENT or not send.remote_id:
        return None
    result = send.target.integration.client().native_test_result(send.remote_id)
    experiment.native_result = _result_as_dict(experiment, result)
    experiment.save(update_fields=["native_result"])
    return result


def native_platform(experiment: Experiment):
    target = native_target(experiment) or base_targets(experiment).first()
    return target.integration.platform_class if target else None


def _intervals(experiment: Experiment, counts: Sequence[VariantCounts]) -> dict:
    metric = Metric(experiment.metric)
    plan = experiment.plan()
    return {
        c.label: (c.arm(metric).rate, *rate_interval(c.arm(metric), alpha=plan.alpha, tau=plan.tau))
        for c in counts
    }


def _figures(experiment: Experiment, counts: Sequence[VariantCounts]) -> str:
    metric = Metric(experiment.metric)
    parts = []
    for c in counts:
        arm = c.arm(metric)
        parts.append(f"{c.label} {arm.converted:,} of {arm.exposed:,} ({arm.rate:.1%})")
    return ", ".join(parts)


def decide_native(experiment: Experiment, now=None) -> Decision:
    """A native test's verdict: the platform's choice, read back (recorded while testing)."""
    now = now or timezone.now()
    platform = native_platform(experiment)
    label = platform.label if platform else "The platform"
    send = native_send(experiment)
    if send is None or send.state != SendState.SENT:
        state = send.get_state_display().lower() if send else "not made yet"
        why = f": {send.error.rstrip('.')}" if send is not None and send.error else ""
        reason = f"The {label} test's send is {state}{why}."
        if experiment.state == ExperimentState.TESTING:
            experiment.decision_reason = reason
            experiment.save(update_fields=["decision_reason"])
        return Decision(State.COLLECTING, None, reason, _intervals(experiment, []))
    try:
        result = read_native(experiment)
    except PlatformError as exc:
        reason = f"{label}'s A/B result could not be read ({exc.message}); the next run asks again."
        counts = variant_counts(experiment)
        return Decision(State.COLLECTING, None, reason, _intervals(experiment, counts))
    counts = variant_counts(experiment)
    intervals = _intervals(experiment, counts)
    winner = result.winner if result is not None else None
    if winner is None or not 0 <= winner.version < len(counts):
        reason = (
            f"{label} is testing ({platform.native_test_label}): it picks by "
            f"{result.criterion or 'its criterion'} after {experiment.longest_wait_hours} h; "
            f"so far {_figures(experiment, counts)}."
        )
        if experiment.state == ExperimentState.TESTING:
            experiment.decision_reason = reason
            experiment.save(update_fields=["decision_reason"])
        return Decision(State.COLLECTING, None, reason, intervals)
    chosen = experiment.variants.get(label=counts[winner.version].label)
    reason = (
        f"{label} chose {chosen.label}: {chosen.subject_line} by {result.criterion} (native "
        f"{platform.native_test_label}): {_figures(experiment, counts)}."
    )
    if experiment.state == ExperimentState.TESTING:
        experiment.state, experiment.winner = ExperimentState.DECIDED, chosen
        experiment.decided_by, experiment.decided_at = "platform", now
        experiment.decision_reason = reason
        experiment.save()
    return Decision(State.WINNER, chosen.label, reason, intervals, decided_by="platform")


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
    """Each variant's exposure, opens and clicks: its sends' latest metrics, summed (a native
    test's: its combinations' as the platform last reported them)."""
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    if experiment.method == ExperimentMethod.NATIVE:
        for c in (experiment.native_result or {}).get("combinations", []):
            row = sums[c.get("label", "")]
            row[0] += c.get("sent", 0)
            row[1] += c.get("opened", 0)
            row[2] += c.get("clicked", 0)
        return [VariantCounts(label, *sums[label]) for label in experiment.labels]
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
    if experiment.method == ExperimentMethod.NATIVE:
        return decide_native(experiment, now)
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
    if experiment.method == ExperimentMethod.NATIVE:
        platform = native_platform(experiment)
        raise ValidationError(
            f"{platform.label} picks this test's winner itself (its own A/B test) and sends it "
            "to the rest: the console cannot pick it."
        )
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
    if experiment.method == ExperimentMethod.NATIVE:  # what was read last (no call here)
        state = State.WINNER if experiment.winner_id else State.COLLECTING
        verdict = Decision(
            state,
            experiment.winner.label if experiment.winner_id else None,
            experiment.decision_reason or experiment.method_reason,
            _intervals(experiment, counts),
        )
    elif len(counts) < 2:  # not configured yet (a test needs two variants): nothing to decide
        reason = "The test has fewer than two variants: configure it before it can run."
        verdict = Decision(State.COLLECTING, None, reason, _intervals(experiment, counts))
    else:
        verdict = decide(experiment.plan(), counts, elapsed)
    variants = {v.label: v for v in experiment.variants.all()}
    rows = [VariantResult(variants[c.label], c, *verdict.intervals[c.label]) for c in counts]
    return Results(experiment, rows, verdict)
