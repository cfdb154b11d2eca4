"""Editorial assignments and the sends they become.

An Assignment is one email written in SharpSend; its AssignmentTargets name where it goes
(an integration, one of that integration's imported segments, and the send method the
platform declares). Approval creates one CampaignSend per target: the send ledger, which
moves each target through its states so that a rerun after any crash never creates or sends
twice (campaigns/services/sending.py). AssignmentEvent records every change of status.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AssignmentStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    PARTLY_SENT = "partly_sent", "Partly sent"
    FAILED = "failed", "Failed"
    CANCELLED = "cancelled", "Cancelled"


class Assignment(models.Model):
    """One email: its content, its author, where it stands in review and sending."""

    title = models.CharField(max_length=200, help_text="Internal name (not shown to readers).")
    subject = models.CharField(max_length=250)
    preview_text = models.CharField(max_length=250, blank=True)
    html = models.TextField("HTML content", blank=True)
    plain_text = models.TextField("Plain-text content", blank=True)
    from_name = models.CharField(max_length=100, blank=True)
    reply_to = models.EmailField(blank=True, help_text="Needed by some platforms to send.")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assignments"
    )
    status = models.CharField(
        max_length=12, choices=AssignmentStatus.choices, default=AssignmentStatus.DRAFT
    )
    scheduled_at = models.DateTimeField(
        null=True, blank=True, help_text="Blank: send on approval. Stored in UTC."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("approve_assignment", "Can approve an assignment (its sends go out)"),
        ]

    def __str__(self) -> str:
        return self.title


class AssignmentTarget(models.Model):
    """Where an assignment goes: an integration, a segment of it, and how it is sent."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="targets")
    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.PROTECT, related_name="assignment_targets"
    )
    segment = models.ForeignKey(
        "integrations.Segment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assignment_targets",
        help_text="An imported segment of the integration (gone when it is deleted there).",
    )
    method = models.CharField(
        max_length=40, help_text="One of the send methods the integration's platform declares."
    )
    remote_template_or_campaign_id = models.CharField(
        max_length=100,
        blank=True,
        help_text="For a trigger-only platform: the campaign or broadcast (made on the "
        "platform) this target triggers.",
    )
    # A/B tests: a target made for one variant's split (or for the winner's send to the rest,
    # `audience_group` "rest") sends that variant's content to the group's pushed segment.
    variant = models.ForeignKey(
        "campaigns.Variant", null=True, blank=True, on_delete=models.PROTECT, related_name="targets"
    )
    audience_group = models.CharField(max_length=10, blank=True)

    class Meta:
        ordering = ["assignment", "pk"]

    def __str__(self) -> str:
        where = self.segment.name if self.segment_id else "default audience"
        return f"{self.integration} → {where}"


class ContentVariation(models.Model):
    """Another version of an assignment's content, for the readers of one segment.

    A target whose segment has a variation sends it; each field left blank takes the
    assignment's (an A/B test's variant, where a target has one, goes before both:
    campaigns/content.py). A variation names a segment one of the assignment's targets sends
    to (checked on submit and in the pre-flight). Approval records on each send the variation
    it carries (CampaignSend.variation), so what goes out is what was approved.
    """

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="variations")
    segment = models.ForeignKey(
        "integrations.Segment",
        on_delete=models.SET_NULL,
        null=True,
        related_name="content_variations",
        help_text="The imported segment whose readers get this version (a target's segment).",
    )
    subject = models.CharField(max_length=250, blank=True, help_text="Blank: the assignment's.")
    preview_text = models.CharField(
        max_length=250, blank=True, help_text="Blank: the assignment's."
    )
    html = models.TextField("HTML content", blank=True, help_text="Blank: the assignment's.")
    plain_text = models.TextField(
        "Plain-text content", blank=True, help_text="Blank: the assignment's."
    )

    FIELDS = ("subject", "preview_text", "html", "plain_text")

    class Meta:
        ordering = ["assignment", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "segment"], name="one_variation_per_segment"
            )
        ]

    def __str__(self) -> str:
        where = self.segment.name if self.segment_id else "a segment that is gone"
        return f"Variation for {where}"

    @property
    def overridden(self) -> list[str]:
        """The fields this variation sets (the others are the assignment's)."""
        return [name for name in self.FIELDS if getattr(self, name).strip()]


class SendState(models.TextChoices):
    PENDING = "pending", "Pending"
    CREATING = "creating", "Creating"
    CREATED = "created", "Created"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # An attempt was recorded but its outcome is not known and the platform cannot be asked:
    # never sent again by the console; someone checks the platform.
    UNKNOWN = "unknown", "Unknown (check the platform)"
    CANCELLED = "cancelled", "Cancelled"


TERMINAL_SEND_STATES = (
    SendState.SENT,
    SendState.FAILED,
    SendState.UNKNOWN,
    SendState.CANCELLED,
)


class CampaignSend(models.Model):
    """The send ledger's row for one target (created on approval, one per target)."""

    target = models.OneToOneField(AssignmentTarget, on_delete=models.CASCADE, related_name="send")
    state = models.CharField(max_length=10, choices=SendState.choices, default=SendState.PENDING)
    idempotency_key = models.CharField(max_length=64, unique=True)
    # The segment as approved: a re-import that drops the segment never widens the audience.
    segment_remote_id = models.CharField(max_length=100, blank=True)
    # The content variation the target's segment had at approval (None: the assignment's own
    # content): the send carries this one, whatever is edited or re-imported later.
    variation = models.ForeignKey(
        ContentVariation,
        on_delete=models.RESTRICT,
        null=True,
        blank=True,
        related_name="sends",
    )
    remote_id = models.CharField(
        max_length=100, blank=True, help_text="The campaign, broadcast or single send created."
    )
    remote_send_id = models.CharField(
        max_length=100, blank=True, help_text="The trigger or send job the send call returned."
    )
    remote_state = models.CharField(max_length=60, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(
        default=0, help_text="Send calls attempted (recorded before each call)."
    )
    # A batched send (a platform whose send call names its recipients): how far it got, as
    # integrations/platforms/send_batches.py's BatchProgress (empty for other sends).
    batches = models.JSONField(
        default=dict, blank=True, help_text="A batched send's progress: batches sent, lost."
    )
    # A journey triggered by event (a send method with per_reader): how far it got, committed
    # after every batch (campaigns/services/journey_sending.py).
    reader_cursor = models.BigIntegerField(
        default=0, help_text="Journey events: the last subscriber id whose batch was sent."
    )
    readers_sent = models.PositiveIntegerField(default=0)
    readers_refused = models.PositiveIntegerField(default=0)
    # Held by the worker moving this send along (clock seconds), so two never do at once.
    lease_owner = models.CharField(max_length=32, blank=True)
    lease_until = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    remote_created_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["target"]

    def __str__(self) -> str:
        return f"send of {self.target}: {self.get_state_display()}"

    @property
    def finished(self) -> bool:
        return self.state in TERMINAL_SEND_STATES


class AssignmentEvent(models.Model):
    """One change of an assignment's status: who, when, from and to, and why."""

    assignment = models.ForeignKey(Assignment, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        help_text="Blank: the system or the machine's operator (manage.py).",
    )
    at = models.DateTimeField(auto_now_add=True)
    from_status = models.CharField(max_length=12, choices=AssignmentStatus.choices)
    to_status = models.CharField(max_length=12, choices=AssignmentStatus.choices)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.assignment}: {self.from_status} → {self.to_status}"


class MetricsSnapshot(models.Model):
    """A send's metrics as its platform reported them at one moment (integrations' SendMetrics).

    Snapshots are kept, not overwritten, so the analytics can draw how opens and clicks grew
    after the send; the newest is the send's current figures. None: not reported.
    """

    send = models.ForeignKey(CampaignSend, on_delete=models.CASCADE, related_name="snapshots")
    taken_at = models.DateTimeField(db_index=True)
    sent = models.PositiveIntegerField(null=True, blank=True)
    delivered = models.PositiveIntegerField(null=True, blank=True)
    opened = models.PositiveIntegerField(null=True, blank=True, help_text="Unique opens.")
    clicked = models.PositiveIntegerField(null=True, blank=True, help_text="Unique clicks.")
    bounced = models.PositiveIntegerField(null=True, blank=True)
    unsubscribed = models.PositiveIntegerField(null=True, blank=True)
    complained = models.PositiveIntegerField(null=True, blank=True)
    converted = models.PositiveIntegerField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["send", "taken_at"]
        indexes = [models.Index(fields=["send", "-taken_at"], name="snapshot_latest")]

    def __str__(self) -> str:
        return f"{self.send} at {self.taken_at:%Y-%m-%d %H:%M}"

    @property
    def open_rate(self) -> float | None:
        base = self.delivered or self.sent
        return self.opened / base if base and self.opened is not None else None

    @property
    def click_rate(self) -> float | None:
        base = self.delivered or self.sent
        return self.clicked / base if base and self.clicked is not None else None


from campaigns.experiments.models import (  # noqa: E402, F401 (the app's models)
    Experiment,
    ExperimentMember,
    ExperimentMethod,
    ExperimentState,
    Variant,
)
