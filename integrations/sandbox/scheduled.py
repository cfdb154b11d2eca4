"""Sends an emulated platform holds for a later time, delivered when that time comes.

An emulator that schedules records its send with `hold(send, due)` (status "scheduled", the
UTC time in `content["due_at"]`) and, where it takes a schedule back, `release(send)`. Its
module defines `deliver_scheduled(send)`, which works out whom the send reaches at delivery
(as the platform does: a segment is read when the send goes, not when it was scheduled).
`deliver_due(now)` delivers every held send whose time has come: it runs before the sandbox's
webhooks are posted (the one-minute sandbox task and `manage.py sandbox_post_webhooks`), and
tests call it with the time they want. Each held send is delivered once: it is locked and its
status read again before it is delivered, and `sends` counts the delivery.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from integrations.sandbox.models import SandboxSend

DUE = "due_at"
SCHEDULED = "scheduled"


def hold(send: SandboxSend, due: datetime) -> None:
    """Mark `send` (not saved) as held for `due`."""
    send.status = SCHEDULED
    send.content = {**send.content, DUE: due.astimezone(UTC).isoformat()}


def release(send: SandboxSend, status: str = "draft") -> None:
    """Take the schedule back (not saved): it is never delivered."""
    send.status = status
    send.content = {k: v for k, v in send.content.items() if k != DUE}


def due_at(send: SandboxSend) -> datetime | None:
    value = send.content.get(DUE) if isinstance(send.content, dict) else None
    return datetime.fromisoformat(value) if value else None


def deliver_due(now: datetime | None = None) -> int:
    """Deliver the held sends whose time has come (by `now`); how many went out."""
    from integrations.sandbox.registry import emulators

    now = now or timezone.now()
    delivered = 0
    for pk in SandboxSend.objects.filter(status=SCHEDULED).values_list("pk", flat=True):
        with transaction.atomic():
            send = SandboxSend.objects.select_for_update().get(pk=pk)
            due = due_at(send)
            if send.status != SCHEDULED or due is None or due > now:
                continue
            deliver = getattr(emulators().get(send.platform), "deliver_scheduled", None)
            if deliver is None:
                continue
            deliver(send)
            send.status, send.sent_at = "sent", due
            send.sends += 1
            send.save()
            delivered += 1
    return delivered
