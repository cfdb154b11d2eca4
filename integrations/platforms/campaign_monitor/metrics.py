"""A sent campaign's summary (docs/platforms/campaign_monitor.md §8).

`GET /campaigns/{campaignid}/summary.json` answers `Recipients`, `TotalOpened`, `UniqueOpened`,
`Clicks`, `Unsubscribed`, `Bounced`, `SpamComplaints` (and forwards, likes, mentions, web
version URLs) for the whole campaign, which is one send: the console creates a campaign per
target. Campaign Monitor reports no delivered count; `Clicks` is read as clicking subscribers
(the summary has no separate total), as its reports show "unique clicks".
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.metrics import MetricsRef, SendMetrics


def _count(summary: dict, name: str) -> int | None:
    value = summary.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


class CampaignMonitorMetrics(PlatformClient):
    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        summary = self.request("GET", API, f"{V}/campaigns/{ref.remote_id}/summary.json").json()
        summary = summary if isinstance(summary, dict) else {}
        return SendMetrics(
            sent=_count(summary, "Recipients"),
            opened=_count(summary, "UniqueOpened"),
            opens_total=_count(summary, "TotalOpened"),
            clicked=_count(summary, "Clicks"),
            bounced=_count(summary, "Bounced"),
            unsubscribed=_count(summary, "Unsubscribed"),
            complained=_count(summary, "SpamComplaints"),
        )
