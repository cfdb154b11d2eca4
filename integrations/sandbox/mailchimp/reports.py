"""Campaign reports (GET /3.0/reports/{campaign_id}) from the sandbox's seeded engagement."""

from __future__ import annotations

from django.utils import timezone
from django.views.decorators.http import require_GET

from integrations.sandbox import engagement
from integrations.sandbox.emulation import json_response
from integrations.sandbox.mailchimp.auth import endpoint
from integrations.sandbox.mailchimp.campaigns import _audience_of, _campaign, _not_found


@require_GET
@endpoint(audience=False)
def report(request, account, campaign_id: str):
    send = _campaign(account, campaign_id)
    if send is None or not send.sends or send.sent_at is None:
        return _not_found()  # Mailchimp has a report only for a campaign that went out
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
    delivered = t["delivered"]
    return json_response(
        {
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
    )
