"""SendGrid lists as the segments SharpSend pushes (../shared/platforms/sendgrid.md §6:
Segments 2.0 are SQL queries with no static members, so a push is a list).

- Create: `POST /v3/marketing/lists` `{"name"}` (≤ 100 characters) → 201 `{"id","name",…}`.
- Add: the contacts upsert `PUT /v3/marketing/contacts` `{"list_ids":[id],"contacts":[{"email"}]}`
  (202 and a job, polled to its end like a sync's; the errors file says which were refused).
  Only the email is sent: existing contacts keep their fields, new ones are created bare.
- Remove: the contacts' ids from `POST /v3/marketing/contacts/search/emails` (≤ 100 a call,
  404 when none matches), then `DELETE /v3/marketing/lists/{id}/contacts?contact_ids=a,b`
  (202, a job; the contacts themselves are kept).
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.errors import NotFound
from integrations.platforms.sendgrid.api import API, CONTACTS
from integrations.platforms.sendgrid.jobs import SendGridJobs
from integrations.platforms.types import (
    ContactRecord,
    MembershipResult,
    Outcome,
    RemoteSegment,
    SegmentMember,
)

SEARCH_MAX = 100  # emails a search/emails call takes
LISTS = "/v3/marketing/lists"


class SendGridSegmentPush(SendGridJobs):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        data = self.request("POST", API, LISTS, json={"name": name[:100]}, ok=(201,)).json()
        return RemoteSegment(f"list:{data['id']}", data.get("name", name), "list")

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        list_id = remote_id.removeprefix("list:")
        body = {"list_ids": [list_id], "contacts": [{"email": m.identifier} for m in identifiers]}
        data = self.request(
            "PUT", API, CONTACTS, json=body, ok=(202,), rate="contacts.upsert"
        ).json()
        records = [ContactRecord(m.key, "email", m.identifier, {}) for m in identifiers]
        job = {"job_id": str(data.get("job_id") or ""), "keys": [m.key for m in identifiers]}
        return [
            MembershipResult(r.key, r.outcome, r.code, r.message, r.hint)
            for r in self.collect_job(job, records)
        ]

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        list_id = remote_id.removeprefix("list:")
        results = []
        for start in range(0, len(identifiers), SEARCH_MAX):
            chunk = identifiers[start : start + SEARCH_MAX]
            ids = self._contact_ids([m.identifier for m in chunk])
            known = [(m, ids[m.identifier.lower()]) for m in chunk if m.identifier.lower() in ids]
            if known:
                self.request(
                    "DELETE",
                    API,
                    f"{LISTS}/{list_id}/contacts",
                    params={"contact_ids": ",".join(contact for _, contact in known)},
                    ok=(202,),
                )
            gone = {m.key for m, _ in known}
            results += [
                # A contact SendGrid does not have is in no list: nothing to remove.
                MembershipResult(m.key, Outcome.UPDATED if m.key in gone else Outcome.UNCHANGED)
                for m in chunk
            ]
        return results

    def _contact_ids(self, emails: list[str]) -> dict[str, str]:
        try:
            data = self.request(
                "POST",
                API,
                f"{CONTACTS}/search/emails",
                json={"emails": [e.lower() for e in emails]},
            ).json()
        except NotFound:  # "no contact matches any of the emails"
            return {}
        found = {}
        for email, entry in (data.get("result") or {}).items():
            contact = entry.get("contact") if isinstance(entry, dict) else None
            if contact and contact.get("id"):
                found[email.lower()] = str(contact["id"])
        return found
