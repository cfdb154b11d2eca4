"""Sending an email through a platform: the declared send methods, the spec of one send, and
the one engine every platform's campaign sending runs on (a mixin of PlatformClient).

A platform that declares Capability.SEND_CAMPAIGN names its `send_methods` and builds its
requests in `plan_send(spec, remote_id)`, as a list of steps: at most one CREATE (whose
answer `read_created` turns into the remote id), CONTENT and CHECK steps, then one SEND.
`send_campaign` runs them, telling a ledger (the console's send ledger) what it is about to
do and what it has done, so that a rerun after a crash resumes instead of repeating:

- CREATE: `ledger.creating()` before the call, `ledger.created(remote_id)` right after. A
  rerun with a remote id skips it; one that stopped during a create or send call without a
  remote id (`spec.interrupted`) first looks the object up by its name (`find_campaign`),
  which carries the idempotency key — also where the send call itself creates the object
  (a Kit broadcast made with its send time).
- SEND: `ledger.sending()` before the call (the attempt is recorded). A rerun with a remote
  id asks the platform its state (`remote_campaign`) and does not send again if it went out.
  A trigger-only platform (content on the platform, no campaign to ask about) cannot be
  asked: the console marks such an attempt unknown instead of repeating it.
- A platform whose send call names its recipients sends once per batch of them, each batch
  recorded before and after its call (`ledger.batch_sending`, `ledger.batch_done`; see
  send_batches.py): a rerun resumes after the last batch done and never repeats one.

Create and send calls are never retried by the transport on an unknown outcome (a timeout,
a 5xx): only a 429, which the platform did not act on. `plan_send` is also the dry run.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType
from typing import Any, ClassVar, Protocol

import orjson
import requests

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.send_batches import BatchProgress, send_in_batches
from integrations.platforms.types import Capability, PlannedRequest

# What a plan shows in place of an id the platform has not handed out yet.
PENDING_ID = "{remote_id}"
EMPTY: Mapping[str, str] = MappingProxyType({})


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

    @property
    def content_bytes(self) -> int:
        return len(self.html.encode()) + len(self.plain_text.encode())

    @property
    def remote_name(self) -> str:
        """The campaign's internal name on the platform: finds it again after a crash."""
        return f"{self.name[:60]} [{self.idempotency_key}]"  # ≤ 100 characters

    def resuming(self, remote_id: str) -> SendSpec:
        return replace(self, remote_id=remote_id)


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


class CampaignSending:
    """The send engine and the hooks a platform fills in (a mixin of PlatformClient)."""

    send_methods: ClassVar[tuple[SendMethod, ...]] = ()
    sending = False  # set while send_campaign runs: its calls go with priority
    # The largest HTML + plain text the platform takes, in bytes (None: no documented limit).
    max_content_bytes: ClassVar[int | None] = None
    # > 0: the send call names its recipients and goes out once per this many of them
    # (`send_recipients`, send_batches.py); 0: one call reaches the whole audience.
    recipients_per_send: ClassVar[int] = 0

    @classmethod
    def send_method(cls, key: str) -> SendMethod | None:
        return next((m for m in cls.send_methods if m.key == key), None)

    # --- hooks of a platform that declares SEND_CAMPAIGN -------------------------------------

    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        """The requests `spec` becomes, in order; `remote_id` is the created object's id and
        `values` what earlier steps' answers provided (the same steps whatever they hold)."""
        raise self.unsupported(Capability.SEND_CAMPAIGN)

    def read_value(self, step: SendStep, response: requests.Response) -> str:
        """The value named by `step.provides` in its answer."""
        return self.read_created(response)

    def read_created(self, response: requests.Response) -> str:
        """The remote id in a CREATE step's answer."""
        return str(response.json()["id"])

    def read_sent(self, response: requests.Response) -> str:
        """The trigger, send job or created object's id in a SEND step's answer ("" when
        there is none)."""
        return ""

    def check_step(self, step: SendStep, response: requests.Response) -> None:
        """Raise ValidationFailed when a CHECK step's answer says the send cannot go."""

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        """The campaign's state on the platform; None when the platform keeps no campaign
        the console can ask about (trigger-only)."""
        return None

    def find_campaign(self, spec: SendSpec) -> str:
        """The id of a campaign an interrupted attempt created (by `spec.remote_name`)."""
        return ""

    def trigger_choices(self, method: str) -> list[tuple[str, str]]:
        """(remote id, name) of what a trigger-only `method` can trigger on the platform (its
        broadcasts, campaigns or journeys), offered in the target form; [] when not asked."""
        return []

    def remote_problems(self, spec: SendSpec) -> list[str]:
        """Problems only the platform knows (an unknown broadcast, a segment gone)."""
        return []

    def send_recipients(self, spec: SendSpec, after: str) -> list[str]:
        """A batched send's audience: its platform ids in ascending order, after `after`."""
        raise self.unsupported(Capability.SEND_CAMPAIGN)

    @classmethod
    def can_check_sent(cls) -> bool:
        """Whether a rerun can ask the platform if an attempted send went out."""
        return cls.remote_campaign is not CampaignSending.remote_campaign

    @classmethod
    def can_resume_send(cls) -> bool:
        """Whether a rerun after an attempted send call may go on: it can ask the platform,
        or the send is batched (the batch in flight is given up, the others go out)."""
        return cls.can_check_sent() or cls.recipients_per_send > 0

    # --- the engine ----------------------------------------------------------------------------

    def preflight(self, spec: SendSpec, can_write: bool | None = None) -> list[str]:
        """What stops `spec` from being sent, knowable before approval ([] when nothing).

        `can_write` is what the last connection test said of the key (False: read-only).
        """
        if not self.supports(Capability.SEND_CAMPAIGN):
            return [self.unsupported(Capability.SEND_CAMPAIGN).message]
        method = self.send_method(spec.method)
        if method is None:
            offered = ", ".join(m.key for m in self.send_methods)
            return [f"{self.label} has no send method '{spec.method}' (it offers {offered})."]
        problems = []
        if can_write is False:
            problems.append(f"The {self.label} key is read-only: it cannot send.")
        if method.needs_segment and not spec.segment_id:
            problems.append("No segment: choose one, or re-import segments if it is gone.")
        if method.trigger_only and not spec.remote_campaign_id:
            problems.append(f"Name the {self.label} {method.label.lower()} to trigger.")
        if not method.trigger_only:
            if not spec.subject.strip():
                problems.append("The subject is empty.")
            if not (spec.html.strip() or spec.plain_text.strip()):
                problems.append("There is no content (HTML or plain text).")
        if spec.send_at and not method.can_schedule:
            problems.append(
                f"A {self.label} {method.label.lower()} cannot be scheduled: clear the "
                "scheduled time (it is sent on approval)."
            )
        if method.needs_reply_to and not spec.reply_to:
            problems.append(f"{self.label} needs a reply-to address to send.")
        if method.needs_from_name and not spec.from_name:
            problems.append(f"{self.label} needs a sender name to send.")
        limit = self.max_content_bytes
        if limit and spec.content_bytes > limit:
            problems.append(
                f"The content is {spec.content_bytes:,} bytes; {self.label} takes at most "
                f"{limit:,}."
            )
        if not problems:
            problems += self.remote_problems(spec)
        return problems

    def send_campaign(self, spec: SendSpec, ledger: SendLedger | None = None) -> SendResult:
        """Create, fill and send (or schedule) `spec`, resuming from `spec.remote_id`.

        Every call it makes (lookups included) takes the shared limit's next slot before bulk
        work: the transport sends with priority while `sending` is set.
        """
        if not self.supports(Capability.SEND_CAMPAIGN):
            raise self.unsupported(Capability.SEND_CAMPAIGN)
        self.sending = True
        try:
            return self._send(spec, ledger or NoLedger())
        finally:
            self.sending = False

    def _send(self, spec: SendSpec, ledger: SendLedger) -> SendResult:
        remote_id = spec.remote_id
        if not remote_id and spec.interrupted:
            remote_id = self.find_campaign(spec)
            if remote_id:
                ledger.created(remote_id)
        if remote_id:
            campaign = self.remote_campaign(remote_id)
            if campaign is not None and campaign.gone_out:
                return SendResult(remote_id, remote_state=campaign.state, already_sent=True)
        steps = self.plan_send(spec, remote_id or PENDING_ID)
        create = next((s for s in steps if s.kind == StepKind.CREATE), None)
        if create is not None and not remote_id:
            ledger.creating()
            remote_id = self.read_created(self.run_step(create))
            ledger.created(remote_id)
            steps = self.plan_send(spec, remote_id)
        values: dict[str, str] = {}
        index = 0
        while index < len(steps):
            step = steps[index]
            index += 1
            if step.kind == StepKind.CREATE:
                continue
            if step.kind == StepKind.SEND and self.recipients_per_send:
                return send_in_batches(self, spec, ledger, remote_id, values)
            if step.kind == StepKind.SEND:
                ledger.sending()
                response = self.run_step(step)
                return SendResult(
                    remote_id or self.read_sent(response),
                    remote_send_id=self.read_sent(response),
                    remote_state="scheduled" if spec.send_at else "sent",
                    scheduled=spec.send_at is not None,
                )
            response = self.run_step(step)
            if step.kind == StepKind.CHECK:
                self.check_step(step, response)
            if step.provides:
                values[step.provides] = self.read_value(step, response)
                steps = self.plan_send(spec, remote_id, values)
        raise ValidationFailed(f"{self.label}: the send plan has no send step.")

    def run_step(self, step: SendStep) -> requests.Response:
        """One step's request, sent as planned, before any bulk work on the same limit."""
        r = step.request
        return self.request(
            r.method,
            r.surface,
            r.path,
            content=r.content or None,
            params=dict(r.params) or None,
            rate=r.rate,
            ok=step.ok,
            priority=True,
            repeatable=step.repeatable,
        )


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
