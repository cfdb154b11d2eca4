"""A Mailchimp campaign's report (GET /3.0/reports/{campaign_id}, docs/platforms/mailchimp.md §8)."""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.metrics import MetricsRef, SendMetrics

REPORT_FIELDS = (
    "emails_sent,abuse_reports,unsubscribed,opens.opens_total,opens.unique_opens,"
    "clicks.clicks_total,clicks.unique_subscriber_clicks,bounces.hard_bounces,bounces.soft_bounces"
)


class MailchimpMetrics(PlatformClient):
    def campaign_metrics(self, ref: MetricsRef) -> SendMetrics:
        report = self.request(
            "GET", API, f"/3.0/reports/{ref.remote_id}", params={"fields": REPORT_FIELDS}
        ).json()
        opens, clicks, bounces = (report.get(k) or {} for k in ("opens", "clicks", "bounces"))
        sent = report.get("emails_sent")
        bounced = (bounces.get("hard_bounces") or 0) + (bounces.get("soft_bounces") or 0)
        return SendMetrics(
            sent=sent,
            delivered=sent - bounced if sent is not None else None,
            opened=opens.get("unique_opens"),
            clicked=clicks.get("unique_subscriber_clicks"),
            bounced=bounced,
            unsubscribed=report.get("unsubscribed"),
            complained=report.get("abuse_reports"),
            opens_total=opens.get("opens_total"),
            clicks_total=clicks.get("clicks_total"),
        )
