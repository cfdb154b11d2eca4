"""Metering of every platform call (the usage figures are read in `selectors.api_usage`)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from integrations.models import ApiCall, Integration


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
