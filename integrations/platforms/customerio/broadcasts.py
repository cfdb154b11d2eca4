"""Customer.io API-triggered broadcasts: the broadcast (content and default audience) is made
in Customer.io's UI; the console triggers it for a segment, with the assignment as trigger
data (`{{trigger.subject}}` and so on in the broadcast's Liquid).

Facts (../shared/platforms/customerio.md §7, §11): `POST /v1/campaigns/{broadcast_id}/triggers`
on the App API (Bearer) with `{"recipients": {"segment": {"id": N}}, "data": {...}}` answers
`200 {"id": <trigger_id>}`; 1 request per 10 s per workspace; `GET /v1/broadcasts` lists the
broadcasts. Customer.io takes no idempotency key and a trigger cannot be looked up by our key,
so an attempt whose outcome is unknown is never repeated (the ledger marks it unknown).
"""

from __future__ import annotations

from collections.abc import Mapping

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP
from integrations.platforms.errors import NotFound
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

BROADCAST_TRIGGER = "broadcast_trigger"  # the rate of the trigger endpoint


def trigger_data(spec: SendSpec) -> dict:
    """What the broadcast's Liquid reads as {{trigger.<key>}}."""
    return {
        "sharpsend_send": spec.idempotency_key,
        "title": spec.name,
        "subject": spec.subject,
        "preview_text": spec.preview_text,
        "from_name": spec.from_name,
        "html": spec.html,
        "plain_text": spec.plain_text,
        **spec.data,
    }


class CustomerIoBroadcasts(PlatformClient):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        body: dict = {"data": trigger_data(spec)}
        if spec.segment_id:
            body = {"recipients": {"segment": {"id": int(spec.segment_id)}}, **body}
        path = f"/v1/campaigns/{spec.remote_campaign_id}/triggers"
        return [SendStep(StepKind.SEND, planned("POST", APP, path, body, rate=BROADCAST_TRIGGER))]

    def read_sent(self, response) -> str:
        return str(response.json()["id"])

    def _broadcasts(self) -> list[dict]:
        return self.request("GET", APP, "/v1/broadcasts").json().get("broadcasts") or []

    def trigger_choices(self, method: str) -> list[tuple[str, str]]:
        return [(str(b["id"]), b.get("name") or f"Broadcast {b['id']}") for b in self._broadcasts()]

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = []
        method = self.send_method(spec.method)
        if method.trigger_only and not any(
            str(b.get("id")) == spec.remote_campaign_id for b in self._broadcasts()
        ):
            problems.append(
                f"Customer.io has no broadcast {spec.remote_campaign_id} in this workspace "
                "(make it in Customer.io as an API-triggered broadcast)."
            )
        if spec.segment_id:
            try:
                self.segment_member_count(spec.segment_id)
            except NotFound:
                problems.append(
                    f"Customer.io has no segment {spec.segment_id} any more: choose another."
                )
        return problems
