"""Errors: a failed response as a typed error with a short message, and redaction."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, quote_plus

import requests

from integrations import clock
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    NotFound,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    RecordResult,
)

REDACTED = "[redacted]"


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - clock.now())


class Failures:
    """What a failed response means, and secrets kept out of every message (a mixin)."""

    def _error_for(self, response: requests.Response, method: str, path: str) -> PlatformError:
        status = response.status_code
        code, detail = self.describe_error(response)
        message = self.redact(
            f"{self.label} answered {status} to {method} {path}"
            + (f": {detail}" if detail else ".")
        )
        kwargs = {
            "status": status,
            "code": code or str(status),
            "retry_after": self.retry_after_for(response),
        }
        return self.error_class_for(status, code)(message, **kwargs)

    def retry_after_for(self, response: requests.Response) -> float | None:
        """Seconds the platform asks us to wait: Retry-After, or on a 429 the platform's
        X-RateLimit-Reset as it declares it (rate_limit_reset)."""
        retry_after = parse_retry_after(response.headers.get("Retry-After"))
        reset = response.headers.get("X-RateLimit-Reset")
        if retry_after is not None or response.status_code != 429 or not reset:
            return retry_after
        try:
            value = float(reset)
        except ValueError:
            return None
        if self.rate_limit_reset == "epoch":
            return max(1.0, value - clock.now())
        if self.rate_limit_reset == "seconds":
            return max(1.0, value)
        return None

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        """Which typed error a failed response is (platforms with quirks override)."""
        if status == 401:
            return AuthError
        if status == 403:
            return PermissionDenied
        if status == 404:
            return NotFound
        if status == 429:
            return RateLimited
        if status == 408 or status >= 500:
            return TransientError
        return ValidationFailed

    def describe_error(self, response: requests.Response) -> tuple[str, str]:
        """(the platform's error code, a short message) from an error response.

        The body is decoded here once; a platform reads its own error shape in error_detail.
        """
        try:
            data = response.json()
        except ValueError:
            return "", response.text[:200].strip()
        code, message = self.error_detail(data) or generic_error_detail(data)
        return code, message[:300]

    def error_detail(self, data: Any) -> tuple[str, str] | None:
        """A platform's (code, message) from its decoded error body; None: not its shape."""
        return None

    def redact(self, text: str) -> str:
        """Replace every secret that appears in `text`, in any form it travels in.

        The forms: the credential values and the OAuth token as they are, URL-encoded and in
        base64, and the exact Authorization values this client has sent (a Basic header is
        base64 of `user:key`, which no single credential matches).
        """
        for value in self._secret_forms():
            if value in text:
                text = text.replace(value, REDACTED)
            # A platform message cut short may end in the first characters of a secret.
            for end in range(len(value) - 1, 3, -1):
                if text.endswith(value[:end]):
                    text = text[:-end] + REDACTED
                    break
        return text

    def _secret_forms(self) -> list[str]:
        # Built once per set of secrets: a sync redacts every record message it stores.
        token = self._oauth_token or ""
        key = (token, len(self._sent_authorizations))
        cached = getattr(self, "_forms_cache", None)
        if cached is not None and cached[0] == key:
            return cached[1]
        secret_keys = {f.key for f in self.credential_fields if f.secret}
        values = [*(str(v) for k, v in self._secrets.items() if k in secret_keys), token]
        forms = set(self._sent_authorizations)
        for value in values:
            if len(value) >= 4:
                forms |= {
                    value,
                    quote(value, safe=""),
                    quote_plus(value),
                    base64.b64encode(value.encode()).decode(),
                }
        # The longest first, so that a form containing another is replaced whole.
        ordered = sorted((f for f in forms if len(f) >= 4), key=len, reverse=True)
        self._forms_cache = (key, ordered)
        return ordered

    def _remember_authorization(self, request: requests.PreparedRequest | None) -> None:
        header = (request.headers.get("Authorization", "") if request is not None else "") or ""
        credentials = header.split(" ", 1)[-1].strip()
        if credentials:
            self._sent_authorizations.add(credentials)


def generic_error_detail(data: Any) -> tuple[str, str]:
    """(code, message) from the error shapes most APIs share: code/message/error keys."""
    if isinstance(data, dict):
        code = str(data.get("code") or data.get("error_code") or "")
        message = data.get("message") or data.get("msg") or data.get("error") or ""
        if isinstance(message, dict):
            message = message.get("message") or str(message)
        return code, str(message)
    return "", str(data)[:200]


def failed_results(records: Sequence[ContactRecord], exc: PlatformError) -> list[RecordResult]:
    """The outcome of records whose whole request failed with `exc`."""
    if isinstance(exc, (AuthError, PermissionDenied)):
        outcome, hint = (
            Outcome.REJECTED_AUTH,
            "The platform refused the credentials: run Test connection.",
        )
    elif isinstance(exc, RateLimited):
        outcome, hint = (
            Outcome.THROTTLED,
            "Rate limited by the platform; sent again on the next run.",
        )
    elif isinstance(exc, TransientError):
        outcome, hint = (
            Outcome.UNKNOWN,
            "The platform did not answer properly; sent again on the next run.",
        )
    elif isinstance(exc, ConfigurationError):
        outcome, hint = Outcome.REJECTED_AUTH, "Fix the integration's settings."
    elif isinstance(exc, ValidationFailed):
        outcome, hint = Outcome.REJECTED_DATA, "The platform refused the batch; see the message."
    else:
        outcome, hint = Outcome.UNKNOWN, "Unexpected platform answer; sent again on the next run."
    return [
        RecordResult(
            r.key,
            outcome,
            code=exc.code or exc.kind,
            message=exc.message,
            hint=hint,
            whole_request=True,
        )
        for r in records
    ]
