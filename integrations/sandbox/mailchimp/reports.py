"""Campaign reports (GET /3.0/reports/{campaign_id}) from the sandbox's seeded engagement; a
variate campaign's is the sum of its test and winner sends, each of which is also listed by
GET /3.0/reports/{campaign_id}/sub-reports (in the order of the combinations, then the
winner's)."""

from __future__ import annotations

from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.sandbox import engagement
from integrations.sandbox.emulation import json_response
from integrations.sandbox.mailchimp import variate
from integrations.sandbox.mailchimp.auth import endpoint
from integrations.sandbox.mailchimp.campaigns import _audience_of, _campaign, _not_found


@require_GET
@endpoint(audience=False)
def report(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None or not send.sends or send.sent_at is None:
        return _not_found()  # Mailchimp has a report only for a campaign that went out
    if send.body.get("type") == "variate":
        t: dict = {}
        for part in variate.parts(send):
            for key, value in _totals(account, part).items():
                t[key] = t.get(key, 0) + value
    else:
        audience, _ = _audience_of(account, send.body)
        emails = audience.values_list("identifier", flat=True) if audience is not None else []
        subject = (send.body.get("settings") or {}).get("subject_line", "")
        t = engagement.totals(
            f"mailchimp:{account.account}:{send.remote_id}",
            emails,
            subject,
            send.sent_at,
            timezone.now(),
        )
    return json_response(_report(send, t))


def _totals(account, part) -> dict:
    """One test or winner send of a variate campaign: its frozen recipients' engagement."""
    return engagement.totals(
        f"mailchimp:{account.account}:{part.remote_id}",
        part.body["emails"],
        part.body["settings"]["subject_line"],
        part.sent_at,
        timezone.now(),
    )


@require_GET
@endpoint(audience=False)
def sub_reports(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None or not send.sends or send.body.get("type") != "variate":
        return _not_found()
    reports = []
    for part in variate.parts(send):
        report = _report(part, _totals(account, part))
        report["subject_line"] = part.body["settings"]["subject_line"]
        reports.append(report)
    return json_response(
        {"reports": reports, "parent_campaign_id": send.remote_id, "total_items": len(reports)}
    )


def _report(send, t: dict) -> dict:
    delivered = t["delivered"]
    return {
        "id": send.remote_id,
        "emails_sent": t["sent"],
        "abuse_reports": t["complained"],
        "unsubscribed": t["unsubscribed"],
        "send_time": send.sent_at.isoformat(),
        "opens": {
            "opens_total": t["opened"],
            "unique_opens": t["opened"],
            "open_rate": t["opened"] / delivered if delivered else 0,
        },
        "clicks": {
            "clicks_total": t["clicked"],
            "unique_clicks": t["clicked"],
            "unique_subscriber_clicks": t["clicked"],
            "click_rate": t["clicked"] / delivered if delivered else 0,
        },
        "bounces": {
            "hard_bounces": t["bounced_hard"],
            "soft_bounces": t["bounced_soft"],
            "syntax_errors": 0,
        },
    }
