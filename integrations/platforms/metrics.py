"""A send's metrics as the platforms report them, in one shape (Capability.CAMPAIGN_METRICS).

Each platform that reports metrics implements `campaign_metrics(ref)` and answers with
`SendMetrics`: unique opens and clicks where the platform counts them, totals where it gives
those too, None for what it does not report (never a made-up zero).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime


@dataclass(frozen=True)
class MetricsRef:
    """What identifies one send on its platform, from the send ledger."""

    remote_id: str  # the campaign or single send created ("" for a trigger)
    remote_send_id: str = ""  # the trigger or send job
    remote_campaign_id: str = ""  # the platform's broadcast or campaign the target named
    sent_at: datetime | None = None


@dataclass(frozen=True)
class SendMetrics:
    sent: int | None = None
    delivered: int | None = None
    opened: int | None = None  # unique
    clicked: int | None = None  # unique
    bounced: int | None = None
    unsubscribed: int | None = None
    complained: int | None = None
    converted: int | None = None
    opens_total: int | None = None
    clicks_total: int | None = None
    note: str = ""  # what the figures cover, where the platform's scope differs from one send

    def as_dict(self) -> dict:
        return asdict(self)
