"""The sandbox's django-q2 task: its emulators post their pending webhooks (one-minute schedule
while the sandbox is on; integrations/services/schedules.py)."""

from __future__ import annotations

from django.conf import settings


def post_webhooks() -> str:
    if not settings.SANDBOX_ENABLED:
        return "skipped: the sandbox is off"
    from integrations.sandbox import outbound

    return outbound.post_pending().summary()
