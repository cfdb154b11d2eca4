"""The value types of a send (the engine is integrations/platforms/sending.py, which also
exports them): the declared send methods, the spec of one send and its result, the remote
campaign's state, the steps of a send plan, and the ledger the engine tells what it does."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, Protocol

import orjson

from integrations.platforms.send_batches import BatchProgress
from integrations.platforms.types import PlannedRequest

# What a plan shows in place of an id the platform has not handed out yet.
PENDING_ID = "{remote_id}"
EMPTY: Mapping[str, str] = MappingProxyType({})
MAX_TEST_EMAILS = 10  # the fewest any platform with test sends takes (SendGrid's 10)


@dataclass(frozen=True)
class SendMethod:
    """One way a platform sends an assignment, offered in the target form.

    `trigger_only`: the content lives on the platform (a broadcast or campaign made there);
    the target names it (`remote_campaign_id`) and the assignment's fields are trigger data.
    """

    key: str
    label: str
    trigger_only: bool = False
    needs_segment: bool = True
    needs_reply_to: bool = False
    needs_from_name: bool = False
    can_schedule: bool = True
    # Why a method that cannot be scheduled cannot (its platform's API), said by the pre-flight.
    schedule_note: str = ""
    # An event to every reader of the segment (a journey trigger: integrations/platforms/
    # journeys.py), sent in batches the console resumes, instead of one campaign call.
    per_reader: bool = False
    # Whether the platform reports this method's sends' figures (Capability.CAMPAIGN_METRICS
    # declared for the platform, yet a journey or a Canvas may have none of its own to read).
    reports_metrics: bool = True
    # Whether those figures are the remote campaign's as a whole (every send of a Customer.io
    # broadcast together), not one send's: the console counts a send's own from its webhook
    # events where the platform posts them (campaigns/services/event_metrics.py).
    metrics_per_campaign: bool = False


@dataclass(frozen=True)
class NativeVersion:
    """One version of a native A/B test (a console variant, its blanks filled)."""

    label: str
    subject: str
    preview_text: str = ""
    from_name: str = ""
    html: str = ""
    plain_text: str = ""


@dataclass(frozen=True)
class NativeTest:
    """An A/B test the platform runs itself (Capability.NATIVE_AB_TEST): the versions, in the
    console's order, and the console's plan; the platform says what of it it can do
    (`native_test_problems`). `metric` is the console's (open_rate, click_rate, click_to_open)."""

    metric: str
    test_share: float
    wait_hours: int
    versions: tuple[NativeVersion, ...]
    holdout_share: float = 0.0


@dataclass(frozen=True)
class NativeCombination:
    """One tested combination as the platform reports it: `version` indexes the test's
    versions; the figures are its test send's (0 until reported)."""

    remote_id: str
    version: int
    recipients: int = 0
    sent: int = 0
    opened: int = 0
    clicked: int = 0


@dataclass(frozen=True)
class NativeTestResult:
    """A native test's state on the platform: its combinations, the one it chose (""
    until then), the campaign that took the winner to the rest ("" until it went), and the
    criterion it picks by (in the platform's words)."""

    status: str
    criterion: str
    combinations: tuple[NativeCombination, ...]
    winner_id: str = ""
    winner_campaign_id: str = ""

    @property
    def winner(self) -> NativeCombination | None:
        return next((c for c in self.combinations if c.remote_id == self.winner_id), None)


@dataclass(frozen=True)
class SendSpec:
    """One target's send, as the platform layer sees it (no database rows)."""

    idempotency_key: str
    method: str
    name: str
    subject: str = ""
    preview_text: str = ""
    html: str = ""
    plain_text: str = ""
    from_name: str = ""
    reply_to: str = ""
    segment_id: str = ""
    remote_campaign_id: str = ""
    send_at: datetime | None = None
    data: dict[str, Any] = field(default_factory=dict)
    # The remote object an earlier attempt created (a rerun resumes from it).
    remote_id: str = ""
    # An earlier attempt stopped during a create or send call: what it made is looked up.
    interrupted: bool = False
    # Where a platform that fetches the content (Campaign Monitor) reads it: the console's
    # signed URLs of this send's HTML and plain text ("" when there is no plain text).
    content_url: str = ""
    text_url: str = ""
    # A batched send's progress so far (send_batches.py): a rerun resumes after it.
    progress: BatchProgress = field(default_factory=BatchProgress)
    # An A/B test the platform runs itself in this one send (Capability.NATIVE_AB_TEST).
    native_test: NativeTest | None = None

    @property
    def content_bytes(self) -> int:
        return len(self.html.encode()) + len(self.plain_text.encode())

    @property
    def remote_name(self) -> str:
        """The campaign's internal name on the platform: finds it again after a crash."""
        return f"{self.name[:60]} [{self.idempotency_key}]"  # ≤ 100 characters

    def resuming(self, remote_id: str) -> SendSpec:
        return replace(self, remote_id=remote_id)

    def trigger_data(self) -> dict[str, Any]:
        """The assignment as a trigger's data, for content made on the platform to read
        (Liquid or Handlebars: `{{trigger.subject}}`, `{{subject}}` …)."""
        return {
            "sharpsend_send": self.idempotency_key,
            "title": self.name,
            "subject": self.subject,
            "preview_text": self.preview_text,
            "from_name": self.from_name,
            "html": self.html,
            "plain_text": self.plain_text,
            **self.data,
        }


@dataclass(frozen=True)
class SendResult:
    remote_id: str
    remote_send_id: str = ""
    remote_state: str = ""
    scheduled: bool = False
    already_sent: bool = False  # a rerun found the platform had sent it
    progress: BatchProgress | None = None  # a batched send's, as it ended


@dataclass(frozen=True)
class RemoteCampaign:
    """A campaign as the platform reports it; `gone_out`: sending, sent or scheduled."""

    remote_id: str
    state: str
    gone_out: bool


class StepKind(enum.StrEnum):
    CREATE = "create"
    CONTENT = "content"
    CHECK = "check"
    SEND = "send"


@dataclass(frozen=True)
class SendStep:
    """One call of a send. `provides` names a value its answer holds (`read_value`) that
    later steps are planned with (a message or template id), shown as {name} until then."""

    kind: StepKind
    request: PlannedRequest
    ok: tuple[int, ...] = (200,)
    provides: str = ""

    @property
    def repeatable(self) -> bool:
        """Whether repeating the call after an unknown outcome is harmless."""
        return self.kind not in (StepKind.CREATE, StepKind.SEND)

    def describe(self) -> str:
        r = self.request
        query = "?" + "&".join(f"{k}={v}" for k, v in r.params) if r.params else ""
        body = f"\n{r.content.decode()}" if r.content else ""
        return f"{self.kind}: {r.method} [{r.surface}] {r.path}{query}{body}"


class SendLedger(Protocol):
    def creating(self) -> None: ...

    def created(self, remote_id: str) -> None: ...

    def sending(self) -> None: ...

    def batch_sending(self, progress: BatchProgress) -> None: ...

    def batch_done(self, progress: BatchProgress) -> None: ...


class NoLedger:
    """For a send nobody records (a script); the console always hands its own."""

    def creating(self) -> None:
        pass

    def created(self, remote_id: str) -> None:
        pass

    def sending(self) -> None:
        pass

    def batch_sending(self, progress: BatchProgress) -> None:
        pass

    def batch_done(self, progress: BatchProgress) -> None:
        pass


def planned(
    method: str,
    surface: str,
    path: str,
    body: Any = None,
    *,
    params: dict[str, str] | None = None,
    rate: str | None = None,
) -> PlannedRequest:
    """A step's request: `body` as the JSON bytes the transport sends."""
    return PlannedRequest(
        method,
        surface,
        path,
        orjson.dumps(body) if body is not None else b"",
        params=tuple((params or {}).items()),
        rate=rate,
    )
