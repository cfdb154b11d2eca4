"""Klaviyo email campaigns: create with the audience and the message's content, give the
message an HTML template, then create the send job.

Facts (../shared/platforms/klaviyo.md §7; the OpenAPI document, revision 2026-07-15):
`POST /api/campaigns` (name, audiences.included, send_strategy, campaign-messages with the
email definition) answers the campaign with `relationships.campaign-messages`;
`GET /api/campaigns/{id}/relationships/campaign-messages` lists the message ids;
`POST /api/templates` (editor_type CODE, html, text) then `POST /api/campaign-message-assign-
template`; `POST /api/campaign-send-jobs` `{"data": {"type": "campaign-send-job", "id":
<campaign id>}}` → 202. Campaign endpoints: 10/s, 150/m. A campaign's `status` is "Draft"
until it is sent or scheduled; `name` carries the idempotency key (filter `contains(name,…)`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound
from integrations.platforms.klaviyo.api import API
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

CAMPAIGNS = "campaigns"  # the rate shared by the campaign endpoints
TEMPLATES = "templates"


def send_strategy(spec: SendSpec) -> dict:
    if spec.send_at is None:
        return {"method": "immediate"}
    at = spec.send_at.astimezone(UTC).isoformat()
    return {"method": "static", "datetime": at, "options": {"is_local": False}}


class KlaviyoCampaigns(PlatformClient):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        # No from_email: Klaviyo uses the account's default sender address.
        content = {"subject": spec.subject, "preview_text": spec.preview_text}
        if spec.from_name:
            content["from_label"] = spec.from_name
        if spec.reply_to:
            content["reply_to_email"] = spec.reply_to
        message = {
            "type": "campaign-message",
            "attributes": {
                "definition": {"channel": "email", "label": spec.name, "content": content}
            },
        }
        create = {
            "data": {
                "type": "campaign",
                "attributes": {
                    "name": spec.remote_name,
                    # The console's segment ids are "list:<id>" or "segment:<id>".
                    "audiences": {"included": [spec.segment_id.partition(":")[2]]},
                    "send_strategy": send_strategy(spec),
                    "campaign-messages": {"data": [message]},
                },
            }
        }
        template = {
            "data": {
                "type": "template",
                "attributes": {
                    "name": spec.remote_name,
                    "editor_type": "CODE",
                    "html": spec.html,
                    "text": spec.plain_text or None,
                },
            }
        }
        message_id = values.get("message_id", "{message_id}")
        template_id = values.get("template_id", "{template_id}")
        assign = {
            "data": {
                "type": "campaign-message",
                "id": message_id,
                "relationships": {"template": {"data": {"type": "template", "id": template_id}}},
            }
        }
        job = {"data": {"type": "campaign-send-job", "id": remote_id}}
        messages = f"/api/campaigns/{remote_id}/relationships/campaign-messages"
        return [
            SendStep(
                StepKind.CREATE,
                planned("POST", API, "/api/campaigns", create, rate=CAMPAIGNS),
                ok=(201,),
            ),  # fmt: skip
            SendStep(
                StepKind.CHECK, planned("GET", API, messages, rate=CAMPAIGNS), provides="message_id"
            ),  # fmt: skip
            SendStep(
                StepKind.CONTENT,
                planned("POST", API, "/api/templates", template, rate=TEMPLATES),
                ok=(201,),
                provides="template_id",
            ),  # fmt: skip
            SendStep(
                StepKind.CONTENT,
                planned(
                    "POST", API, "/api/campaign-message-assign-template", assign, rate=CAMPAIGNS
                ),
                ok=(200, 201),
            ),  # fmt: skip
            SendStep(
                StepKind.SEND,
                planned("POST", API, "/api/campaign-send-jobs", job, rate=CAMPAIGNS),
                ok=(202,),
            ),  # fmt: skip
        ]

    def read_created(self, response) -> str:
        return str(response.json()["data"]["id"])

    def read_value(self, step: SendStep, response) -> str:
        data = response.json()["data"]
        if step.provides == "message_id":
            return str(data[0]["id"])
        return str(data["id"])

    def read_sent(self, response) -> str:
        return str(response.json()["data"]["id"])

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        data = self.request("GET", API, f"/api/campaigns/{remote_id}", rate=CAMPAIGNS).json()
        status = str(data["data"]["attributes"].get("status", ""))
        return RemoteCampaign(remote_id, status, gone_out=status != "Draft")

    def find_campaign(self, spec: SendSpec) -> str:
        key = spec.idempotency_key
        params = {"filter": f"and(equals(messages.channel,'email'),contains(name,'{key}'))"}
        data = self.request("GET", API, "/api/campaigns", params=params, rate=CAMPAIGNS).json()
        for campaign in data.get("data") or []:
            if campaign.get("attributes", {}).get("name") == spec.remote_name:
                return str(campaign["id"])
        return ""

    def remote_problems(self, spec: SendSpec) -> list[str]:
        if not spec.segment_id:
            return []
        try:
            self.segment_member_count(spec.segment_id)
        except NotFound:
            return [f"Klaviyo has no list or segment {spec.segment_id} any more: choose another."]
        return []
