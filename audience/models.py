"""SharpSend's subscribers."""

from django.db import models
from django.db.models.functions import Lower

from sharpsend.indexes import PrefixSearchIndex


class SubscriberStatus(models.TextChoices):
    SUBSCRIBED = "subscribed", "Subscribed"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    BOUNCED = "bounced", "Bounced"
    CLEANED = "cleaned", "Cleaned"
    COMPLAINED = "complained", "Complained (marked as spam)"


# A reader in one of these states is never sent to and never re-subscribed by anything that
# comes in from a platform (audience/profiles.py).
OPTED_OUT = frozenset(
    {
        SubscriberStatus.UNSUBSCRIBED,
        SubscriberStatus.BOUNCED,
        SubscriberStatus.CLEANED,
        SubscriberStatus.COMPLAINED,
    }
)


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
    # Computed from the reader's engagement events (audience/engagement.py), only when those
    # change, so a changed-only sync sends them only then.
    sends_received = models.PositiveIntegerField(default=0)
    open_rate = models.FloatField(null=True, blank=True, help_text="Sends opened / received.")
    click_rate = models.FloatField(null=True, blank=True, help_text="Sends clicked / received.")
    engagement_score = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="0–100: 60 % the open rate, 40 % the click rate."
    )
    last_interaction_at = models.DateTimeField(null=True, blank=True)
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
            # The admin's search: an email or name *starting with* the words, read from these.
            PrefixSearchIndex(field="email", name="subscriber_email_prefix"),
            PrefixSearchIndex(field="first_name", name="subscriber_first_name_prefix"),
            PrefixSearchIndex(field="last_name", name="subscriber_last_name_prefix"),
        ]

    def __str__(self) -> str:
        return self.email

    def save(self, *args, **kwargs) -> None:
        self.email = normalise_email(self.email)
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class EngagementKind(models.TextChoices):
    DELIVERED = "delivered", "Delivered"
    OPENED = "opened", "Opened"
    CLICKED = "clicked", "Clicked"
    BOUNCED_HARD = "bounced_hard", "Bounced (hard)"
    BOUNCED_SOFT = "bounced_soft", "Bounced (soft)"
    UNSUBSCRIBED = "unsubscribed", "Unsubscribed"
    COMPLAINED = "complained", "Complained"
    CONTACT_CREATED = "contact_created", "Contact created"
    CONTACT_UPDATED = "contact_updated", "Contact updated"
    CONTACT_DELETED = "contact_deleted", "Contact deleted"


class EngagementEvent(models.Model):
    """One thing a reader did (or a platform did to them), normalised across platforms.

    Written by webhooks and by metrics read back; read by segments, engagement fields and the
    analytics. `dedupe_key` (the platform's event id, or a hash of what identifies the event)
    makes recording idempotent per integration.
    """

    subscriber = models.ForeignKey(
        Subscriber, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    integration = models.ForeignKey(
        "integrations.Integration",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="engagement_events",
    )
    kind = models.CharField(max_length=20, choices=EngagementKind.choices)
    occurred_at = models.DateTimeField(help_text="When it happened, by the platform's clock.")
    recorded_at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20, help_text="webhook, metrics, sandbox …")
    dedupe_key = models.CharField(max_length=128)
    remote_campaign_id = models.CharField(max_length=100, blank=True)
    # The one send of the campaign the event is about, where the platform says (Customer.io's
    # trigger id: every trigger of one broadcast shares its broadcast id).
    remote_send_id = models.CharField(max_length=100, blank=True)
    url = models.URLField(max_length=1000, blank=True, help_text="The link, for a click.")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "dedupe_key"], name="engagement_event_once"
            ),
        ]
        indexes = [
            models.Index(fields=["subscriber", "kind", "occurred_at"], name="event_by_reader"),
            models.Index(fields=["remote_campaign_id", "kind"], name="event_by_campaign"),
            models.Index(fields=["integration", "remote_send_id"], name="event_by_send"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class Suppression(models.Model):
    """A suppressed address, kept as a keyed hash of the email: a reader who asked to be
    forgotten (their data erased) or not to be sent to (a "do not sell / suppress" request:
    their data kept, their status unsubscribed).

    Nothing that comes in (CSV import, profile import, webhook) recreates a suppressed reader,
    and nothing is sent to one (`audience/suppression.py`).
    """

    email_hash = models.CharField(max_length=64, unique=True)
    reason = models.CharField(max_length=40, default="deletion request")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.email_hash[:12]}… ({self.reason})"


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
    "sends_received": "number",
    "open_rate": "number",
    "click_rate": "number",
    "engagement_score": "number",
    "last_interaction_at": "date",
}


def everyone() -> dict:
    """The rules of a new segment: every subscriber (an empty `all` group)."""
    return {"all": []}


class AudienceSegment(models.Model):
    """A segment defined in SharpSend: rules on subscriber fields, attributes and engagement.

    `rules` is the JSON rule language of audience/segment_rules.py; members are computed on
    demand (`members()`), never stored here. Pushing one to a platform keeps the last pushed
    membership per integration (integrations.models.segments).
    """

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    rules = models.JSONField(
        default=everyone,
        help_text='e.g. {"all": [{"field": "attributes.interest", "op": "eq", "value": '
        '"crypto"}, {"field": "last_opened_at", "op": "within_days", "value": 30}]}',
    )
    created_by = models.ForeignKey(
        "auth.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "SharpSend segment"

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        from audience.segment_rules import validate_rules

        try:
            validate_rules(self.rules)
        except ValidationError as exc:
            raise ValidationError({"rules": exc.messages}) from exc

    def members(self):
        """The subscribers the rules select (a queryset; raises ValidationError if invalid)."""
        from audience.segment_rules import compile_rules

        return Subscriber.objects.filter(compile_rules(self.rules))
