"""The sandbox's django-q2 task: its emulators deliver their scheduled sends that are due
(integrations/sandbox/scheduled.py) and post their pending webhooks (one-minute schedule
while the sandbox is on; integrations/services/schedules.py)."""

from __future__ import annotations

from django.conf import settings


def post_webhooks() -> str:
    if not settings.SANDBOX_ENABLED:
        return "skipped: the sandbox is off"
    from integrations.sandbox import outbound, scheduled

    delivered = scheduled.deliver_due()  # first: their engagement is posted with the rest
    summary = outbound.post_pending().summary()
    return f"{delivered} scheduled sends delivered; {summary}" if delivered else summary
