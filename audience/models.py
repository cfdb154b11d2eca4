"""SharpSend's subscribers."""

from django.db import models
from django.db.models.functions import Lower


class SubscriberStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    CLEANED = "cleaned", "Cleaned"


class Subscriber(models.Model):
    """One reader of the publisher's newsletters.

    `attributes` holds the publisher's custom fields (plan, interests, segment tags …) as a
    flat JSON object; its keys are offered as sources in field mappings.
    """

    email = models.EmailField(max_length=254)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    status = models.CharField(
        max_length=16, choices=SubscriberStatus.choices, default=SubscriberStatus.SUBSCRIBED
    )
    attributes = models.JSONField(default=dict, blank=True)
    # Engagement written back from the platforms' metrics and webhooks.
    last_opened_at = models.DateTimeField(null=True, blank=True)
    last_clicked_at = models.DateTimeField(null=True, blank=True)
    opens_count = models.PositiveIntegerField(default=0)
    clicks_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["email"]
        constraints = [
            models.UniqueConstraint(Lower("email"), name="subscriber_email_ci_unique"),
        ]
        indexes = [
            # Lists are ordered by email: a page of a million readers reads the index, not
            # every row (the unique constraint is on Lower(email), which ORDER BY cannot use).
            models.Index(fields=["email"], name="subscriber_by_email"),
            models.Index(fields=["status"]),
            models.Index(fields=["updated_at"]),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def normalise_email(email: str) -> str:
    """Emails are compared case-insensitively; store them trimmed and lower-cased."""
    return (email or "").strip().lower()


# The standard fields a field mapping can read from, with the type the mapping UI shows.
STANDARD_FIELDS: dict[str, str] = {
    "email": "email",
    "first_name": "string",
    "last_name": "string",
    "status": "string",
    "created_at": "date",
    "updated_at": "date",
    "last_opened_at": "date",
    "last_clicked_at": "date",
    "opens_count": "number",
    "clicks_count": "number",
}
