"""An API-triggered broadcast's metrics (App API, docs/platforms/customerio.md §8).

`GET /v1/broadcasts/{id}/metrics?period=hours|days&steps=N` answers one series per metric,
one integer a period, oldest first; the totals are their sums. Customer.io counts a broadcast,
not one trigger of it: the console asks for the periods since this send went out, so the
figures are this send's while the broadcast is triggered once in that window (the note says so).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

from integrations import clock
from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP
from integrations.platforms.metrics import MetricsRef, SendMetrics

MAX_HOURS, MAX_DAYS = 24, 45  # the longest series each period allows


def period_since(sent_at: datetime | None) -> dict:
    """The shortest series that covers the time since the send."""
    if sent_at is None:
        return {"period": "days", "steps": MAX_DAYS}
    hours = (datetime.fromtimestamp(clock.now(), UTC) - sent_at).total_seconds() / 3600
    if hours < MAX_HOURS:
        return {"period": "hours", "steps": max(1, math.ceil(hours))}
    return {"period": "days", "steps": min(MAX_DAYS, math.ceil(hours / 24))}


class CustomerIoMetrics(PlatformClient):
    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        path = f"/v1/broadcasts/{ref.remote_campaign_id}/metrics"
        series = (
            self.request("GET", APP, path, params=period_since(ref.sent_at)).json().get("metric")
            or {}
        ).get("series") or {}

        def total(name: str) -> int | None:
            return sum(series[name]) if name in series else None

        return SendMetrics(
            sent=total("sent"),
            delivered=total("delivered"),
            opened=total("opened"),
            clicked=total("clicked"),
            bounced=total("bounced"),
            unsubscribed=total("unsubscribed"),
            complained=total("spammed"),
            converted=total("converted"),
            note="Customer.io counts the broadcast over the periods since this send",
        )
