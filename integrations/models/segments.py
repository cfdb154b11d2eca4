"""SharpSend segments pushed to platforms: the remote list, the membership last pushed, the runs.

A push keeps one static list/segment/tag on one integration in step with one SharpSend segment
(audience.AudienceSegment): `SegmentPush.remote_id` is set once, when the list is created, so a
push never creates a second one; `SegmentPushMember` rows are the membership the platform holds
as far as the console knows (written per batch, as the platform accepts each change), so each
push sends only the adds and removes since the last one, and a push that died resumes where its
last committed batch left off. Each push is a `SegmentPushRun` with counts and, for every change
the platform did not accept, a `SegmentPushRecord`.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q

from integrations.platforms.types import FAILED_OUTCOMES, Outcome


class SegmentPush(models.Model):
    """One SharpSend segment kept in step on one integration."""

    segment = models.ForeignKey(
        "audience.AudienceSegment", on_delete=models.CASCADE, related_name="pushes"
    )
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="segment_pushes"
    )
    remote_id = models.CharField(
        max_length=100, blank=True, help_text="The platform's id of the list; blank until created."
    )
    remote_name = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_pushed_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["segment", "integration"]
        constraints = [
            models.UniqueConstraint(fields=["segment", "integration"], name="one_push_per_target")
        ]

    def __str__(self) -> str:
        return f"{self.segment} → {self.integration}"


class MemberState(models.TextChoices):
    MEMBER = "member", "In the platform's list"


class SegmentPushMember(models.Model):
    """One reader the platform's list holds (as last pushed and accepted)."""

    push = models.ForeignKey(SegmentPush, on_delete=models.CASCADE, related_name="members")
    # A reader deleted from SharpSend stays here (subscriber blank) until the push removes them.
    subscriber = models.ForeignKey(
        "audience.Subscriber", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    identifier = models.CharField(max_length=254, help_text="What the platform was sent.")
    remote_key = models.CharField(max_length=100, blank=True, help_text="The platform's own id.")
    state = models.CharField(max_length=10, choices=MemberState.choices, default=MemberState.MEMBER)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["push", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["push", "subscriber"],
                condition=Q(subscriber__isnull=False),
                name="one_membership_per_reader",
            )
        ]

    def __str__(self) -> str:
        return f"{self.identifier} in {self.push_id}"


class PushStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


ACTIVE_PUSH_STATUSES = (PushStatus.QUEUED, PushStatus.RUNNING)


class SegmentPushRun(models.Model):
    """One push of a segment to a platform: how far it got and what happened."""

    push = models.ForeignKey(SegmentPush, on_delete=models.CASCADE, related_name="runs")
    trigger = models.CharField(max_length=10, help_text="manual, command, resume …")
    status = models.CharField(
        max_length=12, choices=PushStatus.choices, default=PushStatus.QUEUED, db_index=True
    )
    created_remote = models.BooleanField(
        default=False, help_text="This run created the platform's list."
    )
    added = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0, help_text="Members already in the list.")
    rejected_data = models.PositiveIntegerField(default=0)
    rejected_compliance = models.PositiveIntegerField(default=0)
    rejected_auth = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    api_calls = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["push"],
                condition=Q(status__in=["queued", "running"]),
                name="one_active_run_per_push",
            )
        ]

    def __str__(self) -> str:
        return f"{self.push} #{self.pk} ({self.get_status_display()})"

    @property
    def failed(self) -> int:
        return sum(getattr(self, o.value) for o in FAILED_OUTCOMES)


class PushAction(models.TextChoices):
    ADD = "add", "Add"
    REMOVE = "remove", "Remove"


class SegmentPushRecord(models.Model):
    """A membership change the platform did not accept in one run (accepted ones are counted)."""

    run = models.ForeignKey(SegmentPushRun, on_delete=models.CASCADE, related_name="records")
    subscriber = models.ForeignKey(
        "audience.Subscriber", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    identifier = models.CharField(max_length=254)
    action = models.CharField(max_length=6, choices=PushAction.choices)
    outcome = models.CharField(max_length=24, choices=Outcome.choices())
    code = models.CharField(max_length=100, blank=True)
    message = models.TextField(blank=True)
    hint = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.action} {self.identifier}: {self.get_outcome_display()}"
