"""A send's figures counted from the engagement its platform posted by webhook.

Where a platform's API does not report a send's figures (Iterable blasts, Braze, Keap,
Customer.io journeys), or reports a whole remote campaign where several sends share it (every
trigger of one Customer.io broadcast: an A/B test's variants, its winner), the events the
console received are counted instead: distinct readers per kind, so a reader who opens twice
counts once, as the platforms' unique opens do.

Which events are a send's:
- those naming its trigger or send job (`remote_send_id`: Customer.io's trigger id), when the
  platform names it;
- else those of its remote campaign (the campaign it made, or the one its target fired) that
  name no send, from when it went out until the next send of that campaign on the
  integration went out (so a campaign triggered again later does not count twice), each
  moment taken CLOCK_SKEW early: a platform stamps a delivery by its own clock, often to the
  second (Iterable's createdAt), while the console stamps the send when the call returned.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import Count, Q, QuerySet

from audience.models import EngagementEvent, EngagementKind
from campaigns.models import CampaignSend, SendState
from integrations.models import WebhookEvent, WebhookState
from integrations.platforms.metrics import SendMetrics

# Each figure of a snapshot and the event kinds it counts.
FIGURES = {
    "delivered": (EngagementKind.DELIVERED,),
    "opened": (EngagementKind.OPENED,),
    "clicked": (EngagementKind.CLICKED,),
    "bounced": (EngagementKind.BOUNCED_HARD, EngagementKind.BOUNCED_SOFT),
    "unsubscribed": (EngagementKind.UNSUBSCRIBED,),
    "complained": (EngagementKind.COMPLAINED,),
}
NOTE = "counted from the webhook events received"
CLOCK_SKEW = timedelta(minutes=1)


def receives_webhooks(integration) -> bool:
    """Whether the integration's platform posts its events to the console (one processed)."""
    return WebhookEvent.objects.filter(
        integration=integration, state=WebhookState.PROCESSED
    ).exists()


def campaign_ids(send: CampaignSend) -> set[str]:
    return {i for i in (send.remote_id, send.target.remote_template_or_campaign_id) if i}


def _sends_of_campaign(send: CampaignSend, ids: set[str]) -> QuerySet[CampaignSend]:
    """The integration's other sent sends of the same remote campaign."""
    return (
        CampaignSend.objects.filter(
            target__integration_id=send.target.integration_id,
            state=SendState.SENT,
            sent_at__isnull=False,
        )
        .filter(Q(remote_id__in=ids) | Q(target__remote_template_or_campaign_id__in=ids))
        .exclude(pk=send.pk)
    )


def _next_send_of_campaign(send: CampaignSend, ids: set[str]):
    """When the next send of the same remote campaign on the integration went out (or None)."""
    later = _sends_of_campaign(send, ids).filter(sent_at__gt=send.sent_at).order_by("sent_at")
    return later.values_list("sent_at", flat=True).first()


def shares_campaign(send: CampaignSend, within) -> bool:
    """Whether another send of the same remote campaign went out less than `within` from it
    (the platform's figures of that campaign then count both)."""
    ids = campaign_ids(send)
    if not ids or send.sent_at is None:
        return False
    near = (send.sent_at - within, send.sent_at + within)
    return _sends_of_campaign(send, ids).filter(sent_at__range=near).exists()


def events_of(send: CampaignSend) -> QuerySet[EngagementEvent]:
    """The engagement events that are the send's (see the module's docstring)."""
    events = EngagementEvent.objects.filter(
        integration_id=send.target.integration_id, subscriber__isnull=False
    )
    mine = Q(remote_send_id=send.remote_send_id) if send.remote_send_id else Q(pk__in=[])
    ids = campaign_ids(send)
    if ids and send.sent_at is not None:
        since = send.sent_at - CLOCK_SKEW
        window = Q(remote_send_id="", remote_campaign_id__in=ids, occurred_at__gte=since)
        until = _next_send_of_campaign(send, ids)
        if until is not None:
            window &= Q(occurred_at__lt=until - CLOCK_SKEW)
        mine |= window
    return events.filter(mine)


def count(send: CampaignSend) -> SendMetrics:
    """The send's figures from its events: distinct readers per kind."""
    counted = events_of(send).aggregate(
        **{
            figure: Count("subscriber", filter=Q(kind__in=kinds), distinct=True)
            for figure, kinds in FIGURES.items()
        }
    )
    return SendMetrics(**counted, note=NOTE)
