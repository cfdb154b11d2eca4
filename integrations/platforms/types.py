"""Small value types exchanged between platform clients and the services."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass(frozen=True)
class Rate:
    """`count` requests per `per_seconds`, with bursts of up to `burst` back to back.

    The default burst of 1 spaces requests evenly, so no window of `per_seconds` ever holds
    more than `count` of them, whatever way the platform counts.
    """

    count: int
    per_seconds: float = 1.0
    burst: int = 1

    @property
    def interval(self) -> float:
        return self.per_seconds / self.count

    @property
    def tolerance(self) -> float:
        return self.interval * (self.burst - 1)


class Outcome(enum.StrEnum):
    """What happened to one record; the same set for every platform."""

    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    REJECTED_DATA = "rejected_data"
    REJECTED_COMPLIANCE = "rejected_compliance"
    REJECTED_AUTH = "rejected_auth"
    THROTTLED = "throttled"
    UNKNOWN = "unknown"

    @property
    def label(self) -> str:
        return _OUTCOME_LABELS[self]

    @property
    def accepted(self) -> bool:
        return self in (Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)

    @classmethod
    def choices(cls) -> list[tuple[str, str]]:
        """(value, label) pairs for a model field's choices."""
        return [(o.value, o.label) for o in cls]


_OUTCOME_LABELS = {
    Outcome.CREATED: "Created",
    Outcome.UPDATED: "Updated",
    Outcome.UNCHANGED: "Unchanged",
    Outcome.REJECTED_DATA: "Rejected (data)",
    Outcome.REJECTED_COMPLIANCE: "Rejected (compliance)",
    Outcome.REJECTED_AUTH: "Rejected (auth)",
    Outcome.THROTTLED: "Throttled",
    Outcome.UNKNOWN: "Unknown",
}
FAILED_OUTCOMES = [o for o in Outcome if not o.accepted]


class Capability(enum.StrEnum):
    TEST_CONNECTION = "test_connection"
    LIST_FIELDS = "list_fields"
    UPSERT_CONTACTS = "upsert_contacts"
    TRACK_EVENTS = "track_events"
    LIST_SEGMENTS = "list_segments"
    LIST_SEGMENT_MEMBERS = "list_segment_members"
    LIST_CONTACTS = "list_contacts"
    CREATE_SEGMENT = "create_segment"
    ADD_TO_SEGMENT = "add_to_segment"
    REMOVE_FROM_SEGMENT = "remove_from_segment"
    SEND_CAMPAIGN = "send_campaign"
    TEST_SEND = "test_send"
    TRIGGER_JOURNEY = "trigger_journey"
    CAMPAIGN_METRICS = "campaign_metrics"
    DELETE_CONTACT = "delete_contact"
    EXPORT_CONTACT = "export_contact"
    # "Do not sell / suppress": stop sending to the person on the platform, keeping their data.
    SUPPRESS_CONTACT = "suppress_contact"
    WEBHOOKS = "webhooks"
    # Creating the console's webhook on the platform through its API (else the steps are shown).
    REGISTER_WEBHOOKS = "register_webhooks"
    # An A/B test the platform runs itself (one campaign, its own split and winner pick).
    NATIVE_AB_TEST = "native_ab_test"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


class Category(enum.StrEnum):
    EMAIL = "email"
    CROSS_CHANNEL = "cross-channel"
    CRM = "CRM"
    CONVERSATIONS = "conversations"


class TimestampFormat(enum.StrEnum):
    UNIX_SECONDS = "unix_seconds"
    UNIX_MILLISECONDS = "unix_milliseconds"
    ISO8601 = "iso8601"
    SPACE_SEPARATED_UTC = "yyyy-MM-dd HH:mm:ss"


@dataclass(frozen=True)
class CredentialField:
    """One credential the platform needs; the admin and the wizard build their forms from it."""

    key: str
    label: str
    help_text: str
    secret: bool = True
    required: bool = True


class AuthMethod(enum.StrEnum):
    API_KEY = "api_key"
    OAUTH = "oauth"


@dataclass(frozen=True)
class OAuthSpec:
    """How a platform runs OAuth 2.0 (authorization-code grant) for third-party apps.

    `client_auth` is where the app's id and secret go at the token endpoint for the code
    exchange ("body" or "basic"); `refresh_client_auth` for refreshes when it differs.
    """

    authorize_url: str
    token_url: str
    client_auth: str = "body"
    refresh_client_auth: str | None = None
    pkce: bool = False
    scope: str = ""
    rotates_refresh_token: bool = True
    extra_authorize_params: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Limits:
    """What one platform allows: batch sizes and rates per API surface or endpoint."""

    batch_max_records: int
    batch_max_bytes: int
    record_max_bytes: int
    rates: dict[str, Rate]
    timestamp_format: TimestampFormat


@dataclass(frozen=True)
class ConnectionReport:
    """The answer of test_connection. `permissions` maps capability → allowed (None: unknown)."""

    ok: bool
    can_write: bool | None
    account: str = ""
    region: str = ""
    detail: str = ""
    permissions: dict[str, bool | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "can_write": self.can_write,
            "account": self.account,
            "region": self.region,
            "detail": self.detail,
            "permissions": dict(self.permissions),
        }

    @classmethod
    def refused(cls, detail: str, **known: Any) -> ConnectionReport:
        """The platform did not take these credentials or settings: why, and what to do."""
        return cls(ok=False, can_write=None, detail=detail, **known)

    @classmethod
    def writable(cls, **known: Any) -> ConnectionReport:
        """Connected with a key that may write contacts."""
        return cls(ok=True, can_write=True, **known)


@dataclass(frozen=True)
class TargetField:
    key: str
    label: str
    type: str = "string"
    required: bool = False


@dataclass
class ContactRecord:
    """One subscriber, mapped: `key` is our subscriber id, `fields` are target → value."""

    key: int
    identifier_field: str
    identifier: str
    fields: dict[str, Any]


@dataclass(frozen=True)
class PlannedRequest:
    """One HTTP request that writing contacts becomes, exactly as the client sends it.

    `group` pairs each record the request carries with its encoded entry; `content` is the
    body, byte for byte. `note` says when the request is the one sent for a new contact
    (platforms that look a contact up first may send another for an existing one).
    """

    method: str
    surface: str
    path: str
    content: bytes
    group: tuple[tuple[ContactRecord, bytes], ...] = ()
    params: tuple[tuple[str, str], ...] = ()
    rate: str | None = None
    note: str = ""

    @property
    def records(self) -> list[ContactRecord]:
        return [record for record, _ in self.group]

    @property
    def body(self) -> Any:
        return orjson.loads(self.content) if self.content else None


@dataclass
class UpsertPlan:
    """What upsert_contacts will do: the requests to send, and records refused unsent."""

    requests: list[PlannedRequest] = field(default_factory=list)
    rejected: list[RecordResult] = field(default_factory=list)


class Written(enum.StrEnum):
    """The platform accepted the record without saying whether it was new."""

    WRITTEN = "written"


@dataclass
class RecordResult:
    """What the platform did with one record. `outcome` is an Outcome or Written.WRITTEN."""

    key: int
    outcome: Any
    code: str = ""
    message: str = ""
    hint: str = ""
    whole_request: bool = False  # the request failed as a whole, not this record alone


@dataclass(frozen=True)
class MemberPage:
    """One page of a platform segment's members, and where the next page starts (None: last).

    Each member is (email, platform id); either may be blank where the platform gives only one.
    """

    members: list[tuple[str, str]]
    next_cursor: str | None


@dataclass(frozen=True)
class RemoteProfile:
    """One contact as the platform holds it, for a profile import.

    `fields` are the profile's values keyed by the names the platform's field mappings target
    (the keys `list_fields` offers), `status` a SharpSend subscriber status ("subscribed",
    "unsubscribed", "bounced", "cleaned", "complained") read from the platform's own state, or
    "" where the platform records no consent either way. `email` is as the platform has it
    (it may be blank or invalid: the import reports such a profile).
    """

    email: str
    platform_id: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    status: str = ""


@dataclass(frozen=True)
class ContactPage:
    """One page of the platform's contacts, and where the next page starts (None: last)."""

    profiles: list[RemoteProfile]
    next_cursor: str | None


@dataclass(frozen=True)
class RemoteSegment:
    remote_id: str
    name: str
    kind: str = ""
    member_count: int | None = None


@dataclass(frozen=True)
class SegmentMember:
    """One reader pushed into (or out of) a static list/segment/tag on a platform.

    `key` is the console's own key for the member (echoed in each result), `identifier` the
    value of the platform's member identifier (`segment_member_identifier`, email by default)
    and `remote_key` the platform's own id for the member once known (a Klaviyo profile id),
    kept from the add so a remove needs no look-up.
    """

    key: int
    identifier: str
    remote_key: str = ""


@dataclass
class MembershipResult(RecordResult):
    """What the platform did with one membership change; `remote_key` as SegmentMember's."""

    remote_key: str = ""


class PrivacyState(enum.StrEnum):
    DONE = "done"
    WAITING = "waiting"  # the platform took it as a job; ask privacy_job_status(job_id) later
    FAILED = "failed"


@dataclass(frozen=True)
class PrivacyReceipt:
    """What a platform answered to a deletion: done, or a job to poll, with its id."""

    state: PrivacyState
    job_id: str = ""
    detail: str = ""
