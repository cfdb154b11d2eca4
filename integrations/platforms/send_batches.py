"""Batched sends: a platform whose send call names its recipients (Keap's `emails:send` takes
contact ids) sends once per batch of them, each batch exactly once.

The platform declares `recipients_per_send` and lists the audience in `send_recipients(spec,
after)`: its ids in one fixed order (ascending), those after `after` only. The engine sends
them in batches of that size, and the ledger carries a `BatchProgress`:

- before a batch's call, `ledger.batch_sending(progress)` commits it with the batch in flight
  (its last recipient and its size) and counts the attempt;
- after the call, `ledger.batch_done(progress)` commits the batch as sent: `done_through`
  moves to its last recipient. A call the platform refused (a 4xx, a 429 past its waits) did
  not send: the batch is taken off the flight and the error raised, so a rerun sends it.

A rerun resumes after `done_through`, so no recipient is sent a batch twice, and recipients
who joined the audience meanwhile are reached if they come later in the order. A batch left in
flight (the worker stopped during its call, or the call's outcome is unknown) cannot be asked
about — the platform keeps no record the console can look up by its key — so it is never sent
again: the rerun counts it lost and goes on with the next batch. The send then ends
"unknown" for those recipients, and the console says how many.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

# The value a batched SEND step is planned with: the batch's recipients, one per line.
RECIPIENTS = "recipients"
PENDING_RECIPIENTS = "{recipients}"


def recipients_value(ids: Sequence[str]) -> str:
    return "\n".join(ids)


def recipients_in(values: Mapping[str, str]) -> list[str]:
    """The batch a SEND step is planned for (a placeholder in a dry run's plan)."""
    joined = values.get(RECIPIENTS)
    return joined.split("\n") if joined else [PENDING_RECIPIENTS]


def chunks(ids: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


@dataclass(frozen=True)
class BatchProgress:
    """How far a batched send got, as the ledger records it (and a rerun resumes from it).

    `done_through`: the last recipient of the last batch finished (sent, or lost);
    `in_flight`/`in_flight_count`: the batch whose call was attempted and not confirmed.
    """

    done_through: str = ""
    in_flight: str = ""
    in_flight_count: int = 0
    sent: int = 0  # recipients of the batches that went out
    batches: int = 0
    lost: int = 0  # recipients of batches whose outcome is unknown (never sent again)
    lost_batches: int = 0

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> BatchProgress:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def started(self) -> bool:
        return bool(self.batches or self.lost_batches or self.in_flight)

    def attempting(self, through: str, count: int) -> BatchProgress:
        return replace(self, in_flight=through, in_flight_count=count)

    def confirmed(self) -> BatchProgress:
        return replace(
            self,
            done_through=self.in_flight,
            in_flight="",
            in_flight_count=0,
            sent=self.sent + self.in_flight_count,
            batches=self.batches + 1,
        )

    def refused(self) -> BatchProgress:
        """The batch in flight was refused by the platform (nothing sent): off the flight."""
        return replace(self, in_flight="", in_flight_count=0)

    def given_up(self) -> BatchProgress:
        """The batch in flight, counted lost: its outcome is unknown and it is not repeated."""
        return replace(
            self,
            done_through=self.in_flight,
            in_flight="",
            in_flight_count=0,
            lost=self.lost + self.in_flight_count,
            lost_batches=self.lost_batches + 1,
        )

    def summary(self) -> str:
        text = f"{self.sent:,} recipients sent in {self.batches:,} batches"
        if self.lost_batches:
            text += (
                f"; {self.lost_batches:,} batches ({self.lost:,} recipients, through "
                f"{self.done_through}) were attempted with an unknown outcome and not repeated: "
                "check the platform"
            )
        return text


def send_in_batches(client, spec, ledger, remote_id: str, values: Mapping[str, str]):
    """Send `spec`'s remaining batches (the engine's SEND step of a batched platform)."""
    from integrations.platforms.errors import PlatformError, TransientError
    from integrations.platforms.send_types import SendResult, StepKind

    progress = spec.progress
    if progress.in_flight:
        progress = progress.given_up()
        ledger.batch_done(progress)
    ids = client.send_recipients(spec, progress.done_through)
    for batch in chunks(ids, client.recipients_per_send):
        progress = progress.attempting(batch[-1], len(batch))
        ledger.batch_sending(progress)
        planned = {**values, RECIPIENTS: recipients_value(batch)}
        steps = client.plan_send(spec, remote_id, planned)
        try:
            client.run_step(next(s for s in steps if s.kind == StepKind.SEND))
        except PlatformError as exc:
            if not isinstance(exc, TransientError):  # refused, so not sent: not in flight
                ledger.batch_done(progress.refused())
            raise
        progress = progress.confirmed()
        ledger.batch_done(progress)
    state = "sent" if not progress.lost_batches else "sent, some batches unknown"
    return SendResult(remote_id, remote_state=state, progress=progress)
