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

A test send: SendGrid's test endpoint sends a dynamic transactional template, not a Single
Send (§7; tsg_mc_test_v3.json), so the test's content (the same fields as the Single Send's
email_config) becomes a dynamic template of its own: `POST /v3/templates {"name" ≤100,
"generation": "dynamic"}` → 201 `{id}`, `POST /v3/templates/{id}/versions {"name", "active": 1,
"subject", "html_content", "plain_content", "generate_plain_content", "editor"}` → 201,
`POST /v3/marketing/test/send_email {"template_id", "emails" (1–10), "sender_id",
"suppression_group_id"}` → 202, then `DELETE /v3/templates/{id}` → 204 (twilio/sendgrid-oai
spec/json/tsg_templates_v3.json: CreateTemplate, CreateTemplateVersion, DeleteTemplate). The
preview text, which a Single Send carries in its HTML, is not a template field either.
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


def _content(spec: SendSpec) -> dict:
    """The subject, HTML and plain text as a Single Send's email_config and a dynamic
    template's version both take them (the same field names)."""
    content = {
        "subject": spec.subject,
        "html_content": spec.html,
        "generate_plain_content": not spec.plain_text,
        "editor": "code",
    }
    if spec.plain_text:
        content["plain_content"] = spec.plain_text
    return content


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
            **_content(spec),
            "sender_id": int(self._setting("sender_id") or 0),
            "suppression_group_id": int(self._setting("suppression_group_id") or 0),
        }
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

    def plan_unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str):
        # tsg_mc_singlesends_v3.json `DeleteScheduledSingleSend`: `DELETE .../{id}/schedule`
        # → 200, the Single Send a draft again (not deleted).
        path = f"/v3/marketing/singlesends/{remote_id}/schedule"
        return [SendStep(StepKind.SEND, planned("DELETE", API, path))]

    # --- test sends: the content as a dynamic template of its own, tested, then deleted ------

    def plan_test_draft(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        template = {"name": spec.remote_name, "generation": "dynamic"}
        version = {"name": spec.remote_name, "active": 1, **_content(spec)}
        return [
            SendStep(StepKind.CREATE, planned("POST", API, "/v3/templates", template), ok=(201,)),
            SendStep(
                StepKind.CONTENT,
                planned("POST", API, f"/v3/templates/{remote_id}/versions", version),
                ok=(201,),
            ),
        ]

    def plan_test_send(self, spec: SendSpec, remote_id: str, emails) -> list[SendStep]:
        body = {
            "template_id": remote_id,
            "emails": list(emails),
            "sender_id": int(self._setting("sender_id") or 0),
            "suppression_group_id": int(self._setting("suppression_group_id") or 0),
        }
        path = "/v3/marketing/test/send_email"
        return [SendStep(StepKind.SEND, planned("POST", API, path, body), ok=(202,))]

    def plan_discard(self, remote_id: str) -> list[SendStep]:
        path = f"/v3/templates/{remote_id}"
        return [SendStep(StepKind.CONTENT, planned("DELETE", API, path), ok=(204,))]

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
