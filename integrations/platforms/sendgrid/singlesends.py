"""SendGrid Single Sends: create the draft (audience, content, sender, unsubscribe group),
then schedule it for "now" or a time.

Facts (../shared/platforms/sendgrid.md §7; tsg_mc_singlesends_v3.json, tsg_mc_senders_v3.json):
`POST /v3/marketing/singlesends` `{name ≤100, send_to: {list_ids | segment_ids}, email_config:
{subject, html_content, plain_content, generate_plain_content, editor, sender_id,
suppression_group_id}}` → 201 with `id`; `PUT /v3/marketing/singlesends/{id}/schedule`
`{"send_at": "now" | ISO 8601}` → 201 `{send_at, status}`; a Single Send's `status` is
`draft`, `scheduled` or `triggered`. A verified `sender_id` and an unsubscribe group are needed
to send; `GET /v3/marketing/senders/{id}` says whether the sender is `verified`.
`POST /v3/marketing/singlesends/search {"name"}` finds a draft by its name (the idempotency key).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound
from integrations.platforms.sendgrid.api import API
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)


class SendGridSingleSends(PlatformClient):
    def _setting(self, key: str) -> str:
        return str(self.integration.secrets.get(key) or "")

    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        kind, _, audience = spec.segment_id.partition(":")  # "list:<id>" or "segment:<id>"
        if not audience:
            kind, audience = "list", spec.segment_id
        send_to = {"list_ids": [audience]} if kind == "list" else {"segment_ids": [audience]}
        email_config = {
            "subject": spec.subject,
            "html_content": spec.html,
            "generate_plain_content": not spec.plain_text,
            "editor": "code",
            "sender_id": int(self._setting("sender_id") or 0),
            "suppression_group_id": int(self._setting("suppression_group_id") or 0),
        }
        if spec.plain_text:
            email_config["plain_content"] = spec.plain_text
        create = {
            "name": spec.remote_name,
            "categories": ["sharpsend"],
            "send_to": send_to,
            "email_config": email_config,
        }
        send_at = (
            spec.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if spec.send_at else "now"
        )
        schedule = {"send_at": send_at}
        path = f"/v3/marketing/singlesends/{remote_id}/schedule"
        return [
            SendStep(
                StepKind.CREATE,
                planned("POST", API, "/v3/marketing/singlesends", create),
                ok=(201,),
            ),
            SendStep(StepKind.SEND, planned("PUT", API, path, schedule), ok=(201,)),
        ]

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        data = self.request("GET", API, f"/v3/marketing/singlesends/{remote_id}").json()
        status = str(data.get("status", ""))
        return RemoteCampaign(remote_id, status, gone_out=status in ("scheduled", "triggered"))

    def find_campaign(self, spec: SendSpec) -> str:
        data = self.request(
            "POST", API, "/v3/marketing/singlesends/search", json={"name": spec.idempotency_key}
        ).json()
        for single_send in data.get("result") or []:
            if single_send.get("name") == spec.remote_name:
                return str(single_send["id"])
        return ""

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = []
        sender_id = self._setting("sender_id")
        if not sender_id:
            problems.append(
                "SendGrid needs a verified sender: set the Sender ID on the integration."
            )
        if not self._setting("suppression_group_id"):
            problems.append(
                "SendGrid needs an unsubscribe group to send: set the Unsubscribe group ID on "
                "the integration."
            )
        if problems:
            return problems
        try:
            sender = self.request("GET", API, f"/v3/marketing/senders/{sender_id}").json()
        except NotFound:
            return [f"SendGrid has no sender {sender_id}: check the Sender ID."]
        if not sender.get("verified"):
            problems.append(f"SendGrid's sender {sender_id} is not verified yet.")
        try:
            self.segment_member_count(spec.segment_id)
        except NotFound:
            problems.append(f"SendGrid has no {spec.segment_id} any more: choose another.")
        return problems
