"""Sends an emulated platform holds for a later time, delivered when that time comes.

An emulator that schedules records its send with `hold(send, due, status)` (the UTC time in
`content["due_at"]`, which marks it held; the status as the platform shows it, "scheduled" by
default) and, where it takes a schedule back, `release(send, status)`. Its module defines
`deliver_scheduled(send)`, which works out whom the send reaches at delivery (as the platform
does: a segment is read when the send goes, not when it was scheduled) and may return the
status the platform shows for a sent one ("sent" otherwise).
`deliver_due(now)` delivers every held send whose time has come: it runs before the sandbox's
webhooks are posted (the one-minute sandbox task and `manage.py sandbox_post_webhooks`), and
tests call it with the time they want. Each held send is delivered once: it is locked and read
again before it is delivered, its time taken off (it is held no more), and `sends` counts it.
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import transaction
from django.utils import timezone

from integrations.sandbox.models import SandboxSend

DUE = "due_at"
SCHEDULED = "scheduled"


def hold(send: SandboxSend, due: datetime, status: str = SCHEDULED) -> None:
    """Mark `send` (not saved) as held for `due`, shown as `status`."""
    send.status = status
    send.content = {**send.content, DUE: due.astimezone(UTC).isoformat()}


def release(send: SandboxSend, status: str = "draft") -> None:
    """Take the schedule back (not saved): it is never delivered."""
    send.status = status
    send.content = _without_due(send.content)


def _without_due(content: dict) -> dict:
    return {k: v for k, v in content.items() if k != DUE}


def due_at(send: SandboxSend) -> datetime | None:
    value = send.content.get(DUE) if isinstance(send.content, dict) else None
    return datetime.fromisoformat(value) if value else None


def deliver_due(now: datetime | None = None) -> int:
    """Deliver the held sends whose time has come (by `now`); how many went out."""
    from integrations.sandbox.registry import emulators

    now = now or timezone.now()
    delivered = 0
    for pk in SandboxSend.objects.filter(content__has_key=DUE).values_list("pk", flat=True):
        with transaction.atomic():
            send = SandboxSend.objects.select_for_update().get(pk=pk)
            due = due_at(send)
            if due is None or due > now:
                continue
            deliver = getattr(emulators().get(send.platform), "deliver_scheduled", None)
            if deliver is None:
                continue
            shown = deliver(send)
            send.status, send.sent_at = shown or "sent", due
            send.content = _without_due(send.content)
            send.sends += 1
            send.save()
            delivered += 1
    return delivered
