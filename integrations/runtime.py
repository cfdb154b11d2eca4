"""The console's side of the platform runtime: the database-backed limiter, meter and tokens.

Installed when the app is ready (apps.py), so every client uses it unless handed another.
"""

from __future__ import annotations

from typing import Any

from integrations import metering, ratelimit
from integrations.platforms.runtime import TokenSource
from integrations.platforms.types import Rate


class ConsoleRuntime:
    """Rate limits and metering in the shared database; OAuth tokens from the integration."""

    def acquire(
        self, key: str, rate: Rate, max_wait: float | None, *, priority: bool = False
    ) -> float:
        return ratelimit.acquire(key, rate, max_wait=max_wait, priority=priority)

    def pause(self, key: str, seconds: float, rate: Rate) -> None:
        ratelimit.pause(key, seconds, rate)

    def record_call(self, integration: Any, **call: Any) -> None:
        metering.record_call(integration, **call)

    def tokens_for(self, integration: Any, platform: type) -> TokenSource:
        from integrations.services import oauth

        return integration.token_source or oauth.StoredTokens(integration)
