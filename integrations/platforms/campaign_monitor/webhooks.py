"""Campaign Monitor list webhooks: unsigned, batched JSON; our own token in the URL.

Facts (../shared/platforms/campaign_monitor.md §10; source
https://www.campaignmonitor.com/api/v3-3/webhooks/): no signature, secret or handshake is
documented, so the URL carries an unguessable token. Body {"Events": [{"Type": "Subscribe" |
"Deactivate" | "Update", "Date": "2010-12-14 11:32:00", "EmailAddress", "Name", "State"
(Deactivate: Unsubscribed | Deleted | Bounced)}], "ListID"}, up to 1,000 events.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    json_body,
    when,
)
from integrations.platforms.webhooks import (
    Method,
    WebhookScheme,
)

SCHEME = WebhookScheme(
    Method.URL_TOKEN,
    source="https://www.campaignmonitor.com/api/v3-3/webhooks/",
    note="Campaign Monitor signs nothing: the token in the URL is the only check.",
    steps=(
        "Add a list webhook (Lists → the list → Webhooks, or POST /lists/{id}/webhooks.json) "
        "with the webhook URL below (with its token), PayloadFormat json, and the Subscribe, "
        "Deactivate and Update events.",
    ),
)

DEACTIVATED = {
    "Unsubscribed": Kind.UNSUBSCRIBED,
    "Bounced": Kind.BOUNCED_HARD,
    "Deleted": Kind.CONTACT_DELETED,
}


def _kind(event: dict) -> Kind | None:
    kind = event.get("Type")
    if kind == "Deactivate":
        return DEACTIVATED.get(str(event.get("State", "")), Kind.UNSUBSCRIBED)
    return {"Subscribe": Kind.CONTACT_CREATED, "Update": Kind.CONTACT_UPDATED}.get(kind)


def normalise(body: bytes, received_at) -> list[NormalisedEvent]:
    delivery = json_body(body)
    if not isinstance(delivery, dict) or not isinstance(delivery.get("Events"), list):
        raise ValueError("a Campaign Monitor webhook is {'Events': [...], 'ListID': ...}")
    out = []
    for event in delivery["Events"]:
        if not isinstance(event, dict) or (kind := _kind(event)) is None:
            continue
        name = str(event.get("Name") or "").split(" ", 1)
        data = {"first_name": name[0]} if name[0] else {}
        if len(name) > 1:
            data["last_name"] = name[1]
        out.append(
            NormalisedEvent(
                kind=kind,
                occurred_at=when(event["Date"]) if event.get("Date") else received_at,
                email=str(event.get("EmailAddress") or ""),
                data=data,
            )
        )
    return out


class CampaignMonitorWebhooks(PlatformClient):
    webhook_scheme = SCHEME

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)
