"""A rate limiter shared by every process that talks to a platform.

Each limit is one row in the database the console already shares between the web server and
every q cluster worker (SQLite with IMMEDIATE transactions, or PostgreSQL with row locks), so
two workers syncing the same account together stay within the platform's limit. The row holds
GCRA's "theoretical arrival time": one number that encodes both the steady rate and a pause
such as a `Retry-After` that one worker was told, which every other worker then honours too.

Sends come before bulk work on a shared limit: a priority request that has to wait claims the
next free slot (`priority_until`), and bulk requests wait while a claim stands, so an approved
send waits at most about one interval behind a running sync, not behind its queue.
"""

from __future__ import annotations

from django.db import transaction

from integrations import clock
from integrations.models import RateLimitState
from integrations.platforms.runtime import RateLimitWaitTooLong  # noqa: F401 (raised here)
from integrations.platforms.types import Rate

# How long a priority claim outlives the slot it waits for: time for the waiting worker to wake
# and take it. A claim left by a worker that died lapses by itself.
CLAIM_GRACE_SECONDS = 0.25


def _reserve(key: str, rate: Rate, priority: bool = False) -> float:
    """Take a slot if one is free now; otherwise return how long to wait (nothing taken)."""
    with transaction.atomic():
        state, _ = RateLimitState.objects.select_for_update().get_or_create(key=key)
        now = clock.now()
        if not priority and state.priority_until > now:
            return min(state.priority_until - now, max(rate.interval, 0.01))
        tat = max(state.tat, now)
        allowed_at = tat - rate.tolerance
        if now < allowed_at:
            if priority:
                claim = allowed_at + rate.interval + CLAIM_GRACE_SECONDS
                if claim > state.priority_until:
                    state.priority_until = claim
                    state.save(update_fields=["priority_until"])
            return allowed_at - now
        state.tat = tat + rate.interval
        state.save(update_fields=["tat"])
        return 0.0


def acquire(
    key: str, rate: Rate, max_wait: float | None = None, *, priority: bool = False
) -> float:
    """Block until a request may be sent under `rate`; return the seconds waited.

    With `max_wait`, raise RateLimitWaitTooLong instead of waiting longer than that in all.
    `priority` (a send) goes before every bulk request waiting on the same key.
    """
    waited = 0.0
    while True:
        wait = _reserve(key, rate, priority)
        if wait <= 0:
            return waited
        if max_wait is not None and waited + wait > max_wait:
            raise RateLimitWaitTooLong(wait)
        clock.sleep(wait)
        waited += wait


def pause(key: str, seconds: float, rate: Rate) -> None:
    """Hold every process off `key` for `seconds` (a 429's Retry-After, or a backoff)."""
    with transaction.atomic():
        state, _ = RateLimitState.objects.select_for_update().get_or_create(key=key)
        resume_at = clock.now() + seconds
        state.tat = max(state.tat, resume_at + rate.tolerance)
        state.save(update_fields=["tat"])
