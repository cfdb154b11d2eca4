"""Reads the console's pages and the admin share, so that the two cannot disagree.

Each function is one query (or a fixed few), whatever the number of rows: lists that call one
per row get what it needs from `with_last_sync`'s annotations and joins.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.text import smart_split, unescape_string_literal
from django.utils.timesince import timesince

from integrations.models import (
    ApiCall,
    FieldMapping,
    Integration,
    OAuthConnection,
    SyncRecord,
    SyncRun,
)

NEWEST_FIRST = ("-created_at", "-id")
USAGE_WINDOW = timedelta(hours=24)

# --- runs -----------------------------------------------------------------------------------------


def runs_of(integration: Integration) -> QuerySet[SyncRun]:
    """The integration's sync runs, newest first."""
    return SyncRun.objects.filter(integration=integration).order_by(*NEWEST_FIRST)


def with_last_sync(integrations: QuerySet[Integration]) -> QuerySet[Integration]:
    """Integrations with their latest sync or profile import (`last_sync_status`,
    `last_sync_at`) and their OAuth connection, in the same query. A segment push is not the
    integration's sync (it says nothing of its contacts: services.sync.finish_run)."""
    latest = SyncRun.objects.filter(integration=OuterRef("pk"), segment_push__isnull=True).order_by(
        *NEWEST_FIRST
    )
    return integrations.select_related("oauth_connection").annotate(
        last_sync_status=Subquery(latest.values("status")[:1]),
        last_sync_at=Subquery(latest.values("created_at")[:1]),
    )


# --- a run's records ------------------------------------------------------------------------------


def search_records(records: QuerySet[SyncRecord], query: str) -> QuerySet[SyncRecord]:
    """Records whose e-mail, code or message contains every word of `query` ("quoted words"
    count as one), as the admin's search box has always matched."""
    for word in smart_split(query):
        if word.startswith(('"', "'")) and word[0] == word[-1]:
            word = unescape_string_literal(word)
        records = records.filter(
            Q(email__icontains=word) | Q(code__icontains=word) | Q(message__icontains=word)
        )
    return records


def records_of(run: SyncRun, outcome: str = "", query: str = "") -> QuerySet[SyncRecord]:
    """The run's records (those not accepted), of one outcome and matching a search if given."""
    records = run.records.all()
    if outcome:
        records = records.filter(outcome=outcome)
    return search_records(records, query)


# --- API usage ------------------------------------------------------------------------------------


def api_usage(integration: Integration, since: datetime | None = None) -> dict:
    """Calls, error rate and latency percentiles over the last 24 h (or since `since`)."""
    since = since or timezone.now() - USAGE_WINDOW
    calls = ApiCall.objects.filter(integration=integration, at__gte=since)
    agg = calls.aggregate(calls=Count("id"), errors=Count("id", filter=Q(ok=False)), last=Max("at"))
    latencies = sorted(calls.values_list("latency_ms", flat=True))
    return {
        "calls": agg["calls"],
        "errors": agg["errors"],
        "error_rate": (agg["errors"] / agg["calls"]) if agg["calls"] else 0.0,
        "median_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "last_call_at": agg["last"],
        "last_success_at": integration.last_success_at,
    }


def percentile(sorted_values: list[float], pct: float) -> float | None:
    """Nearest rank: the smallest value with at least `pct` % of the values at or below it."""
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, math.ceil(pct * len(sorted_values) / 100) - 1))
    return sorted_values[index]


# --- OAuth token health ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TokenHealth:
    """What the console shows of an OAuth connection (never its tokens)."""

    expires_at: datetime | None
    last_refreshed_at: datetime | None
    refresh_failures: int
    last_refresh_error: str

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def expiry(self) -> str:
        """ "expires in 14 minutes", "expired", "does not expire"."""
        if self.expires_at is None:
            return "does not expire"
        if self.expired:
            return "expired"
        return f"expires in {timesince(timezone.now(), self.expires_at)}"


def token_health(integration: Integration) -> TokenHealth | None:
    """The integration's OAuth token health; None without an OAuth connection.

    No query when the connection was joined (`with_last_sync`), one otherwise.
    """
    try:
        connection = integration.oauth_connection
    except OAuthConnection.DoesNotExist:
        return None
    return TokenHealth(
        expires_at=connection.expires_at,
        last_refreshed_at=connection.last_refreshed_at,
        refresh_failures=connection.refresh_failures,
        last_refresh_error=connection.last_refresh_error,
    )


# --- field mappings -------------------------------------------------------------------------------


def field_mappings(integration: Integration) -> QuerySet[FieldMapping]:
    """The integration's mappings, the identifier first."""
    return FieldMapping.objects.filter(integration=integration).order_by("-is_identifier", "id")


@dataclass(frozen=True)
class WebhookHealth:
    """An integration's webhook inbox at a glance (no secrets)."""

    last_received_at: datetime | None
    lag_seconds: float | None  # arrival → processing, of the last processed delivery
    counts: dict[str, int]  # by WebhookState value
    registered: tuple = ()  # RegisteredWebhook rows: the hooks registered with the platform

    @property
    def active_registrations(self) -> int:
        return sum(1 for hook in self.registered if hook.active)

    @property
    def rejected(self) -> int:
        return self.counts.get("rejected", 0)

    @property
    def failed(self) -> int:
        return self.counts.get("failed", 0)


def webhook_health(integration: Integration) -> WebhookHealth:
    events = integration.webhook_events
    counts = dict(events.values("state").annotate(n=Count("id")).values_list("state", "n"))
    last = events.aggregate(last=Max("received_at"))["last"]
    latest = (
        events.filter(processed_at__isnull=False)
        .order_by("-processed_at")
        .values_list("received_at", "processed_at")
        .first()
    )
    lag = max((latest[1] - latest[0]).total_seconds(), 0.0) if latest else None
    return WebhookHealth(last, lag, counts, tuple(integration.registered_webhooks.all()))
