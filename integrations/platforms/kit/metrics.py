"""A broadcast's stats (docs/platforms/kit.md §8; https://developers.kit.com/api-reference/
broadcasts/get-stats-for-a-broadcast).

`GET /v4/broadcasts/{id}/stats` → `{"broadcast": {"id", "stats": {"recipients", "open_rate",
"emails_opened", "click_rate", "unsubscribe_rate"}}}`. The rates are percentages of the
recipients (60.97, not 0.6097). Kit gives opens as a count but clicks and unsubscribes only as
rates: the console turns those into counts of the recipients (to the nearest reader, which the
rate's two decimals allow exactly below 10,000 recipients) and says so in the note. Kit reports
no bounces or complaints per broadcast (they come as subscriber states and webhooks).
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.kit.api import API
from integrations.platforms.metrics import MetricsRef, SendMetrics


def _number(stats: dict, name: str) -> float | None:
    value = stats.get(name)
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _of(recipients: int | None, rate: float | None) -> int | None:
    if recipients is None or rate is None:
        return None
    return round(recipients * rate / 100)


class KitMetrics(PlatformClient):
    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        data = self.request("GET", API, f"/v4/broadcasts/{ref.remote_id}/stats").json()
        stats = ((data or {}).get("broadcast") or {}).get("stats") or {}
        recipients = _number(stats, "recipients")
        recipients = int(recipients) if recipients is not None else None
        opened = _number(stats, "emails_opened")
        return SendMetrics(
            sent=recipients,
            opened=int(opened) if opened is not None else None,
            clicked=_of(recipients, _number(stats, "click_rate")),
            unsubscribed=_of(recipients, _number(stats, "unsubscribe_rate")),
            note="Kit gives clicks and unsubscribes as rates of the recipients; counted from them",
        )
