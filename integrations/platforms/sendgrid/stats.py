"""A Single Send's stats (docs/platforms/sendgrid.md §8; tsg_mc_stats_v3.json).

`GET /v3/marketing/stats/singlesends/{id}?aggregated_by=total&start_date=&end_date=&timezone=UTC`
answers one row (`ab_variation` and `ab_phase` "all" without `group_by`) whose `stats` hold
requests, delivered, opens, unique_opens, clicks, unique_clicks, bounces, spam_reports and
unsubscribes. The dates default to a year long past, so both are always given: from the day
the send went out (or 30 days back when unknown) to today, in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from integrations import clock
from integrations.platforms.base import PlatformClient
from integrations.platforms.metrics import MetricsRef, SendMetrics
from integrations.platforms.sendgrid.api import API

FIELDS = {
    "sent": "requests",
    "delivered": "delivered",
    "opened": "unique_opens",
    "opens_total": "opens",
    "clicked": "unique_clicks",
    "clicks_total": "clicks",
    "bounced": "bounces",
    "unsubscribed": "unsubscribes",
    "complained": "spam_reports",
}


def stats_window(sent_at: datetime | None) -> dict[str, str]:
    today = datetime.fromtimestamp(clock.now(), UTC).date()
    start = sent_at.astimezone(UTC).date() if sent_at else today - timedelta(days=30)
    return {"start_date": min(start, today).isoformat(), "end_date": today.isoformat()}


class SendGridStats(PlatformClient):
    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        params = {"aggregated_by": "total", **stats_window(ref.sent_at), "timezone": "UTC"}
        path = f"/v3/marketing/stats/singlesends/{ref.remote_id}"
        rows = self.request("GET", API, path, params=params).json().get("results") or []
        totals: dict[str, int] = {}
        for row in rows:
            for name, value in (row.get("stats") or {}).items():
                if isinstance(value, int) and not isinstance(value, bool):
                    totals[name] = totals.get(name, 0) + value
        return SendMetrics(**{ours: totals.get(theirs) for ours, theirs in FIELDS.items()})
