"""Mailchimp tags (static segments) as the segments SharpSend pushes
(../shared/platforms/mailchimp.md §6).

- Create: `POST /3.0/lists/{list_id}/segments` `{"name": …, "static_segment": []}` (an empty
  static segment, that is a tag; name and static_segment only, never `options`).
- Members: `POST /3.0/lists/{list_id}/segments/{segment_id}` with `{"members_to_add": [emails]}`
  or `{"members_to_remove": [emails]}`, at most 500 each, answered with `members_added` /
  `members_removed` (member objects with `email_address`) and `errors` (`email_addresses`,
  `error`). Mailchimp ignores an email that is not in the audience: such a member is
  reported back as refused (sync the reader to the audience first), never as added.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import API
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember

MEMBERS_MAX = 500


class MailchimpSegmentPush(PlatformClient):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        body = {"name": name, "static_segment": []}
        data = self.request("POST", API, f"{self.list_path}/segments", json=body).json()
        return RemoteSegment(str(data["id"]), data.get("name", name), data.get("type", "static"))

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change(remote_id, "members_to_add", "members_added", identifiers)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change(remote_id, "members_to_remove", "members_removed", identifiers)

    def _change(self, remote_id: str, field: str, answer: str, members: Sequence[SegmentMember]):
        body = {field: [m.identifier for m in members]}
        data = self.request("POST", API, f"{self.list_path}/segments/{remote_id}", json=body).json()
        done = {str(m.get("email_address", "")).lower() for m in data.get(answer) or []}
        refused: dict[str, str] = {}
        for error in data.get("errors") or []:
            for email in error.get("email_addresses") or []:
                refused[str(email).lower()] = str(error.get("error") or "Refused by Mailchimp.")
        results = []
        for member in members:
            email = member.identifier.lower()
            if email in done:
                results.append(MembershipResult(member.key, Outcome.UPDATED))
            elif email in refused:
                results.append(
                    MembershipResult(member.key, Outcome.REJECTED_DATA, code="segment_error",
                                     message=refused[email])
                )  # fmt: skip
            elif field == "members_to_remove":  # not in the audience, so not in the tag
                results.append(MembershipResult(member.key, Outcome.UNCHANGED))
            else:
                results.append(
                    MembershipResult(
                        member.key,
                        Outcome.REJECTED_DATA,
                        code="not_in_audience",
                        message=f"{member.identifier} is not in the Mailchimp audience, so "
                        "Mailchimp ignored it.",
                        hint="Sync the reader to Mailchimp first; the next push adds them.",
                    )
                )
        return results
