"""The Campaign Monitor emulator's scheduled sends: the client's details (its time zone), a
campaign scheduled for a SendDate in that zone, unscheduled, and delivered when its time comes.

Real shapes (../shared/platforms/campaign_monitor.md §3, §7): `GET /clients/{clientid}.json` →
`{"ApiKey", "BasicDetails": {"ClientID", "CompanyName", "Country", "TimeZone"}, …}`, the zone
as Campaign Monitor's display name; `POST /campaigns/{id}/send.json` with `"SendDate":
"YYYY-MM-DD HH:MM"` in the client's zone → 200, the campaign listed as scheduled (its
`DateScheduled` that local time); `POST /campaigns/{id}/unschedule.json` → 200, the campaign a
draft again. The emulator knows its client's zone by its rules (ZONE) as Campaign Monitor does,
holds the campaign until that instant (integrations/sandbox/scheduled.py) and delivers it then
to the active members its lists and segments have at that moment. A SendDate already past
(336) and an unschedule of a campaign not scheduled (334) get the emulator's own codes, as the
fact sheet gives none.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import scheduled
from integrations.sandbox.campaign_monitor.auth import CLIENT_ID, EMULATOR, _error
from integrations.sandbox.emulation import json_response

# The demo client's time zone: Campaign Monitor's display name, and the rules it stands for.
ZONE_NAME = "(GMT+10:00) Canberra, Melbourne, Sydney"
ZONE = ZoneInfo("Australia/Sydney")
SEND_DATE = "%Y-%m-%d %H:%M"


@require_GET
@EMULATOR.endpoint()
def client_details(request, account, client_id: str):
    own = client_id == CLIENT_ID
    return json_response(
        {
            "ApiKey": account.credentials.get("api_key", ""),
            "BasicDetails": {
                "ClientID": client_id,
                "CompanyName": "SharpSend Demo" if own else "Other Brand",
                "Country": "Australia",
                "TimeZone": ZONE_NAME,
            },
        }
    )


def schedule(campaign, when: str) -> HttpResponse | None:
    """Hold `campaign` (not saved) for SendDate `when`, the client's wall-clock time; the
    refusal when it cannot be."""
    try:
        local = datetime.strptime(when, SEND_DATE)
    except ValueError:
        return _error(5, "Invalid Date")
    due = local.replace(tzinfo=ZONE)
    if due <= timezone.now():
        return _error(336, "SendDate must be in the future")
    scheduled.hold(campaign, due)
    campaign.content["scheduled_for"] = f"{when}:00"
    return None


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def unschedule(request, account, campaign_id: str):
    from integrations.sandbox.campaign_monitor.campaigns import _campaigns

    campaign = _campaigns(account).filter(remote_id=campaign_id).first()
    if campaign is None:
        return _error(301, "Invalid CampaignID")
    if campaign.status != scheduled.SCHEDULED:
        return _error(334, "Campaign is not scheduled")
    scheduled.release(campaign)
    campaign.content.pop("scheduled_for", None)
    campaign.save()
    return HttpResponse(status=200)


def deliver_scheduled(send) -> None:
    """At its time: the campaign goes to its lists' and segments' active members then."""
    from integrations.sandbox.campaign_monitor.campaigns import _delivered

    delivered = _delivered(SimpleNamespace(account=send.account), send)
    send.content = {**send.content, "delivered": delivered}
    send.recipients = len(delivered)
