"""Helpers the end-to-end send tests share: approved assignments, what the emulators recorded,
and a worker that dies at a chosen point."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from django.utils import timezone

from campaigns.services import sending, workflow
from integrations import clock
from integrations.platforms.sending import CampaignSending
from integrations.sandbox import scheduled
from integrations.sandbox.models import SandboxSend

# A send "now" some platforms schedule a little ahead (Kit: two minutes, SEND_NOW_LEAD): the
# emulator holds it until then, so the tests let that much time pass before they count.
SOON = timedelta(minutes=5)


class Crash(BaseException):
    """The worker dies here (not an error any code handles)."""


def approved(make_assignment, *targets, author, approver, **fields):
    """An assignment to the targets, submitted and approved (its send not queued)."""
    assignment = make_assignment(*targets, **fields)
    workflow.submit(assignment, author)
    return workflow.approve(assignment, approver, queue_send=False)


def deliver_soon() -> int:
    """Deliver what the emulators hold for the next few minutes (a send "now" held a little),
    by the later of the clients' clock (the tests' fake one) and the emulators'."""
    clients = datetime.fromtimestamp(clock.now(), UTC)
    return scheduled.deliver_due(max(clients, timezone.now()) + SOON)


def recorded(slug: str, kind: str) -> list[SandboxSend]:
    """What the platform's emulator recorded of that kind, once what it holds for the next few
    minutes has gone out."""
    deliver_soon()
    return list(SandboxSend.objects.filter(platform=slug, kind=kind))


@contextmanager
def crash_after(monkeypatch, owner, attribute: str, *, only=None, times: int = 1):
    """While open, `owner.attribute` raises Crash after answering its `times`-th call and
    each one after (counting only the calls whose arguments `only` accepts, if given)."""
    original, seen = getattr(owner, attribute), []

    def crashing(self, *args, **kwargs):
        answer = original(self, *args, **kwargs)
        if only is None or only(*args, **kwargs):
            seen.append(args)
            if len(seen) >= times:
                raise Crash
        return answer

    monkeypatch.setattr(owner, attribute, crashing)
    try:
        yield
    finally:
        monkeypatch.setattr(owner, attribute, original)


def crash_at(monkeypatch, place: str, name: str, *, times: int = 1):
    """crash_after the ledger's `name` entry is committed (place "ledger"), or after a step of
    kind `name` was answered, before anything about it is recorded (place "call")."""
    if place == "ledger":
        return crash_after(monkeypatch, sending.Ledger, name, times=times)
    assert place == "call", place
    return crash_after(
        monkeypatch, CampaignSending, "run_step", only=lambda step: step.kind == name, times=times
    )
