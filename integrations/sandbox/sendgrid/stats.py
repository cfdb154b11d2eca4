"""SendGrid's Single Send stats (../shared/platforms/sendgrid.md §8; tsg_mc_stats_v3.json).

`GET /v3/marketing/stats/singlesends/{id}?aggregated_by=total&start_date&end_date&timezone` →
`{"results": [{"id", "ab_variation": "all", "ab_phase": "all", "aggregation": "total", "stats":
{requests, delivered, opens, unique_opens, clicks, unique_clicks, bounces, bounce_drops,
invalid_emails, spam_reports, spam_report_drops, unsubscribes}}], "_metadata": {"self",
"count"}}`, from the sandbox's seeded engagement of the readers the send went to (the same that
its Event Webhook posts). Only `aggregated_by=total` is emulated.
"""

from __future__ import annotations

from datetime import date

from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.sandbox import engagement
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxSend
from integrations.sandbox.sendgrid.auth import EMULATOR, PLATFORM, _errors
from integrations.sandbox.sendgrid.webhooks import _audience

ZERO = ("bounce_drops", "invalid_emails", "spam_report_drops")


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


@require_GET
@EMULATOR.endpoint()
def singlesend_stats(request, account, singlesend_id: str):
    if request.GET.get("aggregated_by", "total") != "total":
        return _errors("the sandbox emulates aggregated_by=total only", 400, "aggregated_by")
    start, end = _day(request.GET.get("start_date")), _day(request.GET.get("end_date"))
    if (request.GET.get("start_date") and start is None) or (
        request.GET.get("end_date") and end is None
    ):
        return _errors("dates are YYYY-MM-DD", 400, "start_date")
    send = SandboxSend.objects.filter(
        platform=PLATFORM, account=account.account, kind="single_send", remote_id=singlesend_id
    ).first()
    if send is None:
        return _errors("resource not found", 404)
    stats = {name: 0 for name in ("requests", "delivered", "opens", "unique_opens", "clicks",
             "unique_clicks", "bounces", "spam_reports", "unsubscribes", *ZERO)}  # fmt: skip
    audience = _audience(account, send) if send.sent_at else None
    sent_day = send.sent_at.date() if send.sent_at else None
    in_range = (
        sent_day and (start is None or start <= sent_day) and (end is None or sent_day <= end)
    )
    if audience is not None and in_range:
        t = engagement.totals(
            audience.key, audience.emails, audience.subject, send.sent_at, timezone.now()
        )
        stats.update(
            requests=t["sent"], delivered=t["delivered"], opens=t["opened"],
            unique_opens=t["opened"], clicks=t["clicked"], unique_clicks=t["clicked"],
            bounces=t["bounced_hard"] + t["bounced_soft"], spam_reports=t["complained"],
            unsubscribes=t["unsubscribed"],
        )  # fmt: skip
    result = {"id": send.remote_id, "ab_variation": "all", "ab_phase": "all",
              "aggregation": "total", "stats": stats}  # fmt: skip
    return json_response({"results": [result], "_metadata": {"self": request.path, "count": 1}})
