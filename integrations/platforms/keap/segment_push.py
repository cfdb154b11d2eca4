"""Keap tags as the static segments SharpSend pushes (../shared/platforms/keap.md §6, §11, §12;
swagger.yml `createTag`, `applyTags`, `removeTags`, `listContacts`).

- Create: `POST /crm/rest/v2/tags {"name", "description"}` → 201 with the Tag (its `id` is a
  string). Keap keeps at most 255 characters of a name.
- Apply: `POST /crm/rest/v2/tags/{tag_id}/contacts:applyTags {"contact_ids": [...]}` → 200
  `{"results": {"<contact id>": "<status>"}}`, one status a contact. The spec types the
  status as a string and enumerates no values; its sibling maps (a sequence's
  addContacts/removeContacts results) use SUCCESS, ALREADY_IN_SEQUENCE, CONTACT_DOES_NOT_EXIST
  and FAILED, so SUCCESS and ALREADY_* count as applied, a status saying the contact does not
  exist (or is not found) is refused "not in Keap: sync first", and anything else is an
  unknown outcome tried again next push.
- Remove: `POST .../contacts:removeTags` (same body) → 204, no per-contact answer.
- Keap tags contact ids, not emails: each member added is looked up by email with
  `GET /contacts?filter=email==…&fields=id,email_addresses` (one call an address: the filter
  takes one value; page_size ≤ 1,000, 100 asked). Email is not unique in Keap; when it holds
  several contacts with the address, the oldest (lowest id) is tagged, one contact a reader.
  A reader Keap does not hold is refused, never created: sync them first. The id is kept with
  the membership (`remote_key`), so a remove looks up no one.
- Batch: the spec and the fact sheet give no maximum for `contact_ids`; 100 is ours (a batch
  is also 100 look-ups, so this is the per-batch checkpoint a resume starts from).
Rates: the client's, shared with syncs and sends (1,500 calls a minute for the console's
OAuth app across every Keap account, paced by Keap's quota headers: connection.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember

TAG_NAME_MAX = 255  # CreateUpdateTagRequest.name: "up to 255 characters will be saved"
LOOKUP_PAGE = 100
APPLIED = "SUCCESS"
NOT_IN_KEAP_HINT = "Not in Keap: sync the reader to Keap first; the next push adds them."


def _applied(status: str) -> bool:
    return status == APPLIED or status.startswith("ALREADY")


def _missing(status: str) -> bool:
    return "NOT_EXIST" in status or "NOT_FOUND" in status


class KeapSegmentPush(PlatformClient):
    """A tag per pushed segment: created once, applied and removed by contact id."""

    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        body = {"name": name[:TAG_NAME_MAX], "description": description or ""}
        created = self.call("POST", "/tags", json=body, ok=(200, 201)).json()
        return RemoteSegment(str(created["id"]), created.get("name") or body["name"], "tag")

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        results, known = [], []
        for member in identifiers:
            contact_id = member.remote_key or self._contact_id(member.identifier)
            if contact_id:
                known.append((member, contact_id))
            else:
                results.append(self._not_in_keap(member))
        if not known:
            return results
        ids = list(dict.fromkeys(contact_id for _, contact_id in known))
        answer = self.call(
            "POST", f"/tags/{remote_id}/contacts:applyTags", json={"contact_ids": ids}
        ).json()
        statuses = {str(k): str(v).upper() for k, v in (answer.get("results") or {}).items()}
        for member, contact_id in known:
            status = statuses.get(contact_id)
            if status is None:
                results.append(
                    MembershipResult(
                        member.key,
                        Outcome.UNKNOWN,
                        code="not_confirmed",
                        message=f"Keap's answer did not name contact {contact_id}.",
                        hint="It is sent again on the next push.",
                    )
                )
            elif _applied(status):
                results.append(MembershipResult(member.key, Outcome.UPDATED, remote_key=contact_id))
            elif _missing(status):
                results.append(self._not_in_keap(member, status, contact_id))
            else:
                results.append(
                    MembershipResult(
                        member.key,
                        Outcome.UNKNOWN,
                        code=status[:100],
                        message=f"Keap did not apply the tag to contact {contact_id} ({status}).",
                        hint="It is tried again on the next push.",
                    )
                )
        return results

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        results, known = [], []
        for member in identifiers:
            contact_id = member.remote_key or self._contact_id(member.identifier)
            if contact_id:
                known.append((member, contact_id))
            else:  # no contact, so no tag: nothing to remove
                results.append(MembershipResult(member.key, Outcome.UNCHANGED))
        if known:
            ids = list(dict.fromkeys(contact_id for _, contact_id in known))
            self.call(
                "POST",
                f"/tags/{remote_id}/contacts:removeTags",
                json={"contact_ids": ids},
                ok=(204,),
            )
            results += [MembershipResult(m.key, Outcome.UPDATED, remote_key=c) for m, c in known]
        return results

    def _contact_id(self, email: str) -> str:
        """The oldest Keap contact holding this address, or "" when Keap holds none."""
        email = email.strip()
        if not email:
            return ""
        found, token = [], None
        while True:
            params = {
                "filter": f"email=={email}",
                "fields": "id,email_addresses",
                "page_size": LOOKUP_PAGE,
            }
            if token:
                params["page_token"] = token
            data = self.call("GET", "/contacts", params=params).json()
            for contact in data.get("contacts") or []:
                addresses = {
                    str(a.get("email") or "").lower() for a in contact.get("email_addresses") or []
                }
                # The filter takes a trailing * as a wildcard: keep exact matches only.
                if contact.get("id") is not None and email.lower() in addresses:
                    found.append(str(contact["id"]))
            token = data.get("next_page_token")
            if not token:
                break
        return min(found, key=lambda i: (len(i), i)) if found else ""

    def _not_in_keap(
        self, member: SegmentMember, status: str = "", contact_id: str = ""
    ) -> MembershipResult:
        if status:
            message = (
                f"Keap answered {status} for contact {contact_id} ({member.identifier}): "
                "not in Keap: sync first."
            )
        else:
            message = f"Keap has no contact with the email {member.identifier}: not in Keap."
        return MembershipResult(
            member.key,
            Outcome.REJECTED_DATA,
            code=status[:100] or "contact_not_found",
            message=message,
            hint=NOT_IN_KEAP_HINT,
        )
