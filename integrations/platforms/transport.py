"""HTTP transport: one call within the shared rate limit, retried, metered."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable
from typing import Any

import orjson
import requests
from django.conf import settings
from tenacity import Retrying, retry_if_exception
from tenacity.stop import stop_base

from integrations import clock
from integrations.platforms.errors import (
    AuthError,
    ConfigurationError,
    PermissionDenied,
    PlatformError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.runtime import RateLimitWaitTooLong


class _StopPolicy(stop_base):
    """Stop after the configured attempts, or at once when told to wait longer than we will."""

    def __init__(self, max_attempts: int, max_retry_after: float):
        self.max_attempts = max_attempts
        self.max_retry_after = max_retry_after

    def __call__(self, retry_state) -> bool:
        exc = retry_state.outcome.exception()
        if isinstance(exc, PlatformError) and (exc.retry_after or 0) > self.max_retry_after:
            return True
        return retry_state.attempt_number >= self.max_attempts


class Transport:
    """The one way to call a platform: shared rate limit, retries, metering (a mixin)."""

    def request(
        self,
        method: str,
        surface: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        params: dict | None = None,
        rate: str | None = None,
        ok: Iterable[int] = (200,),
        region: str | None = None,
        max_wait: float | None = None,
        url: str | None = None,
        priority: bool = False,
        repeatable: bool = True,
    ) -> requests.Response:
        """Send one API call within the shared rate limit, retrying what is worth retrying.

        Returns the response when its status is in `ok`; raises a typed PlatformError otherwise.
        `url` is an absolute URL the platform handed back (a job's result file) to call instead
        of the surface's host + `path`; `path` is then only what metering and messages show.
        `priority` marks a send: it takes the next slot of a limit it shares with bulk syncs.
        `repeatable=False` (a create or a send) is retried only after a 429, which the
        platform did not act on, never after an unknown outcome (a timeout, a 5xx).
        """
        ok = tuple(ok)
        priority = priority or getattr(self, "sending", False)  # a send's every call
        rate_name = rate if rate in self.limits.rates else surface
        limit = self.limits.rates[rate_name]
        key = self.rate_key(rate_name)
        body = (
            content if content is not None else (orjson.dumps(json) if json is not None else None)
        )
        url = url or self.base_url(surface, region) + path

        def wait(retry_state) -> float:
            exc = retry_state.outcome.exception()
            delay = self._backoff(retry_state.attempt_number)
            if isinstance(exc, RateLimited):
                if exc.retry_after is None:  # no Retry-After: everyone backs off
                    self.runtime.pause(key, delay, limit)
                return 0.0  # the shared limiter holds this attempt until the pause ends
            return exc.retry_after if exc.retry_after is not None else delay

        retrying = Retrying(
            stop=_StopPolicy(settings.PLATFORM_MAX_ATTEMPTS, settings.PLATFORM_MAX_RETRY_AFTER),
            wait=wait,
            retry=retry_if_exception(
                lambda exc: (
                    isinstance(exc, PlatformError)
                    and exc.retryable
                    and (repeatable or isinstance(exc, RateLimited))
                )
            ),
            sleep=clock.sleep,
            reraise=True,
        )
        patience = settings.PLATFORM_MAX_RETRY_AFTER if max_wait is None else max_wait
        for attempt in retrying:
            with attempt:
                self._acquire(key, limit, patience, priority)
                try:
                    return self._send_with_fresh_token(method, surface, url, path, body, params, ok)
                except RateLimited as exc:
                    if exc.retry_after is not None:
                        # Every process sharing this limit holds off, however long the pause:
                        # those that will not wait that long give up at once (_acquire).
                        self.runtime.pause(key, exc.retry_after, limit)
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _send_with_fresh_token(self, method, surface, url, path, body, params, ok):
        """Send; an OAuth integration whose token was refused refreshes it once and resends."""
        try:
            return self._send_once(method, surface, url, path, body, params, ok)
        except AuthError:
            if not self.uses_oauth():
                raise
            self._oauth_token = self.tokens().refreshed(self._oauth_token)
            return self._send_once(method, surface, url, path, body, params, ok)

    def _acquire(self, key: str, limit, patience: float, priority: bool = False) -> None:
        """A slot under the shared limit, or RateLimited (not retried) if it is too far off."""
        try:
            self.runtime.acquire(key, limit, patience, priority=priority)
        except RateLimitWaitTooLong as exc:
            error = RateLimited(
                f"{self.label} asked us to wait {exc.wait:.0f} s before the next request; "
                f"not waiting that long (the limit is {patience:.0f} s).",
                code="rate_limited",
                retry_after=exc.wait,
            )
            error.retryable = False
            raise error from None

    def hold_off(self, rate_name: str, seconds: float) -> None:
        """Hold every worker sharing one of this client's rates off for `seconds` (a quota the
        platform reports spent, before it starts answering 429)."""
        self.runtime.pause(self.rate_key(rate_name), seconds, self.limits.rates[rate_name])

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter."""
        ceiling = min(
            settings.PLATFORM_BACKOFF_MAX, settings.PLATFORM_BACKOFF_BASE * 2 ** (attempt - 1)
        )
        return random.uniform(0, ceiling)

    def _send_once(self, method, surface, url, path, body, params, ok) -> requests.Response:
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        headers.update(self.headers_for(surface))  # a platform's own media type wins
        started = time.perf_counter()
        self.calls += 1
        try:
            response = self.session.request(
                method,
                url,
                data=body,
                params=params,
                headers=headers,
                auth=self.auth_for(surface),
                timeout=settings.PLATFORM_HTTP_TIMEOUT,
            )
        except requests.RequestException as exc:
            self._meter(surface, method, path, None, False, "transient", started, body, b"")
            reason = "timed out" if isinstance(exc, requests.Timeout) else "could not connect"
            raise TransientError(self.redact(f"{self.label}: {method} {path} {reason}.")) from None
        self._remember_authorization(response.request)
        success = response.status_code in ok
        error = None if success else self._error_for(response, method, path)
        if success and not _decodable(response):
            # Cut short on the way (a dropped proxy, a reset mid-body): the platform may or may
            # not have done it, so it is no success but an unknown outcome, retried.
            success = False
            error = TransientError(
                self.redact(f"{self.label}: {method} {path} answered a JSON body cut short."),
                status=response.status_code,
                code="undecodable_body",
            )
        self._meter(
            surface,
            method,
            path,
            response.status_code,
            success,
            error.kind if error else "",
            started,
            body,
            response.content,
        )
        if error:
            raise error
        return response

    def _meter(self, surface, method, path, status, success, kind, started, body, content) -> None:
        self.runtime.record_call(
            self.integration,
            surface=surface,
            method=method,
            path=path.split("?", 1)[0],
            status_code=status,
            ok=success,
            error_kind=kind,
            latency_ms=(time.perf_counter() - started) * 1000,
            bytes_sent=len(body or b""),
            bytes_received=len(content or b""),
        )

    def region_accepting_key(
        self, method: str, surface: str, path: str, *, forbidden_means_known=False, **kwargs
    ) -> str:
        """After a 401: another region (data centre, instance) whose host accepts these
        credentials, or "". A platform that answers a known key without the permission
        with 403 passes forbidden_means_known."""
        for other in self.regions:
            if other == self.region:
                continue
            try:
                self.request(method, surface, path, region=other, **kwargs)
            except PermissionDenied:
                if not forbidden_means_known:
                    continue
            except (AuthError, ConfigurationError, ValidationFailed):
                continue
            return other
        return ""

    def probe(
        self, call: Callable[[], requests.Response], *, unauthorized_means_no=False
    ) -> requests.Response | None:
        """The answer to a cheap probe call, or None when the key may not make it: a 403, and
        a 401 too for a platform that answers a known key without the permission that way."""
        refusals = (PermissionDenied, AuthError) if unauthorized_means_no else (PermissionDenied,)
        try:
            return call()
        except refusals:
            return None

    def permits(
        self, method: str, surface: str, path: str, *, unauthorized_means_no=False, **kwargs
    ) -> bool:
        """Whether this key may make a call (see probe)."""
        answer = self.probe(
            lambda: self.request(method, surface, path, **kwargs),
            unauthorized_means_no=unauthorized_means_no,
        )
        return answer is not None


def _decodable(response: requests.Response) -> bool:
    """Whether a body that says it is JSON decodes (an empty body has nothing to decode)."""
    if "json" not in response.headers.get("Content-Type", "") or not response.content.strip():
        return True
    try:
        orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return False
    return True
