"""An A/B test's sends: each variant to its split, then the winner to the rest, once each.

For every target platform of the assignment, each group of the stored split (a variant, or
"rest" for the winner) becomes a SharpSend segment selecting that group on that platform
(rules: `experiment_group`), pushed to the platform as a static list by the segment push
engine (its remote id is kept, so a rerun never makes a second list). A target made for the
group (its `variant`, its `audience_group`) then goes through the send ledger like any other:
one CampaignSend, exactly once, whatever reruns and crashes. Every step looks for what an
earlier run made before making it, so `launch` and `send_winner` can be rerun at will.

The holdout receives nothing. Nobody is in two groups of one platform's split, and the groups
are pushed as they were split, so nobody receives two variants.

A native test (experiments.choose_method: the platform runs it) sends once instead: one
target of its own (`audience_group` "native") whose send carries every version, through the
ledger like any other, so a crash resumes it and finds the campaign again instead of making
a second. The platform sends the winner to the rest itself: `send_winner` then sends
nothing, it records that the platform did.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from audience.models import AudienceSegment
from campaigns.experiments.split import REST
from campaigns.models import (
    AssignmentTarget,
    CampaignSend,
    Experiment,
    ExperimentMethod,
    ExperimentState,
    Variant,
)
from campaigns.services import experiments, sending
from campaigns.services.specs import new_idempotency_key
from integrations.models import Segment, SyncStatus, SyncTrigger
from integrations.platforms.errors import PlatformError
from integrations.services import segment_push


class ExperimentError(Exception):
    """The test cannot go on (a push failed, no winner yet); the message says why."""


def group_segment(experiment: Experiment, base: AssignmentTarget, group: str) -> AudienceSegment:
    """The SharpSend segment selecting one group of the split on the base target's platform."""
    rule = {
        "field": "experiment_group",
        "op": "in_group",
        "value": {"experiment": experiment.pk, "integration": base.integration_id, "group": group},
    }
    segment, _ = AudienceSegment.objects.get_or_create(
        slug=f"ab-{experiment.pk}-{base.pk}-{group.lower()}",
        defaults={
            "name": f"A/B {experiment.assignment.title[:120]} · {base.integration.name} · {group}",
            "rules": {"all": [rule]},
            "description": "Made by the console for an A/B test's split; do not edit.",
        },
    )
    return segment


def pushed_segment(segment: AudienceSegment, base: AssignmentTarget) -> Segment:
    """Push `segment` to the base target's platform (or find the push made before); the
    platform's list as an imported Segment row the send can name."""
    push = segment.pushes.filter(integration=base.integration).first()
    if push is None or not push.remote_id or push.last_pushed_at is None:
        run, _ = segment_push.push_segment(segment, base.integration, SyncTrigger.AB_TEST)
        run.refresh_from_db()
        if run.status not in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL):
            raise ExperimentError(
                f"Pushing {segment.name} to {base.integration} did not finish "
                f"({run.get_status_display().lower()}): {run.error or 'see the push run'}"
            )
        push = segment.pushes.get(integration=base.integration)
    row, _ = Segment.objects.get_or_create(
        integration=base.integration,
        remote_id=push.remote_id,
        defaults={"name": push.remote_name or segment.name, "imported_at": timezone.now()},
    )
    return row


def group_target(base: AssignmentTarget, variant: Variant, group: str, segment: Segment):
    """The target (and its ledger row) sending `variant` to one group; made once."""
    with transaction.atomic():
        target, created = AssignmentTarget.objects.get_or_create(
            assignment=base.assignment,
            integration=base.integration,
            variant=variant,
            audience_group="" if group == variant.label else group,
            defaults={
                "segment": segment,
                "method": base.method,
                "remote_template_or_campaign_id": base.remote_template_or_campaign_id,
            },
        )
        if created:
            CampaignSend.objects.create(
                target=target,
                idempotency_key=new_idempotency_key(target),
                segment_remote_id=segment.remote_id,
            )
    return target


def native_send(experiment: Experiment) -> CampaignSend:
    """The native test's one target and ledger row (made once), moved along."""
    base = experiments.base_targets(experiment).select_related("integration", "segment").get()
    with transaction.atomic():
        target, created = AssignmentTarget.objects.get_or_create(
            assignment=base.assignment,
            integration=base.integration,
            variant=None,
            audience_group=experiments.NATIVE_GROUP,
            defaults={
                "segment": base.segment,
                "method": base.method,
                "remote_template_or_campaign_id": base.remote_template_or_campaign_id,
            },
        )
        if created:
            CampaignSend.objects.create(
                target=target,
                idempotency_key=new_idempotency_key(target),
                segment_remote_id=base.segment.remote_id if base.segment_id else "",
            )
    return sending.advance(target.send.pk)


def launch(experiment: Experiment) -> list[CampaignSend]:
    """Split, push each variant's group, send each variant once (or, for a native test, its
    one send); the test is then running."""
    experiment.refresh_from_db()
    if experiment.state not in (ExperimentState.DRAFT, ExperimentState.TESTING):
        return []
    if experiment.state == ExperimentState.DRAFT:  # the method is chosen once, at the start
        experiment.method, experiment.method_reason = experiments.choose_method(experiment)
        experiment.save(update_fields=["method", "method_reason"])
    if experiment.method == ExperimentMethod.NATIVE:
        sends = [native_send(experiment)]
    else:
        sends = split_sends(experiment)
    if experiment.state == ExperimentState.DRAFT:
        experiment.state, experiment.started_at = ExperimentState.TESTING, timezone.now()
        experiment.save(update_fields=["state", "started_at"])
    return sends


def split_sends(experiment: Experiment) -> list[CampaignSend]:
    experiments.split(experiment)
    sends = []
    for base in experiments.base_targets(experiment).select_related("integration"):
        for variant in experiment.variants.all():
            segment = pushed_segment(group_segment(experiment, base, variant.label), base)
            target = group_target(base, variant, variant.label, segment)
            sends.append(sending.advance(target.send.pk))
    return sends


def native_winner(experiment: Experiment) -> list[CampaignSend]:
    """A native test's winner: the platform sends it to the rest itself; the console records
    that it did (asking the platform again until it has) and sends nothing."""
    result = experiment.native_result or {}
    if not result.get("winner_campaign_id"):
        try:
            experiments.read_native(experiment)
        except PlatformError as exc:
            raise ExperimentError(
                f"The platform's result could not be read: {exc.message}"
            ) from None
        result = experiment.native_result or {}
    if not result.get("winner_campaign_id"):
        return []  # chosen, not sent yet: the next run looks again
    platform = experiments.native_platform(experiment)
    experiment.state = ExperimentState.WINNER_SENT
    experiment.decision_reason += (
        f" {platform.label} sent the winner to the rest itself (its campaign "
        f"{result['winner_campaign_id']}); the console sent nothing more."
    )
    experiment.save(update_fields=["state", "decision_reason"])
    sending.settle(experiment.assignment_id)
    return []


def send_winner(experiment: Experiment) -> list[CampaignSend]:
    """Send the chosen variant to the rest of each platform's audience (not the holdout)."""
    experiment.refresh_from_db()
    if experiment.state == ExperimentState.WINNER_SENT:
        return []
    if experiment.state != ExperimentState.DECIDED or experiment.winner is None:
        raise ExperimentError(f"The test is {experiment.get_state_display().lower()}: no winner.")
    if experiment.method == ExperimentMethod.NATIVE:
        return native_winner(experiment)
    sends = []
    for base in experiments.base_targets(experiment).select_related("integration"):
        segment = pushed_segment(group_segment(experiment, base, REST), base)
        target = group_target(base, experiment.winner, REST, segment)
        sends.append(sending.advance(target.send.pk))
    if all(s.finished for s in sends):
        experiment.state = ExperimentState.WINNER_SENT
        experiment.save(update_fields=["state"])
        sending.settle(experiment.assignment_id)
    return sends
