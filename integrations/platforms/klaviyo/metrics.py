"""Campaigns' metrics from Klaviyo's campaign values reports (docs/platforms/klaviyo.md §8;
specs/klaviyo/stable.json `query_campaign_values`).

`POST /api/campaign-values-reports` takes the statistics wanted, a timeframe (≤ 1 year), the
required `conversion_metric_id` and a filter (`contains-any(campaign_id,[…])`, ≤ 100 ids) and
answers one result per grouping (campaign, message, channel) with the statistics; rates are
fractions. It is limited to 1/s, 2/m and 225 a day, so the sends due are asked for in one report
(100 campaigns a call), never one a send. The conversion metric is the account's "Placed Order"
where it has one, else its first metric (`GET /api/metrics`): conversions are then that
metric's, as the note says.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from integrations import clock
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, PlatformError
from integrations.platforms.klaviyo.api import API
from integrations.platforms.metrics import MetricsRef, SendMetrics

REPORTS = "values_reports"  # the rate of the reporting endpoints: 1/s, 2/m
PER_REPORT = 100  # campaign ids in one filter
CONVERSION_METRIC = "Placed Order"
STATISTICS = {
    "sent": "recipients",
    "delivered": "delivered",
    "opened": "opens_unique",
    "opens_total": "opens",
    "clicked": "clicks_unique",
    "clicks_total": "clicks",
    "bounced": "bounced",
    "unsubscribed": "unsubscribe_uniques",
    "complained": "spam_complaints",
    "converted": "conversion_uniques",
}
LONGEST = timedelta(days=365)


def _timeframe(refs: Sequence[MetricsRef]) -> dict:
    now = datetime.fromtimestamp(clock.now(), UTC)
    earliest = min((r.sent_at for r in refs if r.sent_at), default=now - timedelta(days=30))
    start = max(earliest - timedelta(hours=1), now - LONGEST)
    return {"start": start.isoformat(timespec="seconds"), "end": now.isoformat(timespec="seconds")}


class KlaviyoMetrics(PlatformClient):
    def conversion_metric(self) -> tuple[str, str]:
        """(id, name) of the metric conversions are counted by."""
        data = self.request("GET", API, "/api/metrics", params={"fields[metric]": "name"}).json()
        metrics = [m for m in data.get("data") or [] if isinstance(m, dict) and m.get("id")]
        if not metrics:
            raise NotFound("Klaviyo lists no metric for this account: a values report needs one.")
        chosen = next(
            (m for m in metrics if (m.get("attributes") or {}).get("name") == CONVERSION_METRIC),
            metrics[0],
        )
        return str(chosen["id"]), str((chosen.get("attributes") or {}).get("name") or "")

    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        (result,) = self.campaign_metrics_of([ref])
        if isinstance(result, PlatformError):
            raise result
        return result

    def campaign_metrics_of(self, refs: Sequence[MetricsRef]) -> list[SendMetrics | PlatformError]:
        metric_id, metric_name = self.conversion_metric()
        totals: dict[str, dict[str, float]] = {}
        for start in range(0, len(refs), PER_REPORT):
            chunk = refs[start : start + PER_REPORT]
            for campaign_id, statistics in self._report(chunk, metric_id):
                into = totals.setdefault(campaign_id, {})
                for name, value in statistics.items():
                    into[name] = into.get(name, 0) + value
        note = f"conversions: {metric_name}" if metric_name else ""
        return [self._metrics(totals.get(ref.remote_id), note) for ref in refs]

    def _report(self, refs: Sequence[MetricsRef], metric_id: str):
        ids = ",".join(f'"{ref.remote_id}"' for ref in refs)
        body = {
            "data": {
                "type": "campaign-values-report",
                "attributes": {
                    "statistics": sorted(set(STATISTICS.values())),
                    "timeframe": _timeframe(refs),
                    "conversion_metric_id": metric_id,
                    "filter": f"contains-any(campaign_id,[{ids}])",
                },
            }
        }
        data = self.request(
            "POST", API, "/api/campaign-values-reports", json=body, rate=REPORTS
        ).json()
        for row in ((data.get("data") or {}).get("attributes") or {}).get("results") or []:
            groupings = row.get("groupings") or {}
            if groupings.get("send_channel", "email") != "email":
                continue
            numbers = {
                k: v
                for k, v in (row.get("statistics") or {}).items()
                if isinstance(v, int | float) and not isinstance(v, bool)
            }
            yield str(groupings.get("campaign_id", "")), numbers

    @staticmethod
    def _metrics(statistics: dict[str, float] | None, note: str) -> SendMetrics | PlatformError:
        if statistics is None:  # not in the report (yet): blank, never zero
            return SendMetrics(note="not in Klaviyo's report yet")
        return SendMetrics(
            **{ours: int(statistics[k]) if k in statistics else None
               for ours, k in STATISTICS.items()},
            note=note,
        )  # fmt: skip
