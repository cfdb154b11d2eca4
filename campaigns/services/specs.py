"""What a target becomes for the platform layer: its SendSpec (its content from
campaigns/content.py), and its pre-flight problems and those of the content variations."""

from __future__ import annotations

import secrets

from campaigns import content
from campaigns.models import (
    AssignmentTarget,
    CampaignSend,
    ContentVariation,
    Experiment,
    SendState,
)
from integrations.platforms.errors import PlatformError


def new_idempotency_key(target: AssignmentTarget) -> str:
    """Unique per send: the assignment, the target, and random bits (never reused)."""
    return f"ss-{target.assignment_id}-{target.pk}-{secrets.token_hex(6)}"


def spec_for(target: AssignmentTarget, send: CampaignSend | None = None):
    from integrations.platforms.send_batches import BatchProgress
    from integrations.platforms.sending import SendSpec

    assignment = target.assignment
    variant = target.variant  # an A/B test's version
    label = f" [{variant.label}]" if variant else ""
    body = content.content_of(target, send)  # what the content URLs serve, too
    return SendSpec(
        idempotency_key=send.idempotency_key if send else f"preview-{target.pk}",
        method=target.method,
        name=assignment.title + label,
        subject=body.subject,
        preview_text=body.preview_text,
        html=body.html,
        plain_text=body.plain_text,
        from_name=body.from_name,
        reply_to=assignment.reply_to,
        segment_id=send.segment_remote_id
        if send
        else (target.segment.remote_id if target.segment_id else ""),
        remote_campaign_id=target.remote_template_or_campaign_id,
        send_at=assignment.scheduled_at,
        data={
            "sharpsend_assignment": assignment.pk,
            **({"sharpsend_variant": variant.label} if variant else {}),
        },
        remote_id=send.remote_id if send else "",
        interrupted=bool(send) and send.state in (SendState.CREATING, SendState.SENDING),
        content_url=content.content_url(target, content.HTML),
        text_url=content.content_url(target, content.TEXT) if body.plain_text else "",
        progress=BatchProgress.from_dict(send.batches if send else None),
        native_test=_native_test(target),
    )


def _native_test(target: AssignmentTarget):
    """The A/B test a native test's one target carries (the platform runs it), else None."""
    from campaigns.services import experiments

    if target.audience_group != experiments.NATIVE_GROUP:
        return None
    return experiments.native_test_of(target.assignment.experiment)


def target_problems(target: AssignmentTarget) -> list[str]:
    """What stops this target from sending, knowable now (asks the platform where needed)."""
    integration = target.integration
    problems = []
    if not integration.enabled:
        problems.append(f"{integration} is disabled.")
    if target.segment_id and target.segment.integration_id != integration.pk:
        problems.append(f"The segment {target.segment} belongs to another integration.")
    if problems:
        return problems
    method = integration.platform_class.send_method(target.method)
    if method is not None and method.per_reader and target.segment_id:
        from campaigns.services.journey_sending import has_readers

        if not has_readers(target):
            return [
                f"No members of {target.segment} are imported: refresh its members first, or "
                "send to a list the console pushes there (the journey's readers are its "
                "members as last imported, or as last pushed)."
            ]
    client = integration.client()
    can_write = (integration.connection_report or {}).get("can_write")
    try:
        return client.preflight(spec_for(target), can_write=can_write)
    except PlatformError as exc:
        return [f"{integration}: could not check the target: {exc.message}"]


def variation_problems(assignment) -> dict[ContentVariation, list[str]]:
    """What is wrong with the assignment's content variations: one whose segment is gone or
    that no target sends to (it would never go out), one that overrides nothing, any on an
    assignment with an A/B test."""
    segments = set(
        assignment.targets.filter(segment__isnull=False).values_list("segment_id", flat=True)
    )
    # An A/B test sends through targets of its own, to split groups (ab_sending.py), which a
    # variation keyed to the base target's segment would not reach.
    testing = Experiment.objects.filter(assignment=assignment).exists()
    found = {}
    for variation in assignment.variations.select_related("segment__integration"):
        problems = []
        if testing:
            problems.append(
                "the assignment has an A/B test, whose split groups would not get it (A/B "
                "tests and content variations do not combine yet): delete one of them."
            )
        if variation.segment_id is None:
            problems.append(
                "its segment is gone (deleted on the platform): choose another or delete it."
            )
        elif variation.segment_id not in segments:
            problems.append(
                f"no target sends to {variation.segment} ({variation.segment.integration}): "
                "add a target for that segment or delete the variation."
            )
        if not variation.overridden:
            problems.append(
                "it changes nothing (every field is blank, so the assignment's content goes "
                "out): fill a field or delete it."
            )
        if problems:
            found[variation] = problems
    return found


def preflight(assignment) -> dict[AssignmentTarget | ContentVariation, list[str]]:
    """Each target's problems, then each content variation's ({} entries left out when a
    target or variation has none)."""
    found = {}
    for target in assignment.targets.select_related("integration", "segment", "assignment"):
        problems = target_problems(target)
        if problems:
            found[target] = problems
    found.update(variation_problems(assignment))
    return found


def describe(target: AssignmentTarget) -> str:
    """What a target will do, as the pre-flight shows it: method, segment and its size."""
    platform = target.integration.platform_class
    method = platform.send_method(target.method)
    how = method.label if method else target.method
    if method and method.trigger_only:
        how += f" {target.remote_template_or_campaign_id or '(none chosen)'}"
    sends = f"sends {content.content_of(target).source}"
    if not target.segment_id:
        return f"{target.integration}: {how} to the default audience, {sends}"
    count = target.segment.member_count
    size = f"{count:,} members" if count is not None else "size unknown"
    return f"{target.integration}: {how} to {target.segment} ({size}), {sends}"
