"""Campaign Monitor list webhooks: unsigned, batched JSON; our own token in the URL.

Facts (../shared/platforms/campaign_monitor.md §10; source
https://www.campaignmonitor.com/api/v3-3/webhooks/): no signature, secret or handshake is
documented, so the URL carries an unguessable token. Body {"Events": [{"Type": "Subscribe" |
"Deactivate" | "Update", "Date": "2010-12-14 11:32:00", "EmailAddress", "Name", "State"
(Deactivate: Unsubscribed | Deleted | Bounced)}], "ListID"}, up to 1,000 events.

Registration (campaign_monitor.md §10; createsend-python `list.py`): `POST
/lists/{listid}/webhooks.json {"Events": [...], "Url", "PayloadFormat": "json"}` → the webhook
ID (a JSON string); `GET /lists/{listid}/webhooks.json` lists them ({"WebhookID", "Events",
"Url", "Status", "PayloadFormat"}); `PUT .../{id}/activate.json` turns a deactivated one on.
"""

from __future__ import annotations

from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.webhook_events import (
    Kind,
    NormalisedEvent,
    json_body,
    when,
)
from integrations.platforms.webhook_registration import RemoteWebhook, WebhookRegistration
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


REGISTRATION = WebhookRegistration(
    source="https://www.campaignmonitor.com/api/v3-3/webhooks/",
    events=("Subscribe", "Deactivate", "Update"),
)


def _remote(row: dict) -> RemoteWebhook:
    status = str(row.get("Status") or "Active")
    return RemoteWebhook(
        str(row.get("WebhookID", "")),
        url=str(row.get("Url") or ""),
        events=tuple(str(e) for e in row.get("Events") or ()),
        active=status.lower() == "active",
        status=status,
    )


class CampaignMonitorWebhooks(PlatformClient):
    webhook_scheme = SCHEME
    webhook_registration = REGISTRATION

    def parse_webhook(self, body, content_type, received_at):
        return normalise(body, received_at)

    @property
    def _webhooks_path(self) -> str:
        return f"{V}/lists/{self.list_id}/webhooks"

    def registered_webhooks(self) -> list[RemoteWebhook]:
        rows = self.request("GET", API, f"{self._webhooks_path}.json").json()
        return [_remote(row) for row in rows or [] if isinstance(row, dict)]

    def register_webhook(self, url, secret, events) -> RemoteWebhook:
        body = {"Events": list(events), "Url": url, "PayloadFormat": "json"}
        webhook_id = self.request(
            "POST", API, f"{self._webhooks_path}.json", json=body, ok=(200, 201), repeatable=False
        ).json()
        return RemoteWebhook(str(webhook_id), url=url, events=tuple(events), created=True)

    def adopt_webhook(self, hook, url, secret, events) -> RemoteWebhook:
        if hook.active:
            return hook
        self.request("PUT", API, f"{self._webhooks_path}/{hook.remote_id}/activate.json")
        return RemoteWebhook(hook.remote_id, url=hook.url, events=hook.events, status="Active")
