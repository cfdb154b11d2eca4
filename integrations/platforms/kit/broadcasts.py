"""Kit broadcasts: one call creates the broadcast with its send time, which schedules it.

Facts (../shared/platforms/kit.md §7): `POST /v4/broadcasts` `{subject, preview_text, content,
description (internal), public, send_at, subscriber_filter: [{"all": [{"type": "segment" |
"tag", "ids": [...]}], "any": null, "none": null}]}`; `send_at: null` is a draft and a time
schedules it; there is no "send now" call, so an immediate send is scheduled a little ahead
(SEND_NOW_LEAD). `GET /v4/broadcasts/{id}` returns the broadcast. The create is the send, so
it is the SEND step; a rerun after a crash in it finds the broadcast by its description,
which carries the idempotency key, and does not create it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from integrations import clock
from integrations.platforms.errors import NotFound
from integrations.platforms.kit.api import API, KitPaging
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

SEND_NOW_LEAD = timedelta(minutes=2)


def send_at(spec: SendSpec) -> str:
    at = spec.send_at or datetime.fromtimestamp(clock.now(), UTC) + SEND_NOW_LEAD
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class KitBroadcasts(KitPaging):
    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        kind, _, number = spec.segment_id.partition(":")  # "segment:<id>" or "tag:<id>"
        body = {
            "subject": spec.subject,
            "preview_text": spec.preview_text,
            "content": spec.html or spec.plain_text,
            "description": spec.remote_name,
            "public": False,
            "send_at": send_at(spec),
            "subscriber_filter": [
                {"all": [{"type": kind, "ids": [int(number)]}], "any": None, "none": None}
            ],
        }
        return [
            SendStep(StepKind.SEND, planned("POST", API, "/v4/broadcasts", body), ok=(200, 201))
        ]

    def read_sent(self, response) -> str:
        return str(response.json()["broadcast"]["id"])

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        broadcast = self.request("GET", API, f"/v4/broadcasts/{remote_id}").json()["broadcast"]
        scheduled = bool(broadcast.get("send_at"))
        return RemoteCampaign(remote_id, "scheduled" if scheduled else "draft", scheduled)

    def find_campaign(self, spec: SendSpec) -> str:
        for broadcast in self._pages("/v4/broadcasts", "broadcasts"):
            if broadcast.get("description") == spec.remote_name:
                return str(broadcast["id"])
        return ""

    def remote_problems(self, spec: SendSpec) -> list[str]:
        kind, _, number = spec.segment_id.partition(":")
        if kind not in ("segment", "tag") or not number.isdigit():
            return [f"Kit sends to a segment or a tag; '{spec.segment_id}' is neither."]
        try:
            self.segment_member_count(spec.segment_id)
        except NotFound:
            return [f"Kit has no {kind} {number} any more: choose another."]
        return []
