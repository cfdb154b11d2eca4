"""The webhook inbox: every request a platform posts to an integration's webhook URL; and the
webhooks the console registered with the platforms (RegisteredWebhook).

A request is stored before anything is done with it (received → verified → processed, or
failed / rejected / duplicate), so nothing is lost and every step can be replayed. Raw bodies
are bounded (WEBHOOK_MAX_BODY) and the headers are kept without the ones that carry secrets.
"""

from __future__ import annotations

from django.db import models


class WebhookState(models.TextChoices):
    RECEIVED = "received", "Received"
    VERIFIED = "verified", "Verified"
    PROCESSED = "processed", "Processed"
    FAILED = "failed", "Failed"
    REJECTED = "rejected", "Rejected"
    DUPLICATE = "duplicate", "Duplicate"


# The largest body the endpoint accepts (a bigger one is answered 413 and not stored).
WEBHOOK_MAX_BODY = 1024 * 1024


class WebhookEvent(models.Model):
    """One webhook delivery to one integration (one request: it may hold a batch of events)."""

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="webhook_events"
    )
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    state = models.CharField(
        max_length=12, choices=WebhookState.choices, default=WebhookState.RECEIVED
    )
    dedupe_key = models.CharField(
        max_length=128, help_text="The platform's event id, or sha256 of the raw body."
    )
    content_type = models.CharField(max_length=200, blank=True)
    body = models.BinaryField(help_text="The raw body as received (bounded).")
    headers = models.JSONField(default=dict, blank=True, help_text="Without secret headers.")
    error = models.TextField(blank=True)
    note = models.TextField(blank=True, help_text="What processing did (or why nothing).")
    attempts = models.PositiveIntegerField(default=0, help_text="Processing attempts.")
    events_count = models.PositiveIntegerField(default=0, help_text="Normalised events in it.")
    processed_at = models.DateTimeField(null=True, blank=True)
    redeliveries = models.PositiveIntegerField(
        default=0, help_text="How many more times the platform posted the same delivery."
    )
    last_redelivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedupe_key"], name="webhook_event_once"
            ),
        ]
        indexes = [
            models.Index(fields=["integration", "state"], name="webhook_by_state"),
            models.Index(fields=["state", "received_at"], name="webhook_state_received"),
        ]
        permissions = [("replay_webhookevent", "Can replay failed webhook events")]

    def __str__(self) -> str:
        return f"{self.integration} webhook {self.received_at:%Y-%m-%d %H:%M:%S}"


class RegisteredWebhook(models.Model):
    """A webhook the console registered with (or found on) the platform, for one integration.

    `endpoint` is the URL without its query: the token it carries is a secret and stays in the
    integration's encrypted credentials.
    """

    integration = models.ForeignKey(
        "integrations.Integration", on_delete=models.CASCADE, related_name="registered_webhooks"
    )
    remote_id = models.CharField(max_length=200, help_text="The platform's id of the webhook.")
    endpoint = models.CharField(max_length=500, help_text="Where it posts (without the query).")
    events = models.JSONField(default=list, blank=True, help_text="In the platform's names.")
    active = models.BooleanField(
        default=True, help_text="Whether the platform sends to it (Keap: verified)."
    )
    status = models.CharField(max_length=40, blank=True, help_text="As the platform says it.")
    registered_at = models.DateTimeField(help_text="When the console created or first found it.")
    confirmed_at = models.DateTimeField(help_text="When a registration last found it in place.")

    class Meta:
        ordering = ["integration", "registered_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "remote_id"], name="registered_webhook_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.integration} webhook {self.remote_id}"
