"""Reading each send's metrics back from its platform, often at first and then daily.

The sends due are read integration by integration, in as few calls as each platform allows
(`campaign_metrics_of`: one a send, or one report for many where the platform's report takes
them together and counts its calls tightly, as Klaviyo's does).

A sent send is read every METRICS_EARLY_EVERY for its first 48 hours (opens and clicks come
then), daily until METRICS_STOP_AFTER, then no more. Each read is a MetricsSnapshot; a send
whose platform reports no metrics (or a send that failed) is not asked.

Where the platform's API does not report a send's own figures (none for its method, or only
its whole remote campaign's, which several sends share), the snapshot is counted from the
webhook events the integration received (campaigns/services/event_metrics.py), once the
platform posts them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import Max, Q
from django.utils import timezone

from campaigns.models import CampaignSend, MetricsSnapshot, SendState
from campaigns.services import event_metrics
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


API, EVENTS = "api", "events"


def reports_metrics(send: CampaignSend) -> bool:
    return send.target.integration.platform_class.reads_metrics(send.target.method)


def source_of(send: CampaignSend, receives_webhooks=event_metrics.receives_webhooks) -> str:
    """Where the send's figures come from: its platform's API (API), the webhook events
    received (EVENTS), or nowhere yet (""): the API reports none for its method, or only a
    remote campaign's that other sends share, and no webhook has come in yet."""
    platform = send.target.integration.platform_class
    api = platform.reads_metrics(send.target.method)
    method = platform.send_method(send.target.method)
    per_campaign = method is not None and method.metrics_per_campaign
    if api and not per_campaign:
        return API
    if receives_webhooks(send.target.integration):
        return EVENTS
    if api and not event_metrics.shares_campaign(send, METRICS_STOP_AFTER):
        return API  # the campaign's figures are this send's alone
    return ""


def _ref(send: CampaignSend) -> MetricsRef:
    return MetricsRef(
        remote_id=send.remote_id,
        remote_send_id=send.remote_send_id,
        remote_campaign_id=send.target.remote_template_or_campaign_id,
        sent_at=send.sent_at,
    )


def _snapshot(send: CampaignSend, metrics: SendMetrics) -> MetricsSnapshot:
    """Keep `metrics` as the send's snapshot now."""
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


def count_from_events(send: CampaignSend) -> MetricsSnapshot:
    """The send's figures counted from its webhook events, kept as a snapshot."""
    return _snapshot(send, event_metrics.count(send))


def refresh_metrics(sends=None) -> MetricsRefresh:
    """Read the metrics of `sends` (default: those due); one platform's failure is its own."""
    result = MetricsRefresh()
    by_integration: dict[int, list[CampaignSend]] = defaultdict(list)
    webhooks: dict[int, bool] = {}  # integration → whether it receives webhooks (asked once)

    def receives_webhooks(integration) -> bool:
        if integration.pk not in webhooks:
            webhooks[integration.pk] = event_metrics.receives_webhooks(integration)
        return webhooks[integration.pk]

    for send in due_sends() if sends is None else sends:
        source = source_of(send, receives_webhooks)
        if source == EVENTS:
            count_from_events(send)
            result.read += 1
        elif source == API:
            by_integration[send.target.integration_id].append(send)
        else:
            result.unsupported += 1
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
