"""A platform's declarations: what it is, where it lives, what it can do."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar
from urllib.parse import urlsplit

from integrations.platforms import rules, urlpolicy, webhook_events, webhooks
from integrations.platforms.errors import (
    PlatformError,
    UnsupportedCapability,
)
from integrations.platforms.metrics import MetricsRef, SendMetrics
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    ConnectionReport,
    ContactPage,
    ContactRecord,
    CredentialField,
    Limits,
    MemberPage,
    MembershipResult,
    OAuthSpec,
    PlannedRequest,
    PrivacyReceipt,
    PrivacyState,
    RecordResult,
    RemoteSegment,
    SegmentMember,
    TargetField,
    UpsertPlan,
)


class PlatformDeclarations:
    """What a platform is and can do, as class attributes and class methods (no I/O).

    A capability the platform does not declare raises UnsupportedCapability with its reason.
    """

    # Templates show platform classes (label, capabilities); they must not call them.
    do_not_call_in_templates = True

    slug: ClassVar[str]
    label: ClassVar[str]
    category: ClassVar[Category]
    summary: ClassVar[str] = ""
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    # Why a capability the console knows is missing here (shown by the admin and the wizard).
    unsupported_reasons: ClassVar[dict[Capability, str]] = {}
    # The credentials whose values the platform's rate limit is counted by (see rate_scope).
    rate_limited_by: ClassVar[tuple[str, ...]] = ()
    credential_fields: ClassVar[tuple[CredentialField, ...]] = ()
    regions: ClassVar[dict[str, str]] = {}
    # surface → region → base URL (scheme and host, maybe a path prefix)
    hosts: ClassVar[dict[str, dict[str, str]]] = {}
    limits: ClassVar[Limits]
    # What the platform checks of each contact it is sent (integrations/platforms/rules.py):
    # the forecast applies these, the emulator applies the same, and the rules marked `local`
    # are checked by the client before sending.
    contact_rules: ClassVar[tuple[rules.Rule, ...]] = rules.EMAIL_CONTACT_RULES
    # Target fields that can identify a contact, the first being the default.
    identifier_fields: ClassVar[tuple[str, ...]] = ("email",)
    # True when the platform creates an attribute on first write (any target name is valid).
    accepts_new_fields: ClassVar[bool] = False
    # True when the platform's bulk write can leave existing contacts untouched by itself.
    keeps_existing_natively: ClassVar[bool] = False
    # What a 429's X-RateLimit-Reset holds when there is no Retry-After: "epoch" (the Unix
    # time the window reopens), "seconds" (until it does), or None (not sent).
    rate_limit_reset: ClassVar[str | None] = None
    # How the platform authenticates: API keys (credential_fields), OAuth (oauth), or both.
    auth_methods: ClassVar[tuple[AuthMethod, ...]] = (AuthMethod.API_KEY,)
    oauth: ClassVar[OAuthSpec | None] = None
    # How a deletion ends: "sync" (gone when the call returns) or "async" (the platform
    # accepted it and erases later; where it gives a job id, privacy_job_status follows it).
    deletion_mode: ClassVar[str] = "sync"
    # What a deletion leaves behind on the platform, said with every deletion's receipt and on
    # the privacy capability page ("" when it erases the person).
    deletion_note: ClassVar[str] = ""
    # First mappings offered for a new integration: (source, target, transform, identifier).
    suggested_mappings: ClassVar[tuple[tuple[str, str, str, bool], ...]] = (
        ("email", "email", "", True),
    )
    # How the platform's webhook deliveries are authenticated (integrations/platforms/
    # webhooks.py); None where the console receives none from it.
    webhook_scheme: ClassVar[webhooks.WebhookScheme | None] = None
    # Pushing SharpSend segments (integrations/services/segment_push.py): the most members one
    # add or remove call takes, and the subscriber field that names a member on the platform.
    segment_batch_max: ClassVar[int] = 1000
    segment_member_identifier: ClassVar[str] = "email"

    # --- declarations ------------------------------------------------------------------------

    @classmethod
    def supports(cls, capability: Capability) -> bool:
        return capability in cls.capabilities

    @classmethod
    def default_region(cls) -> str:
        return next(iter(cls.regions), "")

    @classmethod
    def published_hosts(cls) -> set[str]:
        return {
            urlsplit(url).netloc for by_region in cls.hosts.values() for url in by_region.values()
        }

    @classmethod
    def accepts_host(cls, netloc: str) -> bool:
        """Whether `netloc` (host[:port], lower case) is one of the platform's own hosts."""
        return netloc in cls.published_hosts()

    @classmethod
    def describe_hosts(cls) -> str:
        """The platform's hosts, as an error message names them."""
        return ", ".join(sorted(cls.published_hosts()))

    @classmethod
    def check_base_url(cls, url: str) -> None:
        """Raise ConfigurationError unless `url` is allowed by the one URL policy."""
        urlpolicy.check_base_url(cls, url)

    # --- capabilities (override what the platform declares) ----------------------------------

    @classmethod
    def unsupported(cls, capability: Capability) -> UnsupportedCapability:
        """The error that says this platform cannot do `capability`, with the reason."""
        reason = cls.unsupported_reasons.get(capability, "the platform's API does not offer it")
        return UnsupportedCapability(f"{cls.label} cannot {capability.label.lower()}: {reason}.")

    def test_connection(self) -> ConnectionReport:
        raise self.unsupported(Capability.TEST_CONNECTION)

    def list_fields(self) -> list[TargetField]:
        raise self.unsupported(Capability.LIST_FIELDS)

    def upsert_contacts(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[RecordResult]:
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def plan_upsert(self, records: Sequence[ContactRecord], update_existing: bool) -> UpsertPlan:
        """The requests upsert_contacts sends for `records` (and those refused unsent).

        Platforms with UPSERT_CONTACTS build their requests here and nowhere else, so a
        preview or a dry run shows what the real write sends.
        """
        raise self.unsupported(Capability.UPSERT_CONTACTS)

    def build_upsert_requests(
        self, records: Sequence[ContactRecord], update_existing: bool
    ) -> list[PlannedRequest]:
        """The exact HTTP requests a batch of records becomes; nothing is written."""
        return self.plan_upsert(records, update_existing).requests

    def track_events(self, events: Sequence[dict]) -> list[RecordResult]:
        raise self.unsupported(Capability.TRACK_EVENTS)

    def list_segments(self) -> list[RemoteSegment]:
        raise self.unsupported(Capability.LIST_SEGMENTS)

    def segment_member_count(self, remote_id: str, max_wait: float | None = None) -> int | None:
        raise self.unsupported(Capability.LIST_SEGMENTS)

    def segment_members(self, remote_id: str, cursor: str | None) -> MemberPage:
        """One page of the segment's members from `cursor` (None: the first page).

        The cursor is whatever the platform pages by (an offset, its own token), kept by the
        console between pages so a refresh resumes where it stopped.
        """
        raise self.unsupported(Capability.LIST_SEGMENT_MEMBERS)

    def contacts_page(self, cursor: str | None) -> ContactPage:
        """One page of every contact the account holds, from `cursor` (None: the first page),
        with each one's consent state (a profile import, integrations/services/
        profile_import.py). The cursor is the platform's own paging token or offset, kept by
        the console between pages so an import resumes where it stopped; a page is at most
        the platform's largest page size, so memory stays flat."""
        raise self.unsupported(Capability.LIST_CONTACTS)

    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        """Create an empty static list/segment/tag named `name`; its id is the push's."""
        raise self.unsupported(Capability.CREATE_SEGMENT)

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        """Add up to `segment_batch_max` members; one result per member (accepted or why not).

        Adding someone already in is accepted (a push that resumes may send it again).
        """
        raise self.unsupported(Capability.ADD_TO_SEGMENT)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        """Remove members (membership only: never unsubscribes); removing a non-member is
        accepted."""
        raise self.unsupported(Capability.REMOVE_FROM_SEGMENT)

    # send_campaign and preflight: integrations/platforms/sending.py (the send engine).

    # trigger_journey: integrations/platforms/journeys.py (the journey engine).

    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        """The send's metrics now (integrations/platforms/metrics.py)."""
        raise self.unsupported(Capability.CAMPAIGN_METRICS)

    def campaign_metrics_of(self, refs: Sequence[MetricsRef]) -> list[SendMetrics | PlatformError]:
        """Several sends' metrics, in the order of `refs`, each its figures or the platform's
        error for it alone. One call a send by default; a platform whose report takes many
        sends in one call (Klaviyo's values reports, 225 a day) answers them together."""
        results: list[SendMetrics | PlatformError] = []
        for ref in refs:
            try:
                results.append(self.campaign_metrics(ref))
            except PlatformError as exc:
                results.append(exc)
        return results

    def delete_contact(self, identifier: str) -> None:
        raise self.unsupported(Capability.DELETE_CONTACT)

    def export_contact(self, identifier: str) -> dict:
        raise self.unsupported(Capability.EXPORT_CONTACT)

    def request_deletion(self, identifier: str) -> PrivacyReceipt:
        """Start erasing the person: done, or waiting on the platform's job (its id).

        The default calls delete_contact, which returns once the platform took the request;
        a platform whose deletion is a job it numbers overrides this and privacy_job_status.
        """
        self.delete_contact(identifier)
        if self.deletion_mode == "async":
            detail = f"{self.label} accepted the deletion and erases the data asynchronously."
        else:
            detail = f"{self.label} deleted the contact (or held none)."
        if self.deletion_note:
            detail += f" {self.deletion_note}."
        return PrivacyReceipt(PrivacyState.DONE, detail=detail)

    def suppress_contact(self, identifier: str, platform_id: str = "") -> PrivacyReceipt:
        """Stop the platform emailing the person, keeping their data (a "do not sell /
        suppress" request): the platform's own suppression, unsubscribe or do-not-track call.
        `platform_id` is the platform's id for the person where the console knows it (for
        APIs that address people by id); `identifier` is the email. Done once the platform
        took it; a person the platform does not hold is done too ("nothing held")."""
        raise self.unsupported(Capability.SUPPRESS_CONTACT)

    def privacy_job_status(self, job_id: str) -> PrivacyReceipt:
        """Where the platform's deletion job `job_id` stands (one call, no waiting)."""
        raise UnsupportedCapability(f"{self.label} gives no privacy job to follow.")

    def verify_webhook(
        self, request: webhooks.InboundRequest, now: float
    ) -> webhooks.WebhookScheme:
        """Check a delivery against the declared scheme, with this integration's secrets (one
        engine for every platform); raises WebhookRejected saying why."""
        if self.webhook_scheme is None:
            raise self.unsupported(Capability.WEBHOOKS)
        return webhooks.verify(self.webhook_scheme, request, self._secrets, now)

    def parse_webhook(
        self, body: bytes, content_type: str, received_at
    ) -> list[webhook_events.NormalisedEvent]:
        """A verified delivery's events, normalised (the platform's webhooks.py). Raises
        ValueError for a body the platform would not send."""
        raise self.unsupported(Capability.WEBHOOKS)

    @classmethod
    def webhook_delivery_id(cls, body: bytes) -> str:
        """The platform's id of a delivery, where its body has one (else "")."""
        return ""

    @classmethod
    def account_key_from_token(cls, token: dict) -> str:
        """The connected account's id in a token reply (platforms name it differently)."""
        return str(token.get("account_key") or "")
