"""Customer.io manual segments as the segments SharpSend pushes
(../shared/platforms/customerio.md §6).

- Create: App API `POST /v1/segments` `{"segment":{"name","description"}}` → `{"segment":{"id",…}}`,
  an empty manual segment (data-driven segments cannot be created through the API).
- Members: Track API `POST /api/v1/segments/{id}/add_customers?id_type=email` and
  `…/remove_customers?id_type=email` with `{"ids":[emails]}`, at most 1,000 a call. The answer
  carries no per-person result, so every member of an accepted call is taken as changed.
  Customer.io's docs say remove_customers needs people to have an `id`: a person known by email
  only may stay in the segment (fact sheet §14.9); the console sends emails, the identifier it
  syncs people by.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP, TRACK
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember


class CustomerIoSegmentPush(PlatformClient):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        segment = {"name": name, "description": description} if description else {"name": name}
        data = self.request("POST", APP, "/v1/segments", json={"segment": segment}).json()
        created = data["segment"]
        return RemoteSegment(str(created["id"]), created.get("name", name), "manual")

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change(remote_id, "add_customers", identifiers)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change(remote_id, "remove_customers", identifiers)

    def _change(self, remote_id: str, verb: str, members: Sequence[SegmentMember]):
        self.request(
            "POST",
            TRACK,
            f"/api/v1/segments/{remote_id}/{verb}",
            params={"id_type": "email"},
            json={"ids": [m.identifier for m in members]},
        )
        return [MembershipResult(m.key, Outcome.UPDATED) for m in members]
