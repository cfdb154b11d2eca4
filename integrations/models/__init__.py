"""Connections to marketing platforms and everything recorded about them."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from encrypted_fields.fields import EncryptedJSONField, EncryptedTextField

from audience.profiles import ConflictPolicy
from integrations.platforms.registry import platform_choices
from integrations.platforms.types import FAILED_OUTCOMES, Outcome  # noqa: F401 (re-exported)
from sharpsend.indexes import PrefixSearchIndex


class IntegrationStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    CONNECTED = "connected", "Connected"
    ERROR = "error", "Error"
    NEEDS_ATTENTION = "needs_attention", "Needs attention"
    DISABLED = "disabled", "Disabled"


class SyncFrequency(models.TextChoices):
    MANUAL = "manual", "Manual only"
    EVERY_15_MIN = "15min", "Every 15 minutes"
    EVERY_30_MIN = "30min", "Every 30 minutes"
    HOURLY = "hourly", "Hourly"
    DAILY = "daily", "Daily"

    @property
    def minutes(self) -> int | None:
        return {"manual": None, "15min": 15, "30min": 30, "hourly": 60, "daily": 1440}[self.value]


class Integration(models.Model):
    """One connected account on one marketing platform."""

    platform = models.CharField(max_length=32, choices=platform_choices, db_index=True)
    name = models.CharField(max_length=120, unique=True)
    api_base_url = models.CharField(
        "API base URL override",
        max_length=300,
        blank=True,
        help_text="Leave blank for the platform's own API. A region or instance host the "
        "platform publishes (https), or the built-in sandbox.",
    )
    region = models.CharField(max_length=32, blank=True)
    # Every credential lives here, encrypted leaf by leaf; never rendered back to a page.
    credentials = EncryptedJSONField(null=True, blank=True, default=dict)
    status = models.CharField(
        max_length=20, choices=IntegrationStatus.choices, default=IntegrationStatus.DRAFT
    )
    last_error = models.TextField(blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_tested_at = models.DateTimeField(null=True, blank=True)
    connection_report = models.JSONField(default=dict, blank=True)
    sync_frequency = models.CharField(
        max_length=10, choices=SyncFrequency.choices, default=SyncFrequency.MANUAL
    )
    update_existing = models.BooleanField(
        default=True,
        help_text="Update contacts that already exist on the platform. Off: existing "
        "contacts are kept as they are and only new ones are added.",
    )
    conflict_policy = models.CharField(
        max_length=16,
        choices=ConflictPolicy.choices,
        default=ConflictPolicy.SHARPSEND_WINS,
        help_text="When a profile comes in from the platform (import, webhook), which side's "
        "value a field keeps.",
    )
    enabled = models.BooleanField(default=True)
    # The unguessable id in the integration's webhook URL (/webhooks/<webhook_id>/).
    webhook_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["status"]), models.Index(fields=["enabled"])]
        permissions = [
            ("run_sync", "Can run syncs and retry failed records"),
            ("import_profiles", "Can import profiles from the platform into SharpSend"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def secrets(self) -> dict[str, str]:
        """Decrypted credentials (a copy; falsy leaves come back as None and are dropped)."""
        return {k: v for k, v in (self.credentials or {}).items() if v not in (None, "")}

    # OAuth tokens not saved yet (the wizard's, from the consent screen), handed to the client
    # in place of the saved connection; None for a saved integration.
    token_source = None

    @property
    def platform_class(self):
        """The platform's client class (its declarations), without building a client."""
        from integrations.platforms.registry import get_platform

        return get_platform(self.platform)

    def client(self):
        """The platform client for this integration."""
        return self.platform_class(self)


class OAuthConnection(models.Model):
    """An integration's OAuth 2.0 tokens (encrypted) and their health."""

    integration = models.OneToOneField(
        Integration, on_delete=models.CASCADE, related_name="oauth_connection"
    )
    access_token = EncryptedTextField(null=True, blank=True)
    refresh_token = EncryptedTextField(null=True, blank=True)
    token_type = models.CharField(max_length=40, default="Bearer")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: never expires.")
    scope = models.CharField(max_length=500, blank=True)
    account_key = models.CharField(
        max_length=200, blank=True, help_text="The platform's id of the connected account."
    )
    connected_at = models.DateTimeField(auto_now_add=True)
    last_refreshed_at = models.DateTimeField(null=True, blank=True)
    refresh_failures = models.PositiveIntegerField(default=0)
    last_refresh_error = models.CharField(max_length=300, blank=True)
    # The refresh lease: one worker at a time renews the tokens (services.oauth.refresh).
    refresh_lease_until = models.DateTimeField(null=True, blank=True)
    refresh_lease_owner = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["integration"]
        indexes = [models.Index(fields=["expires_at"])]

    def __str__(self) -> str:
        return f"OAuth connection of {self.integration_id}"


class Transform(models.TextChoices):
    NONE = "", "As is"
    LOWER = "lower", "Lower case"
    UPPER = "upper", "Upper case"
    STRIP = "strip", "Trim spaces"
    IS_UNSUBSCRIBED = "is_unsubscribed", "Unsubscribed? (true/false)"
    IS_SUBSCRIBED = "is_subscribed", "Subscribed? (true/false)"


class FieldMapping(models.Model):
    """One SharpSend field (or custom attribute `attributes.<key>`) sent to one target field."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="field_mappings"
    )
    source = models.CharField(
        max_length=150, help_text="A subscriber field, or attributes.<key> for a custom attribute."
    )
    target = models.CharField(max_length=150, help_text="The platform's field.")
    transform = models.CharField(max_length=20, choices=Transform.choices, blank=True)
    is_identifier = models.BooleanField(
        default=False, help_text="This field identifies the contact on the platform."
    )

    class Meta:
        ordering = ["integration", "-is_identifier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["integration", "target"], name="mapping_target_unique"),
            models.UniqueConstraint(
                fields=["integration"], condition=Q(is_identifier=True), name="one_identifier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.target}"


class SyncTrigger(models.TextChoices):
    SCHEDULE = "schedule", "Schedule"
    MANUAL = "manual", "Manual (admin)"
    WIZARD = "wizard", "Setup wizard"
    COMMAND = "command", "Command"
    RESUME = "resume", "Resumed after interruption"
    AB_TEST = "ab_test", "A/B test split"


class SyncMode(models.TextChoices):
    CHANGED = "changed", "Changed only"
    FULL = "full", "Full"
    RETRY = "retry", "Retry failed records"


class SyncKind(models.TextChoices):
    """What a run does: SharpSend's subscribers pushed out, the platform's profiles read in
    (integrations/services/profile_import.py), or one SharpSend segment's membership kept in
    step with a static list on the platform (integrations/services/segment_push.py). All share
    the run's life (services/sync.py): queued, claimed by one worker, a heartbeat, a
    checkpoint per batch, taken for dead without a heartbeat, resumed by the housekeeping."""

    PUSH = "push", "Sync to the platform"
    IMPORT = "import", "Profile import"
    SEGMENT = "segment", "Segment push"


class SyncStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    PARTIAL = "partial", "Partial"
    FAILED = "failed", "Failed"
    INTERRUPTED = "interrupted", "Interrupted"


ACTIVE_SYNC_STATUSES = (SyncStatus.QUEUED, SyncStatus.RUNNING)


class SyncRun(models.Model):
    """One run on an integration (a sync, a profile import or a segment push): who started
    it, how far it got, what happened.

    One active run at a time, enforced by the database (whatever the number of q cluster
    processes), in two scopes:
    - a sync and a profile import of one integration exclude each other (both read or write
      the integration's contacts and its sync state): at most one queued or running run per
      integration among those without a `segment_push`;
    - a segment push is one run per target (`segment_push`: segment × integration): at most
      one queued or running run per target. Pushes run beside the integration's sync and
      beside pushes of other segments, as they did before they were runs: a push writes only
      one list's membership (SegmentPushMember), never the contacts' fields nor the sync
      state, and a long full sync must not hold up a segment an A/B test's send is waiting
      for. Both still share the platform's one rate limit (integrations/ratelimit.py).
    """

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="sync_runs")
    kind = models.CharField(max_length=8, choices=SyncKind.choices, default=SyncKind.PUSH)
    segment_push = models.ForeignKey(
        "integrations.SegmentPush",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="runs",
        help_text="A segment push: the target it keeps in step (blank for other kinds).",
    )
    trigger = models.CharField(max_length=10, choices=SyncTrigger.choices)
    mode = models.CharField(max_length=10, choices=SyncMode.choices, default=SyncMode.CHANGED)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=12, choices=SyncStatus.choices, default=SyncStatus.QUEUED, db_index=True
    )
    resumed_from = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="resumed_by"
    )
    total = models.PositiveIntegerField(default=0, help_text="Subscribers in scope at the start.")
    seen = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(
        default=0,
        help_text="Contacts created (a sync), profiles created in SharpSend (an import), or "
        "members added to the platform's list (a segment push).",
    )
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(
        default=0,
        help_text="A sync: records whose payload had not changed; a segment push: members the "
        "platform's list already held.",
    )
    removed = models.PositiveIntegerField(
        default=0,
        help_text="A segment push: members taken out of the platform's list (the segment no "
        "longer selects them, they opted out or were deleted). Always 0 for other kinds.",
    )
    created_remote = models.BooleanField(
        default=False, help_text="A segment push: this run created the platform's list."
    )
    rejected_data = models.PositiveIntegerField(default=0)
    rejected_compliance = models.PositiveIntegerField(default=0)
    rejected_auth = models.PositiveIntegerField(default=0)
    throttled = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    excluded = models.PositiveIntegerField(
        default=0,
        help_text="A push: unsubscribed, bounced or cleaned subscribers never sent to this "
        "platform (not created there). An import: profiles skipped (suppressed readers, or new "
        "ones the platform holds no consent for: not created in SharpSend).",
    )
    api_calls = models.PositiveIntegerField(default=0)
    # Changed-only in O(changes) (services/changes.py): what decided the payloads, the time
    # before which every change was compared by this run, and since when this run read.
    mapping_digest = models.CharField(max_length=32, blank=True)
    snapshot_at = models.DateTimeField(null=True, blank=True)
    reads_since = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Changed-only: read only subscribers changed since then, and those pending "
        "(blank: every subscriber was compared).",
    )
    cursor = models.BigIntegerField(
        default=0,
        help_text="The per-batch checkpoint: a push is done with the subscribers up to this "
        "id, an import with this many of the platform's pages.",
    )
    # A profile import: where the platform's next page starts (its own paging token or
    # offset; blank: the first page, or none left once `cursor` pages are done), and the
    # conflict policy it applies (blank: the integration's).
    remote_cursor = models.TextField(blank=True)
    conflict_policy = models.CharField(max_length=16, choices=ConflictPolicy.choices, blank=True)
    # A platform's asynchronous bulk job submitted for the current batch and not yet read
    # back: a resumed run polls it instead of sending the batch again.
    pending_job = models.JSONField(default=dict, blank=True)
    job_state = models.CharField(max_length=200, blank=True, help_text="The bulk job's state.")
    error = models.TextField(blank=True)
    warnings = models.JSONField(default=list, blank=True)
    preview = models.JSONField(default=list, blank=True, help_text="Dry run: mapped payloads.")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        get_latest_by = "created_at"
        constraints = [
            # At most one queued or running sync or import per integration, and one queued or
            # running push per segment push target (see the class docstring for why).
            models.UniqueConstraint(
                fields=["integration"],
                condition=Q(status__in=["queued", "running"], segment_push__isnull=True),
                name="one_active_sync_per_integration",
            ),
            models.UniqueConstraint(
                fields=["segment_push"],
                condition=Q(status__in=["queued", "running"], segment_push__isnull=False),
                name="one_active_run_per_segment_push",
            ),
        ]
        indexes = [models.Index(fields=["integration", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.integration} #{self.pk} ({self.get_status_display()})"

    @property
    def failed(self) -> int:
        return sum(getattr(self, o.value) for o in FAILED_OUTCOMES)

    @property
    def is_import(self) -> bool:
        return self.kind == SyncKind.IMPORT

    @property
    def is_segment_push(self) -> bool:
        return self.kind == SyncKind.SEGMENT

    @property
    def mode_label(self) -> str:
        """What the run does, as the run lists show it: a sync's mode, "Profile import", or
        "Segment push"."""
        return self.get_mode_display() if self.kind == SyncKind.PUSH else self.get_kind_display()

    @property
    def progress_percent(self) -> int:
        if self.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL) or not self.total:
            return 100 if self.status in (SyncStatus.SUCCEEDED, SyncStatus.PARTIAL) else 0
        return min(100, round(100 * self.seen / self.total))

    @property
    def duration(self):
        if not self.started_at:
            return None
        return (self.finished_at or self.heartbeat_at or self.started_at) - self.started_at

    @property
    def duration_text(self) -> str:
        """ "0.4 s", "2 min 05 s", "1 h 03 min" (blank before it starts)."""
        if self.duration is None:
            return ""
        seconds = self.duration.total_seconds()
        if seconds < 60:
            return f"{seconds:.1f} s"
        minutes, seconds = divmod(int(seconds), 60)
        if minutes < 60:
            return f"{minutes} min {seconds:02d} s"
        hours, minutes = divmod(minutes, 60)
        return f"{hours} h {minutes:02d} min"


class PushAction(models.TextChoices):
    """What a segment push asked of the platform's list for one member."""

    ADD = "add", "Add"
    REMOVE = "remove", "Remove"


class SyncRecord(models.Model):
    """The outcome of one record sent in one run and not accepted (accepted ones are counted).

    A segment push's record is one membership change the platform refused: `action` says
    which (add or remove) and `email` holds what the platform names the member by.
    """

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="records")
    subscriber = models.ForeignKey(
        "audience.Subscriber", null=True, on_delete=models.SET_NULL, related_name="sync_records"
    )
    email = models.CharField(
        max_length=254,
        help_text="The subscriber's email; a segment push: the member's identifier as sent.",
    )
    action = models.CharField(
        max_length=6,
        choices=PushAction.choices,
        blank=True,
        help_text="A segment push: the change refused (blank for syncs and imports).",
    )
    outcome = models.CharField(max_length=24, choices=Outcome.choices())
    code = models.CharField(max_length=100, blank=True, help_text="The platform's own code.")
    message = models.TextField(blank=True)
    hint = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["run", "outcome"]),
            # The admin's list of every run's records, filtered by outcome, in its order.
            models.Index(fields=["outcome", "id"], name="record_by_outcome"),
            # The admin's search: an email or code starting with the words.
            PrefixSearchIndex(field="email", name="record_email_prefix"),
            PrefixSearchIndex(field="code", name="record_code_prefix"),
        ]

    def __str__(self) -> str:
        return f"{self.email}: {self.get_outcome_display()}"


class SyncStateStatus(models.TextChoices):
    SYNCED = "synced", "Synced"
    PENDING = "pending", "Pending (last attempt failed)"


class SyncState(models.Model):
    """What was last pushed of one subscriber to one integration (for changed-only syncs)."""

    integration = models.ForeignKey(
        Integration, on_delete=models.CASCADE, related_name="sync_states"
    )
    subscriber = models.ForeignKey(
        "audience.Subscriber", on_delete=models.CASCADE, related_name="sync_states"
    )
    payload_hash = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=8, choices=SyncStateStatus.choices)
    last_outcome = models.CharField(max_length=24, choices=Outcome.choices())
    ever_synced = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["integration", "subscriber"], name="one_state")
        ]
        # A changed-only run reads the pending ones without scanning every state.
        indexes = [models.Index(fields=["integration", "status"], name="state_by_status")]

    def __str__(self) -> str:
        return f"{self.subscriber_id}@{self.integration_id}: {self.status}"


class Segment(models.Model):
    """A list, segment, audience or tag read from a platform."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="segments")
    remote_id = models.CharField(max_length=100)
    name = models.CharField(max_length=255)
    kind = models.CharField(max_length=40, blank=True)
    member_count = models.PositiveIntegerField(null=True, blank=True)
    count_updated_at = models.DateTimeField(null=True, blank=True)
    imported_at = models.DateTimeField()
    # Membership read in (integrations/services/membership.py): a refresh pages through the
    # platform's members as generation `members_generation + 1`, keeping its place in
    # `members_cursor`, and drops those it did not see only once it reaches the last page.
    members_generation = models.PositiveIntegerField(default=0)
    members_cursor = models.CharField(max_length=500, blank=True)
    members_refreshing = models.BooleanField(default=False)
    members_refreshed_at = models.DateTimeField(null=True, blank=True)
    members_matched = models.PositiveIntegerField(
        null=True, blank=True, help_text="Members who are SharpSend subscribers."
    )
    members_unmatched = models.PositiveIntegerField(
        null=True, blank=True, help_text="Members SharpSend does not hold (not created)."
    )

    class Meta:
        ordering = ["integration", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "remote_id"], name="segment_remote_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name


class ApiFeature(models.TextChoices):
    """What the console was doing when it called a platform (integrations.metering.feature)."""

    SYNC = "sync", "Contact sync"
    PROFILES = "profiles", "Profile imports"
    SEGMENTS = "segments", "Segments"
    SENDS = "sends", "Sends"
    METRICS = "metrics", "Metrics"
    WEBHOOKS = "webhooks", "Webhooks"
    PRIVACY = "privacy", "Privacy requests"
    CONNECTION = "connection", "Connection tests and setup"
    AUTH = "auth", "OAuth tokens"
    OTHER = "other", "Other"


class ApiCall(models.Model):
    """One HTTP call to a platform (metering: counts, errors, latency, bytes)."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="api_calls")
    surface = models.CharField(max_length=40)
    feature = models.CharField(max_length=16, choices=ApiFeature.choices, default=ApiFeature.OTHER)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=300, help_text="Without the query string.")
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    ok = models.BooleanField()
    error_kind = models.CharField(max_length=20, blank=True)
    latency_ms = models.FloatField()
    bytes_sent = models.PositiveIntegerField(default=0)
    bytes_received = models.PositiveIntegerField(default=0)
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            models.Index(fields=["integration", "at"]),
            # The admin's "failed only" list, newest first: the failed calls alone.
            models.Index(fields=["-at", "-id"], condition=Q(ok=False), name="api_call_failed"),
        ]
        verbose_name = "API call"

    def __str__(self) -> str:
        return f"{self.method} {self.path} → {self.status_code}"


class RateLimitState(models.Model):
    """The shared state of one rate limit (GCRA: the theoretical arrival time)."""

    key = models.CharField(max_length=200, unique=True)
    tat = models.FloatField(default=0.0, help_text="Unix time before which the bucket is full.")
    priority_until = models.FloatField(
        default=0.0, help_text="Unix time until which a waiting send has the next slot."
    )

    def __str__(self) -> str:
        return self.key


class AuditAction(models.TextChoices):
    INTEGRATION_CREATED = "integration_created", "Integration created"
    INTEGRATION_CHANGED = "integration_changed", "Integration changed"
    INTEGRATION_DELETED = "integration_deleted", "Integration deleted"
    SECRETS_CHANGED = "secrets_changed", "Credentials changed"
    SYNC_REQUESTED = "sync_requested", "Sync requested"
    SYNC_CANCELLED = "sync_cancelled", "Sync cancelled"
    PROFILES_IMPORT_REQUESTED = "profiles_import_requested", "Profile import requested"
    CONNECTION_TESTED = "connection_tested", "Connection tested"
    SEGMENTS_IMPORTED = "segments_imported", "Segments imported"
    SEGMENT_PUSH_REQUESTED = "segment_push_requested", "Segment push requested"
    OAUTH_CONNECTED = "oauth_connected", "OAuth connected"
    OAUTH_DISCONNECTED = "oauth_disconnected", "OAuth disconnected"
    ROLE_CHANGED = "role_changed", "Roles changed"
    # Named by the issues that add them: the campaigns, privacy and webhook work.
    ASSIGNMENT_APPROVED = "assignment_approved", "Assignment approved"
    ASSIGNMENT_CANCELLED = "assignment_cancelled", "Assignment cancelled"
    PRIVACY_REQUEST_HANDLED = "privacy_request_handled", "Privacy request handled"
    WEBHOOKS_REGISTERED = "webhooks_registered", "Webhooks registered"


class AuditEntry(models.Model):
    """Who did what to which object, and when (written by `services.audit`, never edited).

    `changes` holds field → [old, new] for settings and only "changed"/"unchanged" for a
    credential: a secret's value is never written here.
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        "auth.User",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
        help_text="Blank: the system or a management command (see “via”).",
    )
    actor_name = models.CharField(
        max_length=150, blank=True, help_text="The actor's username, kept if the user goes."
    )
    via = models.CharField(max_length=100, blank=True, help_text="e.g. admin, wizard, manage.py …")
    action = models.CharField(max_length=40, choices=AuditAction.choices, db_index=True)
    target_type = models.ForeignKey(
        "contenttypes.ContentType", null=True, blank=True, on_delete=models.SET_NULL
    )
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=200, blank=True)
    summary = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        default_permissions = ("view",)
        verbose_name = "audit entry"
        verbose_name_plural = "audit log"
        indexes = [models.Index(fields=["target_type", "target_id"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.target_label}"


# Each capability's models live in their own module; imported here so Django finds them.
from integrations.models.membership import SegmentMember  # noqa: E402, F401 (the app's models)

# Each capability adds its own module; its models are imported here so Django registers them.
from integrations.models.privacy import (  # noqa: E402, F401
    SETTLED_STATES,
    PrivacyKind,
    PrivacyRequest,
    PrivacyStatus,
    PrivacyTask,
    TaskState,
)

# Each capability's models live in their own module of this package.
from integrations.models.segments import (  # noqa: E402, F401
    MemberState,
    SegmentPush,
    SegmentPushMember,
)
from integrations.models.webhooks import (  # noqa: E402, F401
    RegisteredWebhook,
    WebhookEvent,
    WebhookState,
)
