"""Metering of every platform call, and the usage figures the console shows."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
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


def usage(integration: Integration, since: datetime | None = None) -> dict:
    """Calls, error rate and latency percentiles over the last 24 h (or since `since`)."""
    since = since or timezone.now() - timedelta(hours=24)
    calls = ApiCall.objects.filter(integration=integration, at__gte=since)
    agg = calls.aggregate(calls=Count("id"), errors=Count("id", filter=Q(ok=False)), last=Max("at"))
    latencies = sorted(calls.values_list("latency_ms", flat=True))
    return {
        "calls": agg["calls"],
        "errors": agg["errors"],
        "error_rate": (agg["errors"] / agg["calls"]) if agg["calls"] else 0.0,
        "median_ms": _percentile(latencies, 50),
        "p95_ms": _percentile(latencies, 95),
        "last_call_at": agg["last"],
        "last_success_at": integration.last_success_at,
    }


def _percentile(sorted_values: list[float], pct: float) -> float | None:
    if not sorted_values:
        return None
    # Nearest rank: the smallest value with at least pct % of the values at or below it.
    index = min(len(sorted_values) - 1, max(0, math.ceil(pct * len(sorted_values) / 100) - 1))
    return sorted_values[index]


def prune(older_than_days: int = 30) -> int:
    """Delete call records older than the retention period; return how many."""
    cutoff = timezone.now() - timedelta(days=older_than_days)
    deleted, _ = ApiCall.objects.filter(at__lt=cutoff).delete()
    return deleted
