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
  A trigger-only method (content on the platform, no campaign to ask about) cannot be
  asked, whatever else its platform can (`can_check_sent(method)`): the console marks such
  an attempt unknown instead of repeating it.
- A platform whose send call names its recipients sends once per batch of them, each batch
  recorded before and after its call (`ledger.batch_sending`, `ledger.batch_done`; see
  send_batches.py): a rerun resumes after the last batch done and never repeats one.

Create and send calls are never retried by the transport on an unknown outcome (a timeout,
a 5xx): only a 429, which the platform did not act on. `plan_send` is also the dry run.

The value types (SendMethod, SendSpec, SendStep, the ledger protocol …) are in send_types.py
and exported here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

import requests

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.send_batches import BatchProgress, send_in_batches
from integrations.platforms.send_types import (
    EMPTY,
    MAX_TEST_EMAILS,
    PENDING_ID,
    NativeCombination,
    NativeTest,
    NativeTestResult,
    NativeVersion,
    NoLedger,
    RemoteCampaign,
    SendLedger,
    SendMethod,
    SendResult,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)
from integrations.platforms.types import Capability

__all__ = [
    "EMPTY",
    "MAX_TEST_EMAILS",
    "PENDING_ID",
    "BatchProgress",
    "CampaignSending",
    "NativeCombination",
    "NativeTest",
    "NativeTestResult",
    "NativeVersion",
    "NoLedger",
    "RemoteCampaign",
    "SendLedger",
    "SendMethod",
    "SendResult",
    "SendSpec",
    "SendStep",
    "StepKind",
    "planned",
]


class CampaignSending:
    """The send engine and the hooks a platform fills in (a mixin of PlatformClient)."""

    send_methods: ClassVar[tuple[SendMethod, ...]] = ()
    sending = False  # set while send_campaign runs: its calls go with priority
    # The largest HTML + plain text the platform takes, in bytes (None: no documented limit).
    max_content_bytes: ClassVar[int | None] = None
    # > 0: the send call names its recipients and goes out once per this many of them
    # (`send_recipients`, send_batches.py); 0: one call reaches the whole audience.
    recipients_per_send: ClassVar[int] = 0
    # What the platform calls its own A/B test (NATIVE_AB_TEST), as the console names it.
    native_test_label: ClassVar[str] = "A/B test"

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

    def plan_test_draft(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        """The calls that make and fill a test's draft (TEST_SEND): by default the real send's
        own CREATE and CONTENT steps (the same code path). A platform whose test goes through
        another object (Iterable's template proof) plans its own, CHECK steps included where
        they provide a value; a SEND step is never run."""
        steps = self.plan_send(spec, remote_id, values)
        return [s for s in steps if s.kind in (StepKind.CREATE, StepKind.CONTENT)]

    def test_draft_id(self, remote_id: str, values: Mapping[str, str]) -> str:
        """The id of the draft the test goes through: the created object's by default, or a
        value a draft step provided (a template's id)."""
        return remote_id

    def plan_test_send(
        self, spec: SendSpec, remote_id: str, emails: Sequence[str]
    ) -> list[SendStep]:
        """The calls that send the filled draft `remote_id` to `emails` only (TEST_SEND)."""
        raise self.unsupported(Capability.TEST_SEND)

    # --- hooks of a platform that declares NATIVE_AB_TEST (its own A/B test in one send) -----

    def native_test_problems(self, test: NativeTest) -> list[str]:
        """Why the platform's own A/B test cannot run `test` ([] when it can): the console
        then splits and decides itself. `plan_send` builds the test's send from
        `spec.native_test`, so it goes through the ledger like any other."""
        raise self.unsupported(Capability.NATIVE_AB_TEST)

    def native_test_result(self, remote_id: str) -> NativeTestResult:
        """The native test's combinations, figures and choice, read from the platform."""
        raise self.unsupported(Capability.NATIVE_AB_TEST)

    def plan_discard(self, remote_id: str) -> list[SendStep]:
        """The calls that delete a test's draft afterwards ([]: the platform keeps it)."""
        return []

    @classmethod
    def test_send_problem(cls, method: str) -> str:
        """Why a target sent by `method` cannot be sent as a test ("" when it can): the
        platform has no test send, or the method's content is kept on the platform."""
        if not cls.supports(Capability.TEST_SEND):
            return cls.unsupported(Capability.TEST_SEND).message
        declared = cls.send_method(method)
        if declared is None:
            return f"{cls.label} has no send method '{method}'."
        if declared.trigger_only or declared.per_reader:
            return (
                f"{cls.label} cannot test send a {declared.label.lower()}: the console sends "
                f"no content of its own to test (send a test from {cls.label})."
            )
        return ""

    @classmethod
    def can_check_sent(cls, method: str = "") -> bool:
        """Whether a rerun can ask the platform if an attempted send (of `method`) went out.

        Never for a trigger-only method: a trigger leaves no campaign to ask about, even on a
        platform whose other methods make one.
        """
        declared = cls.send_method(method) if method else None
        if declared is not None and declared.trigger_only:
            return False
        return cls.remote_campaign is not CampaignSending.remote_campaign

    @classmethod
    def reads_metrics(cls, method: str = "") -> bool:
        """Whether the console can read the figures of a send of `method` (the platform
        reports metrics, and reports them for that method's sends)."""
        if not cls.supports(Capability.CAMPAIGN_METRICS):
            return False
        declared = cls.send_method(method) if method else None
        return declared is None or declared.reports_metrics

    @classmethod
    def can_resume_send(cls, method: str = "") -> bool:
        """Whether a rerun after an attempted send call (of `method`) may go on: it can ask the
        platform, or the send is batched (the batch in flight is given up, the others go out)."""
        return cls.can_check_sent(method) or cls.recipients_per_send > 0

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
            why = f" ({method.schedule_note})" if method.schedule_note else ""
            problems.append(
                f"A {self.label} {method.label.lower()} cannot be scheduled{why}: clear the "
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
        if method.per_reader:
            problems += self.journey_problems(spec)
        if spec.native_test is not None:
            if self.supports(Capability.NATIVE_AB_TEST):
                problems += self.native_test_problems(spec.native_test)
            else:
                problems.append(self.unsupported(Capability.NATIVE_AB_TEST).message)
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
                steps = self.plan_send(spec, remote_id or PENDING_ID, values)
        raise ValidationFailed(f"{self.label}: the send plan has no send step.")

    def send_test(self, spec: SendSpec, emails: Sequence[str]) -> str:
        """Send `spec` to `emails` only: a draft of its own is made and filled by the real
        send's own steps (`plan_test_draft`), sent as a test, then discarded. Returns the
        draft's id. Nothing goes to the segment: no SEND step is ever run."""
        if not self.supports(Capability.TEST_SEND):
            raise self.unsupported(Capability.TEST_SEND)
        if not 1 <= len(emails) <= MAX_TEST_EMAILS:
            raise ValidationFailed(f"A test goes to 1 to {MAX_TEST_EMAILS} addresses.")
        steps = self.plan_test_draft(spec)
        create = next((s for s in steps if s.kind == StepKind.CREATE), None)
        values: dict[str, str] = {}
        self.sending = True
        try:
            remote_id = self.read_created(self.run_step(create)) if create else PENDING_ID
            try:
                if create is not None:
                    steps = self.plan_test_draft(spec, remote_id)
                index = 0
                while index < len(steps):
                    step = steps[index]
                    index += 1
                    if step.kind in (StepKind.CREATE, StepKind.SEND):
                        continue
                    response = self.run_step(step)
                    if step.kind == StepKind.CHECK:
                        self.check_step(step, response)
                    if step.provides:
                        values[step.provides] = self.read_value(step, response)
                        steps = self.plan_test_draft(spec, remote_id, values)
                draft = self.test_draft_id(remote_id, values)
                for step in self.plan_test_send(spec, draft, emails):
                    self.run_step(step)
            finally:
                draft = self.test_draft_id(remote_id, values)
                if draft and draft != PENDING_ID:
                    for step in self.plan_discard(draft):
                        self.run_step(step)
        finally:
            self.sending = False
        return draft

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
