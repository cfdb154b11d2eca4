"""Metering of every platform call (the usage figures are read in `selectors.api_usage`)."""

from __future__ import annotations

from contextlib import ContextDecorator
from contextvars import ContextVar
from datetime import timedelta

from django.utils import timezone

from integrations.models import ApiCall, ApiFeature, Integration

_current_feature: ContextVar[str] = ContextVar("metered_feature", default=ApiFeature.OTHER)


class feature(ContextDecorator):  # noqa: N801 (used as a decorator and a `with`)
    """Calls made inside are counted for `name` (sync, segments, sends …), as a decorator on a
    service's entry point or a `with` block; the innermost one counts."""

    def __init__(self, name: ApiFeature):
        self.name = ApiFeature(name)
        self._tokens: list = []

    def _recreate_cm(self):
        # A fresh instance per decorated call: the same function may run in several threads.
        return type(self)(self.name)

    def __enter__(self):
        self._tokens.append(_current_feature.set(self.name))
        return self

    def __exit__(self, *exc) -> None:
        _current_feature.reset(self._tokens.pop())


def current_feature() -> str:
    return _current_feature.get()


def record_call(
    integration: Integration,
    *,
    surface: str,
    method: str,
    path: str,
    status_code: int | None,
    ok: bool,
    error_kind: str,
    latency_ms: float,
    bytes_sent: int,
    bytes_received: int,
) -> None:
    """Store one call. The path never carries a query string (keys travel in some).

    Calls for an integration not saved yet (the setup wizard's connection test) are not kept.
    """
    if integration.pk is None:
        return
    ApiCall.objects.create(
        integration=integration,
        surface=surface,
        feature=current_feature(),
        method=method,
        path=path[:300],
        status_code=status_code,
        ok=ok,
        error_kind=error_kind,
        latency_ms=latency_ms,
        bytes_sent=bytes_sent,
        bytes_received=bytes_received,
        at=timezone.now(),
    )


def prune(older_than_days: int = 30) -> int:
    """Delete call records older than the retention period; return how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = ApiCall.objects.filter(at__lt=cutoff).delete()
    return deleted
