"""SharpSend segments pushed to platforms: the remote list, the membership last pushed, the runs.

A push keeps one static list/segment/tag on one integration in step with one SharpSend segment
(audience.AudienceSegment): `SegmentPush.remote_id` is set once, when the list is created, so a
push never creates a second one; `SegmentPushMember` rows are the membership the platform holds
as far as the console knows (written per batch, as the platform accepts each change), so each
push sends only the adds and removes since the last one, and a push that died resumes where its
last committed batch left off. Each push is a `SyncRun` of kind "segment" (its `segment_push`
is the SegmentPush), run by the runner every sync and profile import uses: its counts are the
run's (added: `created`, `removed`) and every change the platform did not accept is a
`SyncRecord` with its action (add or remove).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q


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
