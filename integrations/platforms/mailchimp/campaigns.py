"""Mailchimp regular campaigns: create for a saved segment of the audience, set the content,
pass the send checklist, then send (or schedule on a quarter hour).

Facts (../shared/platforms/mailchimp.md §7): `POST /3.0/campaigns` (type, recipients with
`segment_opts.saved_segment_id`, settings, tracking); `PUT /3.0/campaigns/{id}/content`
`{"html", "plain_text"}`; `GET /3.0/campaigns/{id}/send-checklist` → `is_ready`, `items[]`;
`POST /3.0/campaigns/{id}/actions/send` (204) or `.../actions/schedule` `{"schedule_time"}`
(UTC, :00/:15/:30/:45 only, 204); a test: `POST .../actions/test` `{"test_emails", "send_type":
"html" | "plaintext"}` (204), and a draft is deleted with `DELETE /3.0/campaigns/{id}` (204).
`reply_to` is needed to send. A campaign's `status` is
`save`, `paused`, `schedule`, `sending` or `sent`; its `settings.title` is internal, so it
carries the send's idempotency key and finds the campaign again after a crash. A send whose
spec holds a native A/B test is one variate campaign (variate.py), through the same steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.mailchimp.api import API
from integrations.platforms.mailchimp.variate import variate_content, variate_settings
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

GONE_OUT = ("schedule", "sending", "sent")


def schedule_time(spec: SendSpec) -> str:
    return spec.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class MailchimpCampaigns(PlatformClient):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        recipients: dict = {"list_id": self.credential("list_id")}
        if spec.segment_id:
            recipients["segment_opts"] = {"saved_segment_id": int(spec.segment_id)}
        create = {
            "type": "regular",
            "recipients": recipients,
            "settings": {
                "subject_line": spec.subject,
                "preview_text": spec.preview_text,
                "title": spec.remote_name,
                "from_name": spec.from_name,
                "reply_to": spec.reply_to,
            },
            "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
        }
        content = {"html": spec.html} if spec.html else {}
        if spec.plain_text:
            content["plain_text"] = spec.plain_text
        if spec.native_test is not None:  # Mailchimp's own A/B test (variate.py)
            create = {
                **create,
                "type": "variate",
                "variate_settings": variate_settings(spec.native_test, spec),
            }
            content = variate_content(spec.native_test) or content
        campaign = f"/3.0/campaigns/{remote_id}"
        if spec.send_at:
            send = planned(
                "POST", API, f"{campaign}/actions/schedule", {"schedule_time": schedule_time(spec)}
            )
        else:
            send = planned("POST", API, f"{campaign}/actions/send")
        return [
            SendStep(StepKind.CREATE, planned("POST", API, "/3.0/campaigns", create)),
            SendStep(StepKind.CONTENT, planned("PUT", API, f"{campaign}/content", content)),
            SendStep(StepKind.CHECK, planned("GET", API, f"{campaign}/send-checklist")),
            SendStep(StepKind.SEND, send, ok=(204,)),
        ]

    def plan_unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str):
        # Fact sheet §7: `POST /3.0/campaigns/{id}/actions/unschedule` (204): a draft again.
        path = f"/3.0/campaigns/{remote_id}/actions/unschedule"
        return [SendStep(StepKind.SEND, planned("POST", API, path), ok=(204,))]

    def plan_test_send(self, spec: SendSpec, remote_id: str, emails) -> list[SendStep]:
        body = {"test_emails": list(emails), "send_type": "html" if spec.html else "plaintext"}
        path = f"/3.0/campaigns/{remote_id}/actions/test"
        return [SendStep(StepKind.CONTENT, planned("POST", API, path, body), ok=(204,))]

    def plan_discard(self, remote_id: str) -> list[SendStep]:
        path = f"/3.0/campaigns/{remote_id}"
        return [SendStep(StepKind.CONTENT, planned("DELETE", API, path), ok=(204,))]

    def check_step(self, step: SendStep, response) -> None:
        data = response.json()
        if data.get("is_ready"):
            return
        items = [
            f"{item.get('heading', '')}: {item.get('details', '')}".strip(": ")
            for item in data.get("items") or []
            if item.get("type") == "error"
        ]
        raise ValidationFailed(
            "Mailchimp's send checklist is not ready: " + ("; ".join(items) or "no reason given")
        )

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        data = self.request(
            "GET", API, f"/3.0/campaigns/{remote_id}", params={"fields": "id,status"}
        ).json()
        status = str(data.get("status", ""))
        return RemoteCampaign(remote_id, status, gone_out=status in GONE_OUT)

    def find_campaign(self, spec: SendSpec) -> str:
        data = self.request(
            "GET",
            API,
            "/3.0/campaigns",
            params={
                "list_id": self.credential("list_id"),
                "count": 1000,
                "sort_field": "create_time",
                "sort_dir": "DESC",
                "fields": "campaigns.id,campaigns.settings.title",
            },
        ).json()
        for campaign in data.get("campaigns") or []:
            if (campaign.get("settings") or {}).get("title") == spec.remote_name:
                return str(campaign["id"])
        return ""

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = []
        at = spec.send_at
        if at is not None and (at.astimezone(UTC).minute % 15 or at.second or at.microsecond):
            problems.append(
                "Mailchimp schedules only on the quarter hour (:00, :15, :30, :45 UTC)."
            )
        if spec.segment_id:
            try:
                self.segment_member_count(spec.segment_id)
            except NotFound:
                problems.append(
                    f"The audience has no segment {spec.segment_id} any more: choose another."
                )
        return problems
