"""Kit tags as the segments SharpSend pushes (../shared/platforms/kit.md §6; Kit segments are
read-only, so a push is a tag).

- Create: `POST /v4/tags` `{"name"}` → `{"tag":{"id","name","created_at"}}`.
- Members, one call each with an API key (the bulk tagging endpoint needs OAuth and Kit's
  subscriber ids): `POST /v4/tags/{tag_id}/subscribers` `{"email_address"}` tags (200 when
  already tagged, 201 when new; the subscriber must exist), `DELETE` on the same path with the
  same body untags (204). A 422 refuses that subscriber alone; a 404 on untagging means there is
  nothing to remove, on tagging that the tag is gone (the push stops and says so).
Rates: 120 requests a minute per API key, shared with syncs.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import failed_results
from integrations.platforms.errors import NotFound, RateLimited, TransientError, ValidationFailed
from integrations.platforms.kit.api import API, TAG, KitPaging
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember


class KitSegmentPush(KitPaging):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        data = self.request("POST", API, "/v4/tags", json={"name": name}, ok=(200, 201)).json()
        tag = data["tag"]
        return RemoteSegment(f"{TAG}:{tag['id']}", tag.get("name", name), TAG)

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._each(remote_id, "POST", (200, 201), identifiers)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._each(remote_id, "DELETE", (204,), identifiers)

    def _each(self, remote_id: str, method: str, ok, members: Sequence[SegmentMember]):
        path = f"/v4/tags/{remote_id.removeprefix(f'{TAG}:')}/subscribers"
        results: list = []
        for member in members:
            try:
                body = {"email_address": member.identifier}
                self.request(method, API, path, json=body, ok=ok)
            except NotFound:
                if method == "POST":
                    raise
                results.append(MembershipResult(member.key, Outcome.UNCHANGED))
            except ValidationFailed as exc:
                results.append(
                    MembershipResult(
                        member.key,
                        Outcome.REJECTED_DATA,
                        code=exc.code or str(exc.status or ""),
                        message=exc.message,
                        hint="Kit tags only subscribers it has: sync the reader to Kit first.",
                    )
                )
            except (RateLimited, TransientError) as exc:
                results += failed_results([member], exc)
            else:
                results.append(MembershipResult(member.key, Outcome.UPDATED))
        return results
