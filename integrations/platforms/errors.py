"""Typed errors raised by platform clients. Messages never contain credentials."""

from __future__ import annotations


class PlatformError(Exception):
    """A platform call failed. `code` is the platform's own error code when it gave one."""

    kind = "error"
    retryable = False

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str = "",
        retry_after: float | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
        self.retry_after = retry_after


class AuthError(PlatformError):
    """The credentials were refused (wrong key, wrong region, revoked token)."""

    kind = "auth"


class PermissionDenied(PlatformError):
    """The credentials are valid but may not do this (read-only or restricted key)."""

    kind = "permission"


class RateLimited(PlatformError):
    """The platform said 429 and kept saying it after our retries."""

    kind = "rate_limited"
    retryable = True


class ValidationFailed(PlatformError):
    """The platform refused the request's content (4xx other than auth and rate limits)."""

    kind = "validation"


class NotFound(ValidationFailed):
    kind = "not_found"


class TransientError(PlatformError):
    """A 5xx, a timeout or a broken connection that outlasted our retries."""

    kind = "transient"
    retryable = True


class UnsupportedCapability(PlatformError):
    """The platform (or its API) cannot do this; see the platform's declared capabilities."""

    kind = "unsupported"


class ConfigurationError(PlatformError):
    """The integration is set up in a way the client cannot use (missing credential, bad URL)."""

    kind = "configuration"
