"""Privacy requests: a reader's access or deletion request, and one task per integration.

The subject's email is kept only while the request is open (the tasks need it); a closed
request keeps only `subject_hash`, the suppression list's keyed hash of it
(`audience.suppression.suppression_hash`), so that a later request can be matched to it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class PrivacyKind(models.TextChoices):
    ACCESS = "access", "Access (a copy of the data)"
    DELETION = "deletion", "Deletion (be forgotten)"
    # CCPA "do not sell or share" / "stop contacting me": the data stays, nothing is sent to
    # the reader and nothing re-subscribes them, in SharpSend and on every platform.
    SUPPRESSION = "suppress", "Do not sell / suppress (stop contacting, keep the data)"


class PrivacyStatus(models.TextChoices):
    OPEN = "open", "Open"
    ATTENTION = "attention", "Needs attention (a platform failed)"
    COMPLETE = "complete", "Complete"


class PrivacyRequest(models.Model):
    """One reader's request, across SharpSend and every integration."""

    kind = models.CharField(max_length=10, choices=PrivacyKind.choices)
    subject_email = models.EmailField(
        max_length=254, blank=True, help_text="Kept only while the request is open."
    )
    subject_hash = models.CharField(max_length=64, db_index=True)
    received_at = models.DateTimeField(default=timezone.now)
    deadline = models.DateTimeField(db_index=True)
    status = models.CharField(
        max_length=10, choices=PrivacyStatus.choices, default=PrivacyStatus.OPEN, db_index=True
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="privacy_requests",
    )
    via = models.CharField(max_length=100, blank=True, help_text="admin, manage.py …")
    # What SharpSend itself held and did (erased, suppressed, scrubbed); set once.
    local_done_at = models.DateTimeField(null=True, blank=True)
    local_result = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    # Access requests: the bundle (SharpSend's data and each platform's export) until it expires.
    bundle = models.JSONField(null=True, blank=True)
    bundle_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        permissions = [("handle_privacyrequest", "Can handle privacy requests")]
        indexes = [models.Index(fields=["status", "deadline"], name="privacy_open_by_deadline")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    @property
    def overdue(self) -> bool:
        return self.status != PrivacyStatus.COMPLETE and timezone.now() > self.deadline

    @property
    def bundle_available(self) -> bool:
        return (
            self.bundle is not None
            and self.bundle_expires_at is not None
            and timezone.now() < self.bundle_expires_at
        )


class TaskState(models.TextChoices):
    PENDING = "pending", "Pending"
    RUNNING = "running", "Running"
    WAITING = "waiting", "Waiting on the platform"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"
    NOT_SUPPORTED = "not_supported", "Not supported"


# A request is complete when every task is in one of these.
SETTLED_STATES = (TaskState.DONE, TaskState.NOT_SUPPORTED)


class PrivacyTask(models.Model):
    """The request's work on one integration; its state says what to do next."""

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="tasks")
    integration = models.ForeignKey(
        "integrations.Integration",
        null=True,
        on_delete=models.SET_NULL,
        related_name="privacy_tasks",
    )
    integration_name = models.CharField(max_length=120, help_text="Kept if the integration goes.")
    platform = models.CharField(max_length=32)
    state = models.CharField(
        max_length=14, choices=TaskState.choices, default=TaskState.PENDING, db_index=True
    )
    reason = models.TextField(blank=True, help_text="Why not supported, why failed, or what.")
    job_id = models.CharField(
        max_length=200, blank=True, help_text="The platform's job or receipt id."
    )
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    next_check_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True, help_text="An access request's export.")
    # The platform's own id for the subject, where the console knows it when the request is
    # received (segment push members, webhook events); used by APIs that address people by id.
    platform_id = models.CharField(max_length=200, blank=True)
    platform_id_source = models.CharField(
        max_length=100, blank=True, help_text="Where the console found the platform's id."
    )

    class Meta:
        ordering = ["request", "integration_name"]
        constraints = [
            models.UniqueConstraint(fields=["request", "integration"], name="one_task_each")
        ]

    def __str__(self) -> str:
        return f"{self.integration_name}: {self.get_state_display()}"
