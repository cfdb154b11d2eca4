"""Braze API-triggered campaigns and Canvases: the message (content and target audience) is made
in the Braze dashboard with API-triggered delivery; the console triggers it, with the
assignment as trigger properties (`{{api_trigger_properties.${subject}}}`) or Canvas entry
properties (`{{context.${subject}}}`).

Facts (../shared/platforms/braze.md §7, §11, §12, §13):
- `POST /campaigns/trigger/send` `{"campaign_id", "send_id", "trigger_properties",
  "broadcast": true}` and `POST /canvas/trigger/send` `{"canvas_id", "context" (≤ 50 KB),
  "broadcast": true}` answer `201 {"dispatch_id", "message": "success"}`; a paused or archived
  Canvas answers success with a `notice` and sends nothing. `broadcast: true` sends to the
  campaign's (Canvas's) own target segment.
- The audience: Braze's send endpoints take the message's own segment (`broadcast`), a
  connected audience (filters on attributes and subscription states) or up to 50 named users;
  none takes a segment id. So a target names no segment: it sends to the audience set on the
  campaign in Braze.
- `POST /sends/id/create` `{"campaign_id", "send_id"}` → `{"message": "success", "send_id"}`
  (100 a day a workspace); its send id is passed in the trigger, so the send's own figures are
  found by it. The send id is the send's idempotency key (ASCII, ≤ 64 characters: Braze's API
  identifier types page), so a send created again after a crash names the same identifier —
  but Braze does not de-duplicate triggers by it: a trigger whose outcome is unknown is never
  repeated (the ledger marks it unknown; trigger-only methods cannot be asked).
- Requests that target a segment (`broadcast`) are limited to 250 a minute; `/campaigns/list`
  and `/canvas/list` page by `page` (from 0), 100 a page (Braze's export pages: `{"campaigns":
  [{"id", "name", "is_api_campaign", …}]}`, `{"canvases": [{"id", "name", …}]}`). Campaigns
  marked `is_api_campaign` are API campaigns (their content is sent with /messages/send), not
  campaigns with API-triggered delivery: the console neither offers nor triggers them.
- Scheduled (Braze's "schedule messages" pages): `POST /campaigns/trigger/schedule/create` and
  `POST /canvas/trigger/schedule/create` take the send call's body plus `"schedule": {"time":
  ISO 8601 UTC}` (`in_local_time`, `at_optimal_time` optional; the console sends the
  assignment's UTC time, so neither) and answer `201 {"dispatch_id", "schedule_id", "message"}`;
  `POST /campaigns/trigger/schedule/delete {"campaign_id", "schedule_id"}` and
  `POST /canvas/trigger/schedule/delete {"canvas_id", "schedule_id"}` take it back. Each is under
  the default 250,000 requests an hour. The schedule id is kept as the send's remote send id.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC

import orjson

from integrations.platforms.base import PlatformClient
from integrations.platforms.braze.api import REST
from integrations.platforms.errors import ValidationFailed
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

CAMPAIGN, CANVAS = "api_triggered_campaign", "api_triggered_canvas"
BROADCAST = "broadcast"  # the rate of a send to a segment (250 a minute)
SEND_IDS = "sends.id.create"  # 100 send ids a day
LISTED_PER_PAGE = 100
MAX_CANVAS_CONTEXT = 50_000  # bytes of Canvas entry properties


class BrazeCampaigns(PlatformClient):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        if spec.method == CANVAS:
            body = {
                "canvas_id": spec.remote_campaign_id,
                "context": spec.trigger_data(),
                "broadcast": True,
            }
            return [SendStep(StepKind.SEND, _trigger("canvas", body, spec), ok=(200, 201))]
        send_id = {"campaign_id": spec.remote_campaign_id, "send_id": spec.idempotency_key}
        body = {
            "campaign_id": spec.remote_campaign_id,
            "send_id": remote_id,
            "trigger_properties": spec.trigger_data(),
            "broadcast": True,
        }
        return [
            SendStep(
                StepKind.CREATE,
                planned("POST", REST, "/sends/id/create", send_id, rate=SEND_IDS),
                ok=(200, 201),
            ),
            SendStep(StepKind.SEND, _trigger("campaigns", body, spec), ok=(200, 201)),
        ]

    def read_created(self, response) -> str:
        return str(response.json()["send_id"])

    def plan_unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str):
        kind, key = (
            ("canvas", "canvas_id") if spec.method == CANVAS else ("campaigns", "campaign_id")
        )
        body = {key: spec.remote_campaign_id, "schedule_id": remote_send_id}
        path = f"/{kind}/trigger/schedule/delete"
        return [SendStep(StepKind.SEND, planned("POST", REST, path, body), ok=(200, 201))]

    def read_sent(self, response) -> str:
        data = response.json()
        if data.get("notice"):
            # A paused or archived Canvas: Braze accepted the call and sent nothing.
            raise ValidationFailed(f"Braze accepted the trigger but sent nothing: {data['notice']}")
        # A scheduled trigger's schedule id is what takes it back (plan_unschedule).
        return str(data.get("schedule_id") or data.get("dispatch_id") or "")

    def trigger_choices(self, method: str) -> list[tuple[str, str]]:
        if method == CANVAS:
            return [
                (str(c["id"]), c.get("name", "")) for c in self._listed("/canvas/list", "canvases")
            ]
        if method == CAMPAIGN:
            return [
                (str(c["id"]), c.get("name", ""))
                for c in self._listed("/campaigns/list", "campaigns")
                if not c.get("is_api_campaign")
            ]
        return []

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = []
        if spec.segment_id:
            problems.append(
                "Braze triggers go to the audience set on the campaign or Canvas in Braze; its "
                "API cannot narrow them to a segment: choose no segment for this target."
            )
        if spec.method == CANVAS:
            size = len(orjson.dumps(spec.trigger_data()))
            if size > MAX_CANVAS_CONTEXT:
                problems.append(
                    f"The Canvas entry properties are {size:,} bytes; Braze takes at most "
                    f"{MAX_CANVAS_CONTEXT:,}."
                )
            if not any(
                str(c["id"]) == spec.remote_campaign_id
                for c in self._listed("/canvas/list", "canvases")
            ):
                problems.append(
                    f"Braze has no Canvas {spec.remote_campaign_id} in this workspace (make it "
                    "in Braze with API-triggered entry)."
                )
            return problems
        found = next(
            (
                c
                for c in self._listed("/campaigns/list", "campaigns")
                if str(c["id"]) == spec.remote_campaign_id
            ),
            None,
        )
        if found is None:
            problems.append(
                f"Braze has no campaign {spec.remote_campaign_id} in this workspace (make it in "
                "Braze with API-triggered delivery)."
            )
        elif found.get("is_api_campaign"):
            problems.append(
                f"Braze campaign {spec.remote_campaign_id} is an API campaign (its content is "
                "sent with each request); trigger a campaign made with API-triggered delivery."
            )
        return problems

    def _listed(self, path: str, key: str) -> Iterator[dict]:
        """Every campaign or Canvas (not archived), a page of 100 at a time."""
        page = 0
        while True:
            items = self.request("GET", REST, path, params={"page": page}).json().get(key) or []
            yield from items
            if len(items) < LISTED_PER_PAGE:
                return
            page += 1


def _trigger(kind: str, body: dict, spec: SendSpec):
    """The trigger call now (`/{kind}/trigger/send`), or scheduled for `spec.send_at`."""
    if spec.send_at is None:
        return planned("POST", REST, f"/{kind}/trigger/send", body, rate=BROADCAST)
    at = spec.send_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    scheduled = {**body, "schedule": {"time": at}}
    return planned("POST", REST, f"/{kind}/trigger/schedule/create", scheduled)
