"""Iterable sends: a blast campaign made from the assignment (its content in a template of its
own), or a triggered campaign or journey made in Iterable, triggered for a list.

Facts (../shared/platforms/iterable.md §7, §11, §12, §14; specs/iterable/api-docs.json):
- A campaign is created from an existing template: `POST /api/campaigns/create` `{"name",
  "templateId", "listIds", "suppressionListIds", "sendAt" (UTC "YYYY-MM-DD HH:MM:SS", ≤ 21
  days ahead), "scheduleSend"}` → `{"campaignId"}`; with `listIds` it is a blast, scheduled
  (now, or at `sendAt`) by the create itself, so the create is the SEND step. Global
  suppression lists are not added by Iterable: the lists whose `listType` is `Suppression` and
  `isGlobalSuppressionEnabled` true (`GET /api/lists`) are passed in `suppressionListIds`.
- The template: `POST /api/templates/email/upsert` (`clientTemplateId` required; creates it or
  updates the templates with that id: repeating it is harmless) answers no id, so
  `GET /api/templates/getByClientTemplateId?clientTemplateId=` reads it. The client template
  id is the send's idempotency key.
- A rerun after a crash in the create finds the campaign by its name (`GET /api/campaigns`,
  `sort=-createdAt`, up to 1,000 a page; the name carries the idempotency key) and asks its
  state (`GET /api/campaigns/{id}`, `campaignState`): past Draft and Ready it went out. One
  found not yet gone out is sent (`POST /api/campaigns/{id}/send`) or scheduled
  (`.../schedule` `{"sendAt"}`, ISO 8601) instead of being made again.
- Triggers: `POST /api/campaigns/trigger` `{"campaignId", "listIds", "suppressionListIds",
  "dataFields"}` (a triggered campaign; the global suppression lists are passed too) and
  `POST /api/workflows/triggerWorkflow` `{"workflowId", "listId", "dataFields"}` (a journey;
  the start tile's suppression list applies) answer `{"code", "msg"}`: no id to look up, so a
  trigger whose outcome is unknown is never repeated. Journeys are listed by
  `GET /api/journeys` (50 a page), campaigns by `GET /api/campaigns` (`type` Blast|Triggered).
- Ids are integers (campaign, template, list, journey).
- A test send of a blast: its content in a template of its own (the blast's own template
  steps, under the test's key), `POST /api/templates/email/proof {"templateId",
  "recipientEmail"}` once per tester (one recipient a call; 20 a second per key), then
  `POST /api/templates/bulkDelete {"ids": [templateId]}` (specs: emailProof, bulk delete
  templates). No campaign is made, so nothing goes to the list. Iterable's description says
  the recipient email "identifies a user profile": a tester without a profile in the project
  may be refused.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta

from integrations import clock
from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.iterable.api import API
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

BLAST, TRIGGERED, JOURNEY = "blast_campaign", "triggered_campaign", "journey"
NOT_GONE_OUT = ("Draft", "Ready")
MAX_SCHEDULE_AHEAD = timedelta(days=21)
CAMPAIGNS_PER_PAGE, JOURNEYS_PER_PAGE = 1000, 50
PROOF_RATE = "templates.proof"  # 20 requests a second per key (specs: emailProof)


def _number(text: str) -> int | str:
    """An id as Iterable takes it (an integer); left as it is when it is not one (a plan
    shows it; the pre-flight refuses it)."""
    return int(text) if text.isdigit() else text


def _numbers(joined: str | None, placeholder: str) -> list:
    if joined is None:
        return [placeholder]
    return [int(n) for n in joined.split(",") if n]


def global_suppression_lists(lists: list[dict]) -> list[int]:
    return [
        int(item["id"])
        for item in lists
        if item.get("listType") == "Suppression" and item.get("isGlobalSuppressionEnabled")
    ]


class IterableCampaigns(PlatformClient):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        suppressed = _numbers(values.get("suppression_list_ids"), "{suppression_list_ids}")
        lists = SendStep(
            StepKind.CHECK, planned("GET", API, "/api/lists"), provides="suppression_list_ids"
        )
        if spec.method == JOURNEY:
            body = {
                "workflowId": _number(spec.remote_campaign_id),
                "listId": _number(spec.segment_id),
                "dataFields": spec.trigger_data(),
            }
            return [
                SendStep(
                    StepKind.SEND, planned("POST", API, "/api/workflows/triggerWorkflow", body)
                )
            ]
        if spec.method == TRIGGERED:
            body = {
                "campaignId": _number(spec.remote_campaign_id),
                "listIds": [_number(spec.segment_id)],
                "dataFields": spec.trigger_data(),
            }
            if suppressed:
                body["suppressionListIds"] = suppressed
            return [
                lists,
                SendStep(StepKind.SEND, planned("POST", API, "/api/campaigns/trigger", body)),
            ]
        if remote_id != PENDING_ID:
            return [SendStep(StepKind.SEND, self._send_existing(spec, remote_id))]
        create = {
            "name": spec.remote_name,
            "templateId": _number(values.get("template_id", "{template_id}")),
            "listIds": [_number(spec.segment_id)],
            "scheduleSend": True,
        }
        if suppressed:
            create["suppressionListIds"] = suppressed
        if spec.send_at:
            create["sendAt"] = spec.send_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        return [
            *self._template_steps(spec),
            lists,
            SendStep(StepKind.SEND, planned("POST", API, "/api/campaigns/create", create)),
        ]

    def _template_steps(self, spec: SendSpec) -> list[SendStep]:
        """The spec's content as a template of its own (client template id = its key), and
        the read of that template's id."""
        template = {"clientTemplateId": spec.idempotency_key, "name": spec.remote_name}
        template["subject"] = spec.subject
        for key, value in (
            ("preheaderText", spec.preview_text),
            ("html", spec.html),
            ("plainText", spec.plain_text),
            ("fromName", spec.from_name),
            ("replyToEmail", spec.reply_to),
        ):
            if value:
                template[key] = value
        by_key = {"clientTemplateId": spec.idempotency_key}
        return [
            SendStep(
                StepKind.CONTENT, planned("POST", API, "/api/templates/email/upsert", template)
            ),
            SendStep(
                StepKind.CHECK,
                planned("GET", API, "/api/templates/getByClientTemplateId", params=by_key),
                provides="template_id",
            ),
        ]

    # --- test sends: a blast's template of its own, proofed to each tester, then deleted -----

    def plan_test_draft(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        if spec.method != BLAST:  # trigger-only methods are refused before (test_send_problem)
            raise ValidationFailed(f"An Iterable {spec.method} has no content to test.")
        return self._template_steps(spec)

    def test_draft_id(self, remote_id: str, values: Mapping[str, str]) -> str:
        return values.get("template_id", "")

    def plan_test_send(self, spec: SendSpec, remote_id: str, emails) -> list[SendStep]:
        # One recipient per proof (TemplateProofRequest: a recipientEmail or a recipientUserId).
        return [
            SendStep(
                StepKind.SEND,
                planned(
                    "POST",
                    API,
                    "/api/templates/email/proof",
                    {"templateId": _number(remote_id), "recipientEmail": email},
                    rate=PROOF_RATE,
                ),
            )
            for email in emails
        ]

    def plan_discard(self, remote_id: str) -> list[SendStep]:
        body = {"ids": [_number(remote_id)]}
        return [SendStep(StepKind.CONTENT, planned("POST", API, "/api/templates/bulkDelete", body))]

    def _send_existing(self, spec: SendSpec, remote_id: str):
        """A campaign an interrupted attempt created that has not gone out: send it now or
        schedule it (the create would make a second one)."""
        if spec.send_at is None:
            return planned("POST", API, f"/api/campaigns/{remote_id}/send")
        at = spec.send_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
        return planned("POST", API, f"/api/campaigns/{remote_id}/schedule", {"sendAt": at})

    def check_step(self, step: SendStep, response) -> None:
        if step.provides == "template_id" and not response.json().get("templates"):
            raise ValidationFailed(
                "Iterable kept no template for this send (getByClientTemplateId found none)."
            )

    def read_value(self, step: SendStep, response) -> str:
        data = response.json()
        if step.provides == "template_id":
            return str(data["templates"][0]["templateId"])
        return ",".join(str(n) for n in global_suppression_lists(data.get("lists") or []))

    def read_sent(self, response) -> str:
        campaign_id = response.json().get("campaignId")
        return "" if campaign_id is None else str(campaign_id)

    def plan_unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str):
        # Fact sheet §7 and api-docs.json `cancel campaign`: `POST /api/campaigns/cancel
        # {"campaignId"}` cancels a scheduled blast.
        body = {"campaignId": _number(remote_id)}
        return [SendStep(StepKind.SEND, planned("POST", API, "/api/campaigns/cancel", body))]

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        data = self.request("GET", API, f"/api/campaigns/{remote_id}").json()
        state = str(data.get("campaignState", ""))
        return RemoteCampaign(remote_id, state, gone_out=state not in NOT_GONE_OUT)

    def find_campaign(self, spec: SendSpec) -> str:
        if spec.method != BLAST:
            return ""
        params = {"page": 1, "pageSize": CAMPAIGNS_PER_PAGE, "sort": "-createdAt"}
        data = self.request("GET", API, "/api/campaigns", params=params).json()
        for campaign in data.get("campaigns") or []:
            if campaign.get("name") == spec.remote_name:
                return str(campaign["id"])
        return ""

    def trigger_choices(self, method: str) -> list[tuple[str, str]]:
        if method == TRIGGERED:
            return [
                (str(c["id"]), c.get("name", ""))
                for c in self._pages("/api/campaigns", "campaigns", CAMPAIGNS_PER_PAGE)
                if c.get("type") == "Triggered" and c.get("campaignState") != "Archived"
            ]
        if method == JOURNEY:
            return [
                (str(j["id"]), j.get("name", ""))
                for j in self._pages("/api/journeys", "journeys", JOURNEYS_PER_PAGE)
                if j.get("enabled", True)
            ]
        return []

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = self._list_problems(spec.segment_id)
        declared = self.send_method(spec.method)
        if declared is not None and declared.per_reader:
            return problems  # the events name the readers (journeys.py), no campaign
        if spec.method == BLAST:
            if spec.send_at is not None:
                now = datetime.fromtimestamp(clock.now(), UTC)
                if spec.send_at - now > MAX_SCHEDULE_AHEAD:
                    problems.append("Iterable schedules a campaign at most 21 days ahead.")
            return problems
        if not spec.remote_campaign_id.isdigit():
            what = "journey" if spec.method == JOURNEY else "campaign"
            return [
                *problems,
                f"An Iterable {what} id is a number, not '{spec.remote_campaign_id}'.",
            ]
        if spec.method == JOURNEY:
            return problems + self._journey_problems(spec.remote_campaign_id)
        try:
            campaign = self.request("GET", API, f"/api/campaigns/{spec.remote_campaign_id}").json()
        except NotFound:
            return [
                *problems,
                f"Iterable has no campaign {spec.remote_campaign_id} in this project (make it "
                "in Iterable as a triggered campaign).",
            ]
        if campaign.get("type") != "Triggered":
            problems.append(
                f"Iterable campaign {spec.remote_campaign_id} is a {campaign.get('type')} "
                "campaign, not a triggered one."
            )
        elif campaign.get("campaignState") == "Archived":
            problems.append(f"Iterable campaign {spec.remote_campaign_id} is archived.")
        return problems

    def _list_problems(self, segment_id: str) -> list[str]:
        if not segment_id.isdigit():
            return [f"An Iterable list id is a number, not '{segment_id}'."]
        lists = self.request("GET", API, "/api/lists").json().get("lists") or []
        found = next((item for item in lists if str(item.get("id")) == segment_id), None)
        if found is None:
            return [f"Iterable has no list {segment_id} any more: choose another."]
        if found.get("listType") == "Suppression":
            return [f"Iterable list {segment_id} is a suppression list: choose another."]
        return []

    def _journey_problems(self, journey_id: str) -> list[str]:
        for journey in self._pages("/api/journeys", "journeys", JOURNEYS_PER_PAGE):
            if str(journey.get("id")) == journey_id:
                if journey.get("enabled") is False:
                    return [f"Iterable journey {journey_id} does not accept new entrances."]
                return []
        return [f"Iterable has no journey {journey_id} in this project (or it is archived)."]

    def _pages(self, path: str, key: str, size: int) -> Iterator[dict]:
        page = 1
        while True:
            data = self.request("GET", API, path, params={"page": page, "pageSize": size}).json()
            items = data.get(key) or []
            yield from items
            if len(items) < size or not data.get("nextPageUrl"):
                return
            page += 1
