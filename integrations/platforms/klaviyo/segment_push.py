"""Klaviyo lists as the static segments SharpSend pushes (../shared/platforms/klaviyo.md §6).

- Create: `POST /api/lists` `{"data":{"type":"list","attributes":{"name":…}}}` → 201 with the
  list (10/s, 150/m, 150 a day).
- Members: `POST` / `DELETE /api/lists/{id}/relationships/profiles` with
  `{"data":[{"type":"profile","id":…}]}`, at most 1,000 profile ids a call, 204; membership
  only (consent is untouched); 10/s, 150/m.
- Klaviyo takes profile ids, not emails: the ids are read with
  `GET /api/profiles?filter=any(email,[…])` (100 a page). A reader with no Klaviyo profile yet is
  refused (sync contacts first); the id is kept with the membership, so a remove looks up no one.

Klaviyo *segments* cannot take members (they follow their definition), so a push is a list.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.klaviyo.api import API, next_cursor
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember

LOOKUP_PAGE = 100  # GET /api/profiles takes at most 100 a page


def _quoted(email: str) -> str:
    return '"' + email.replace("\\", "\\\\").replace('"', '\\"') + '"'


class KlaviyoSegmentPush(PlatformClient):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        body = {"data": {"type": "list", "attributes": {"name": name}}}
        data = self.request(
            "POST", API, "/api/lists", json=body, ok=(201,), rate="list_create"
        ).json()
        created = data["data"]
        return RemoteSegment(
            f"list:{created['id']}", created["attributes"].get("name", name), "list"
        )

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        ids = self._profile_ids([m for m in identifiers if not m.remote_key])
        results, known = [], []
        for member in identifiers:
            profile = member.remote_key or ids.get(member.identifier.lower())
            if profile:
                known.append((member, profile))
            else:
                results.append(
                    MembershipResult(
                        member.key,
                        Outcome.REJECTED_DATA,
                        code="profile_not_found",
                        message=f"Klaviyo has no profile with the email {member.identifier}.",
                        hint="Sync the reader to Klaviyo first; the next push adds them.",
                    )
                )
        if known:
            self._members("POST", remote_id, [profile for _, profile in known])
            results += [MembershipResult(m.key, Outcome.UPDATED, remote_key=p) for m, p in known]
        return results

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        ids = self._profile_ids([m for m in identifiers if not m.remote_key])
        results, known = [], []
        for member in identifiers:
            profile = member.remote_key or ids.get(member.identifier.lower())
            if profile:
                known.append((member, profile))
            else:  # no profile, so in no list: nothing to remove
                results.append(MembershipResult(member.key, Outcome.UNCHANGED))
        if known:
            self._members("DELETE", remote_id, [profile for _, profile in known])
            results += [MembershipResult(m.key, Outcome.UPDATED, remote_key=p) for m, p in known]
        return results

    def _members(self, method: str, remote_id: str, profile_ids: list[str]) -> None:
        list_id = remote_id.removeprefix("list:")
        body = {"data": [{"type": "profile", "id": profile_id} for profile_id in profile_ids]}
        self.request(
            method,
            API,
            f"/api/lists/{list_id}/relationships/profiles",
            json=body,
            ok=(204,),
            rate="list_members",
        )

    def _profile_ids(self, members: Sequence[SegmentMember]) -> dict[str, str]:
        """Lower-cased email → Klaviyo profile id, for those of `members` Klaviyo has."""
        found: dict[str, str] = {}
        emails = sorted({m.identifier.lower() for m in members if m.identifier})
        for start in range(0, len(emails), LOOKUP_PAGE):
            chunk = emails[start : start + LOOKUP_PAGE]
            params = {
                "filter": f"any(email,[{','.join(_quoted(e) for e in chunk)}])",
                "fields[profile]": "email",
                "page[size]": LOOKUP_PAGE,
            }
            while True:
                data = self.request("GET", API, "/api/profiles", params=params).json()
                for item in data.get("data", []):
                    email = (item.get("attributes") or {}).get("email") or ""
                    found[email.lower()] = item["id"]
                cursor = next_cursor((data.get("links") or {}).get("next"))
                if not cursor:
                    break
                params = {**params, "page[cursor]": cursor}
        return found
