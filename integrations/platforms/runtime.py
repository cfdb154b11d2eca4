"""What a platform client needs from the console around it, handed in rather than imported.

The platform layer knows nothing of the database: the shared rate limiter, the call meter and
the stored OAuth tokens are the console's (integrations/runtime.py), installed once when the
app starts. A test or a script may hand a client another Runtime.
"""

from __future__ import annotations

from typing import Any, Protocol

from integrations.platforms.errors import ConfigurationError
from integrations.platforms.types import Rate


class RateLimitWaitTooLong(Exception):
    """The next slot is further away than the caller is willing to wait."""

    def __init__(self, wait: float):
        super().__init__(f"next request allowed in {wait:.1f}s")
        self.wait = wait


class TokenSource(Protocol):
    """An integration's OAuth tokens."""

    def connected(self) -> bool:
        """Whether there are tokens at all (the integration is connected with OAuth)."""

    def access_token(self) -> str:
        """The access token to send now, renewed first when it is about to expire."""

    def refreshed(self, refused_token: str | None) -> str:
        """A new access token after the platform refused `refused_token`."""


class Runtime(Protocol):
    """The console's services a client calls."""

    def acquire(
        self, key: str, rate: Rate, max_wait: float | None, *, priority: bool = False
    ) -> float:
        """Wait for a slot under `rate` shared by every process; RateLimitWaitTooLong if it
        is further off than `max_wait`. A `priority` request (a send) goes before bulk ones."""

    def pause(self, key: str, seconds: float, rate: Rate) -> None:
        """Hold every process off `key` for `seconds`."""

    def record_call(self, integration: Any, **call: Any) -> None:
        """Meter one API call (surface, method, path, status, latency, bytes …)."""

    def tokens_for(self, integration: Any, platform: type) -> TokenSource:
        """The integration's OAuth tokens (asked only of platforms that offer OAuth)."""


_installed: Runtime | None = None


def install(runtime: Runtime) -> None:
    """Make `runtime` the one clients use unless handed another (done by the app's ready())."""
    global _installed
    _installed = runtime


def current() -> Runtime:
    if _installed is None:
        raise ConfigurationError(
            "No platform runtime is installed (the integrations app is not ready)."
        )
    return _installed
