"""Iterable static lists as the segments SharpSend pushes (../shared/platforms/iterable.md §6).

- Create: `POST /api/lists` `{"name","description"}` → `{"listId":123}` (static lists only:
  dynamic lists cannot be created through the API).
- Add: `POST /api/lists/subscribe` `{"listId","subscribers":[{"email"}],
  "updateExistingUsersOnly":false}`; remove: `POST /api/lists/unsubscribe`
  `{"listId","subscribers":[{"email"}],"channelUnsubscribe":false}` (never true: that would
  unsubscribe the reader from the channel). Both answer like bulkUpdate (counts and
  failedUpdates). No documented count limit: batches of 1,000, well under the 4 MB body limit.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API
from integrations.platforms.iterable.contacts import _key, failures_in
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember


class IterableSegmentPush(PlatformClient):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        body = {"name": name, "description": description} if description else {"name": name}
        data = self.request("POST", API, "/api/lists", json=body).json()
        return RemoteSegment(str(data["listId"]), name, "Standard")

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        body = {
            "listId": int(remote_id),
            "subscribers": [{"email": m.identifier} for m in identifiers],
            "updateExistingUsersOnly": False,
        }
        return self._results("/api/lists/subscribe", body, identifiers)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        body = {
            "listId": int(remote_id),
            "subscribers": [{"email": m.identifier} for m in identifiers],
            "channelUnsubscribe": False,
        }
        return self._results("/api/lists/unsubscribe", body, identifiers)

    def _results(self, path: str, body: dict, members: Sequence[SegmentMember]):
        failures = failures_in(self.request("POST", API, path, json=body).json())
        results = []
        for member in members:
            failure = failures.get(_key("email", member.identifier))
            if failure:
                outcome, code, hint, name = failure
                results.append(
                    MembershipResult(
                        member.key, outcome, code=code, message=f"In {name}.", hint=hint
                    )
                )
            else:
                results.append(MembershipResult(member.key, Outcome.UPDATED))
        return results
