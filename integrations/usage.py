"""API usage over time and the integrations' health, for the console home.

Each function is one grouped query over the window, whatever the number of calls: the charts
get hourly buckets per integration and totals per feature, never rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Count, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from integrations import selectors
from integrations.models import (
    ApiCall,
    ApiFeature,
    Integration,
    IntegrationStatus,
    SyncRun,
    SyncStatus,
)

WINDOW = timedelta(hours=24)
# Above this share of failed calls in the window an integration needs a look.
ERROR_RATE_WARNING = 0.2


def hours_of(since: datetime, until: datetime) -> list[datetime]:
    """The hour starts (in the current time zone) from `since`'s hour to `until`'s."""
    start = timezone.localtime(since).replace(minute=0, second=0, microsecond=0)
    end = timezone.localtime(until)
    hours = []
    while start <= end:
        hours.append(start)
        start += timedelta(hours=1)
    return hours


def hourly_usage(since: datetime | None = None, until: datetime | None = None) -> dict:
    """Calls, error rate and mean latency per integration and hour, zero-filled, for charts."""
    until = until or timezone.now()
    since = since or until - WINDOW
    hours = hours_of(since, until)
    index = {hour: i for i, hour in enumerate(hours)}
    rows = (
        ApiCall.objects.filter(at__gte=since, at__lte=until)
        .annotate(hour=TruncHour("at"))
        .values("integration_id", "hour")
        .annotate(calls=Count("id"), errors=Count("id", filter=Q(ok=False)), ms=Avg("latency_ms"))
        .order_by()
    )
    names = dict(Integration.objects.values_list("id", "name"))
    series: dict[int, dict] = {}
    for row in rows:
        s = series.setdefault(
            row["integration_id"],
            {
                "name": names.get(row["integration_id"], "?"),
                "calls": [0] * len(hours),
                "errors": [0] * len(hours),
                "latency_ms": [None] * len(hours),
            },
        )
        i = index[timezone.localtime(row["hour"])]
        s["calls"][i] = row["calls"]
        s["errors"][i] = row["errors"]
        s["latency_ms"][i] = round(row["ms"], 1)
    for s in series.values():
        s["error_rate"] = [
            round(e / c, 4) if c else None for e, c in zip(s["errors"], s["calls"], strict=True)
        ]
    return {
        "hours": [hour.strftime("%H:%M") for hour in hours],
        "integrations": sorted(series.values(), key=lambda s: s["name"]),
    }


def usage_by_feature(since: datetime | None = None) -> list[dict]:
    """Calls and errors per feature (sync, segments, sends …) in the window, busiest first."""
    since = since or timezone.now() - WINDOW
    rows = (
        ApiCall.objects.filter(at__gte=since)
        .values("feature")
        .annotate(calls=Count("id"), errors=Count("id", filter=Q(ok=False)), ms=Avg("latency_ms"))
        .order_by("-calls", "feature")
    )
    labels = dict(ApiFeature.choices)
    return [
        {
            "feature": row["feature"],
            "label": labels.get(row["feature"], row["feature"]),
            "calls": row["calls"],
            "errors": row["errors"],
            "error_rate": row["errors"] / row["calls"],
            "latency_ms": row["ms"],
        }
        for row in rows
    ]


@dataclass(frozen=True)
class Health:
    """One integration as the console home shows it."""

    integration: Integration
    calls: int
    errors: int
    latency_ms: float | None
    problems: tuple[str, ...]

    @property
    def error_rate(self) -> float:
        return self.errors / self.calls if self.calls else 0.0

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def last_sync_label(self) -> str:
        status = self.integration.last_sync_status
        return SyncStatus(status).label if status else ""


def health(integrations: QuerySet[Integration] | None = None) -> list[Health]:
    """Every integration with its last run, token and 24 h usage, and what needs a look."""
    since = timezone.now() - WINDOW
    integrations = selectors.with_last_sync(
        integrations if integrations is not None else Integration.objects.all()
    ).annotate(
        calls_24h=Count("api_calls", filter=Q(api_calls__at__gte=since)),
        errors_24h=Count("api_calls", filter=Q(api_calls__at__gte=since, api_calls__ok=False)),
        latency_24h=Avg("api_calls__latency_ms", filter=Q(api_calls__at__gte=since)),
    )
    return [
        Health(
            integration=integration,
            calls=integration.calls_24h,
            errors=integration.errors_24h,
            latency_ms=integration.latency_24h,
            problems=_problems(integration),
        )
        for integration in integrations.order_by("name")
    ]


def _problems(integration: Integration) -> tuple[str, ...]:
    problems = []
    if integration.status in (IntegrationStatus.ERROR, IntegrationStatus.NEEDS_ATTENTION):
        problems.append(
            f"{integration.get_status_display()}: {integration.last_error or 'no detail'}"
        )
    if integration.last_sync_status in (SyncStatus.FAILED, SyncStatus.INTERRUPTED):
        problems.append(f"last sync {SyncStatus(integration.last_sync_status).label.lower()}")
    token = selectors.token_health(integration)
    if token is not None and token.expired:
        problems.append("OAuth access token expired")
    calls, errors = integration.calls_24h, integration.errors_24h
    if calls and errors / calls > ERROR_RATE_WARNING:
        problems.append(f"{errors / calls:.0%} of {calls} calls failed in 24 h")
    return tuple(problems)


def recent_runs(limit: int = 10) -> list[SyncRun]:
    """The latest sync runs across integrations."""
    return list(
        SyncRun.objects.select_related("integration").order_by(*selectors.NEWEST_FIRST)[:limit]
    )
