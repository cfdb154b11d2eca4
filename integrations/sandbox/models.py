"""What the sandbox platforms store: contacts, their lists or segments, and injected faults."""

from django.db import models


class SandboxContact(models.Model):
    """A person/user/profile as one emulated platform account holds it."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    identifier = models.CharField(max_length=254)
    attributes = models.JSONField(default=dict)
    # Suppressed (Customer.io) or forgotten (Iterable): the platform refuses their data.
    suppressed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["platform", "account", "identifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "identifier"], name="sandbox_contact_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account}: {self.identifier}"


class SandboxSuppression(models.Model):
    """An address on an account's own suppression list (SendGrid's global unsubscribes,
    Klaviyo's suppressed profiles): kept apart from the contacts, as those platforms keep it,
    so it holds whether or not a contact has the address; no send reaches it
    (integrations/sandbox/deliveries.py)."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    email = models.CharField(max_length=254)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "account", "email"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "email"], name="sandbox_suppression_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account}: {self.email} suppressed"

    @classmethod
    def add(cls, platform: str, account: str, emails) -> list[str]:
        """Suppress `emails` (lower-cased; idempotent); the addresses now suppressed."""
        lowered = list(dict.fromkeys(str(e).strip().lower() for e in emails))
        cls.objects.bulk_create(
            [cls(platform=platform, account=account, email=e) for e in lowered],
            ignore_conflicts=True,
        )
        return lowered

    @classmethod
    def emails(cls, platform: str, account: str):
        return cls.objects.filter(platform=platform, account=account).values("email")


class SandboxSegment(models.Model):
    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    remote_id = models.IntegerField()
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=40, blank=True)
    # Members are the stored contacts whose attribute `rule_attribute` equals `rule_value`
    # (every contact when blank), so counts follow what syncs have sent.
    rule_attribute = models.CharField(max_length=100, blank=True)
    rule_value = models.CharField(max_length=100, blank=True)
    # A static list/segment/tag created through the API: its members are the ones added.
    static = models.BooleanField(default=False)
    static_members = models.ManyToManyField(SandboxContact, blank=True, related_name="+")

    class Meta:
        ordering = ["platform", "account", "remote_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "remote_id"], name="sandbox_segment_unique"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def create_static(cls, platform: str, account: str, name: str, kind: str = "list"):
        """A new static list with the account's next id (what a create call makes)."""
        last = cls.objects.filter(platform=platform, account=account).order_by("-remote_id")
        next_id = (last.values_list("remote_id", flat=True).first() or 0) + 1
        return cls.objects.create(
            platform=platform, account=account, remote_id=next_id, name=name, kind=kind,
            static=True,
        )  # fmt: skip

    def members(self):
        if self.static:
            return self.static_members.all()
        contacts = SandboxContact.objects.filter(platform=self.platform, account=self.account)
        if self.rule_attribute:
            contacts = contacts.filter(**{f"attributes__{self.rule_attribute}": self.rule_value})
        return contacts


class SandboxFieldType(models.Model):
    """A field's type, fixed by the first value written (as Iterable does)."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    name = models.CharField(max_length=150)
    type = models.CharField(max_length=20)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "name"], name="sandbox_field_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name}: {self.type}"


class SandboxFault(models.Model):
    """Faults injected into one emulated platform (tests, benchmarks, demos)."""

    platform = models.CharField(max_length=32, unique=True)
    error_rate = models.FloatField(
        default=0.0, help_text="Share of requests answered with error_status."
    )
    error_status = models.PositiveSmallIntegerField(
        default=503, help_text="The status of those answers: 503 an outage, 404 a wrong endpoint."
    )
    latency_ms = models.PositiveIntegerField(default=0)
    throttle_next = models.PositiveIntegerField(
        default=0, help_text="The next N requests are answered 429."
    )
    retry_after = models.PositiveIntegerField(default=1)
    throttle_rate = models.FloatField(
        default=0.0, help_text="Share of requests answered 429 (with retry_after)."
    )
    # Faults of the connection itself, each drawn for a share of requests.
    timeout_rate = models.FloatField(
        default=0.0, help_text="Share of requests held longer than the client waits."
    )
    timeout_seconds = models.FloatField(
        null=True,
        blank=True,
        help_text="How long a timed-out request is held; blank: PLATFORM_HTTP_TIMEOUT + 1 s.",
    )
    reset_rate = models.FloatField(
        default=0.0, help_text="Share of requests whose connection is closed without an answer."
    )
    truncate_rate = models.FloatField(
        default=0.0, help_text="Share of requests answered 200 with a JSON body cut short."
    )
    fault_phase = models.CharField(
        max_length=6,
        choices=[
            ("before", "before the request is processed (nothing stored)"),
            ("after", "after the request is processed (the records are stored)"),
            ("either", "either, half and half"),
        ],
        default="before",
        help_text="When a timeout, reset or truncation strikes.",
    )

    def __str__(self) -> str:
        return f"faults for {self.platform}"


class SandboxOAuthCode(models.Model):
    """An authorization code the sandbox's OAuth server handed out (single use)."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    code = models.CharField(max_length=100, unique=True)
    client_id = models.CharField(max_length=100)
    redirect_uri = models.CharField(max_length=500)
    code_challenge = models.CharField(max_length=200, blank=True)
    used = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"code for {self.platform}/{self.account}"


class SandboxOAuthToken(models.Model):
    """An access/refresh token pair; a rotated refresh token is revoked."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    access_token = models.CharField(max_length=100, unique=True)
    refresh_token = models.CharField(max_length=100, unique=True)
    access_expires_at = models.DateTimeField()
    refresh_revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"tokens for {self.platform}/{self.account}"


class SandboxSend(models.Model):
    """A campaign, broadcast trigger or single send an emulated platform holds.

    `sends` counts the times it went out: the console's send ledger keeps it at most 1.
    """

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    kind = models.CharField(max_length=20)  # campaign, trigger, …
    remote_id = models.CharField(max_length=64)
    name = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=20, default="save")
    body = models.JSONField(default=dict, help_text="What the create (or trigger) call sent.")
    content = models.JSONField(default=dict, blank=True)
    recipients = models.PositiveIntegerField(default=0)
    sends = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["platform", "account", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "kind", "remote_id"], name="sandbox_send_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account} {self.kind} {self.remote_id}: {self.status}"


class SandboxWebhook(models.Model):
    """A webhook an emulated platform account holds: where it posts, what, and its signing.

    `url` is as registered (its query may carry the console's token); `secret` is what the
    platform signs with (an HMAC key, or SendGrid's private key as PEM). `posted_through` is
    the last SandboxWebhookEvent it delivered: the next posting starts after it.
    """

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    remote_id = models.CharField(max_length=64)
    url = models.TextField()
    name = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="In the platform's names.")
    secret = models.TextField(blank=True)
    public_key = models.TextField(blank=True)
    signed = models.BooleanField(default=False)
    status = models.CharField(max_length=20, default="active")
    settings = models.JSONField(default=dict, blank=True, help_text="The rest of what was sent.")
    posted_through = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "account", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "remote_id"], name="sandbox_webhook_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account} webhook {self.remote_id}"


class SandboxWebhookEvent(models.Model):
    """Something that happened on an emulated platform, for its webhooks to report: a reader's
    engagement with a send (from the seeded engagement) or a change made in the emulator."""

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    key = models.CharField(max_length=200, help_text="What makes it one event (unique).")
    kind = models.CharField(max_length=30)  # the console's kinds: delivered, opened, …
    email = models.CharField(max_length=254, blank=True)
    contact_id = models.CharField(max_length=100, blank=True)
    send_id = models.CharField(max_length=64, blank=True)
    url = models.CharField(max_length=500, blank=True)
    # What a change changed, where the platform's webhooks say it (Drift's diff):
    # [{"name", "previous", "updated"}].
    changes = models.JSONField(default=list, blank=True)
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ["pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "key"], name="sandbox_webhook_event_unique"
            )
        ]
        indexes = [models.Index(fields=["platform", "account", "id"], name="sandbox_event_order")]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account} {self.kind} {self.email or self.contact_id}"


class SandboxWebhookDelivery(models.Model):
    """A request an emulator posted to a webhook, as sent (kept so a test can replay it)."""

    hook = models.ForeignKey(SandboxWebhook, on_delete=models.CASCADE, related_name="deliveries")
    url = models.TextField()
    body = models.BinaryField()
    content_type = models.CharField(max_length=100)
    headers = models.JSONField(default=dict)
    events_count = models.PositiveIntegerField(default=0)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    posted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.hook} delivery {self.pk}: {self.status_code}"


class SandboxEvent(models.Model):
    """A custom event an emulated platform took for a person (journeys trigger on them).

    `event_id` is the sender's id where it gave one: a second event with the same id is
    dropped, as the platform drops it (`duplicates` counts them on the first).
    """

    platform = models.CharField(max_length=32)
    account = models.CharField(max_length=100)
    event_id = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    identifier = models.CharField(max_length=254)
    data = models.JSONField(default=dict)
    duplicates = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["platform", "account", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "account", "event_id"], name="sandbox_event_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.platform}/{self.account} {self.name} for {self.identifier}"
