"""Reading each send's metrics back from its platform, often at first and then daily.

The sends due are read integration by integration, in as few calls as each platform allows
(`campaign_metrics_of`: one a send, or one report for many where the platform's report takes
them together and counts its calls tightly, as Klaviyo's does).

A sent send is read every METRICS_EARLY_EVERY for its first 48 hours (opens and clicks come
then), daily until METRICS_STOP_AFTER, then no more. Each read is a MetricsSnapshot; a send
whose platform reports no metrics (or a send that failed) is not asked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import CampaignSend, MetricsSnapshot, SendState
from integrations import metering
from integrations.models import ApiFeature
from integrations.platforms.errors import PlatformError
from integrations.platforms.metrics import MetricsRef, SendMetrics

EARLY = timedelta(hours=48)
METRICS_EARLY_EVERY = timedelta(minutes=30)
METRICS_LATE_EVERY = timedelta(hours=24)
METRICS_STOP_AFTER = timedelta(days=30)


@dataclass
class MetricsRefresh:
    read: int = 0
    failed: list[str] = field(default_factory=list)
    unsupported: int = 0


def reports_metrics(send: CampaignSend) -> bool:
    return send.target.integration.platform_class.reads_metrics(send.target.method)


def _ref(send: CampaignSend) -> MetricsRef:
    return MetricsRef(
        remote_id=send.remote_id,
        remote_send_id=send.remote_send_id,
        remote_campaign_id=send.target.remote_template_or_campaign_id,
        sent_at=send.sent_at,
    )


def _snapshot(send: CampaignSend, metrics: SendMetrics) -> MetricsSnapshot:
    figures = metrics.as_dict()
    figures.pop("opens_total"), figures.pop("clicks_total")
    return MetricsSnapshot.objects.create(send=send, taken_at=timezone.now(), **figures)


@metering.feature(ApiFeature.METRICS)
def read_sends(sends: Sequence[CampaignSend]) -> list[MetricsSnapshot | PlatformError]:
    """Ask the platform of `sends` (all of one integration) for their metrics now, in as few
    calls as it allows, and keep each as a snapshot; a send's error is its own."""
    client = sends[0].target.integration.client()
    results = client.campaign_metrics_of([_ref(send) for send in sends])
    return [
        result if isinstance(result, PlatformError) else _snapshot(send, result)
        for send, result in zip(sends, results, strict=True)
    ]


def read_metrics(send: CampaignSend) -> MetricsSnapshot:
    """Ask the send's platform for its metrics now and keep them as a snapshot."""
    (result,) = read_sends([send])
    if isinstance(result, PlatformError):
        raise result
    return result


def due_sends(now=None):
    """Sent sends whose next read is due: every 30 min for 48 h, then daily for 30 days. A
    send its platform holds for a time still to come (scheduled) has no figures yet: not due."""
    now = now or timezone.now()
    sends = (
        CampaignSend.objects.filter(
            state=SendState.SENT, sent_at__isnull=False, sent_at__gte=now - METRICS_STOP_AFTER
        )
        .exclude(target__assignment__scheduled_at__gt=now)
        .annotate(last_read=Max("snapshots__taken_at"))
    )
    early = Q(sent_at__gte=now - EARLY) & (
        Q(last_read__isnull=True) | Q(last_read__lt=now - METRICS_EARLY_EVERY)
    )
    late = Q(sent_at__lt=now - EARLY) & (
        Q(last_read__isnull=True) | Q(last_read__lt=now - METRICS_LATE_EVERY)
    )
    return sends.filter(early | late).select_related("target__integration")


def refresh_metrics(sends=None) -> MetricsRefresh:
    """Read the metrics of `sends` (default: those due); one platform's failure is its own."""
    result = MetricsRefresh()
    by_integration: dict[int, list[CampaignSend]] = defaultdict(list)
    for send in due_sends() if sends is None else sends:
        if not reports_metrics(send):
            result.unsupported += 1
            continue
        by_integration[send.target.integration_id].append(send)
    for group in by_integration.values():
        try:
            outcomes = read_sends(group)
        except PlatformError as exc:  # the whole call refused (credentials, outage)
            outcomes = [exc] * len(group)
        for send, outcome in zip(group, outcomes, strict=True):
            if isinstance(outcome, PlatformError):
                result.failed.append(f"{send}: {outcome.message}")
            else:
                result.read += 1
    return result


def latest(send: CampaignSend) -> MetricsSnapshot | None:
    return send.snapshots.order_by("-taken_at").first()
