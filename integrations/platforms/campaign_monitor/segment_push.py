"""Campaign Monitor lists as the static segments SharpSend pushes
(../shared/platforms/campaign_monitor.md §3, §6, §9; its segments are rules on a list's fields
and cannot hold hand-picked members, so a push is a list of the integration's client).

- Create: `POST /lists/{clientid}.json` `{"Title","UnsubscribePage","ConfirmedOptIn":false,
  "ConfirmationSuccessPage","UnsubscribeSetting":"AllClientLists"}` → the new ListID as a
  JSON string. `AllClientLists`: a reader who unsubscribes from a campaign sent to the pushed
  list is unsubscribed from every list of the client, the integration's own list included
  (so the console hears it there), never only from the pushed one.
- Add: the synchronous import into that list, `POST /subscribers/{listid}/import.json`, at most
  1,000 subscribers a call, `Resubscribe`, `QueueSubscriptionBasedAutoResponders` and
  `RestartSubscriptionBasedAutoresponders` false (never reactivating someone who unsubscribed,
  bounced or was deleted), `ConsentToTrack: "Unchanged"` as the console's sync sends by
  default (the consent is the address's across the client's lists: the push leaves what the
  sync set). Only the address goes: a push carries no field values. 201 when all went in;
  a partial failure is a 400 with Code 210 whose ResultData has the FailureDetails per address
  (as contacts.py reads them). The import names no one it left inactive (it only counts them
  as existing), so when it says some existed the list's Deleted/Unsubscribed/Bounced state
  lists are read and those readers reported as refused, never counted in.
- Remove: `DELETE /subscribers/{listid}.json?email=…`, one call a member: the subscriber moves
  to the Deleted state of the pushed list only (it is neither an unsubscribe nor does it touch
  the integration's list). Code 203 (not in the list) is nothing to remove.
- A list deleted in Campaign Monitor answers Code 101 (Invalid ListID): NotFound, which stops
  the push with a message saying so.
Rates: the client's (10 a second; imports 2 a second), shared with syncs.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient, failed_results
from integrations.platforms.campaign_monitor.api import (
    API,
    PAGE_MAX,
    V,
    next_page,
    subscribers_page,
)
from integrations.platforms.campaign_monitor.contacts import refusal
from integrations.platforms.errors import (
    NotFound,
    PlatformError,
    RateLimited,
    TransientError,
    ValidationFailed,
)
from integrations.platforms.types import MembershipResult, Outcome, RemoteSegment, SegmentMember

LIST = "list"
INVALID_LIST = "101"  # Campaign Monitor's Code for an unknown (or deleted) ListID
NOT_IN_LIST = "203"
PAGE = PAGE_MAX  # the largest page of a list's state lists
# A list's state lists (path → the State its rows carry) an import leaves people in.
INACTIVE_STATES = {"deleted": "Deleted", "unsubscribed": "Unsubscribed", "bounced": "Bounced"}
INACTIVE_HINTS = {
    "Deleted": "The reader was removed from this list by an earlier push. The console never "
    "sends Resubscribe, so it cannot bring them back: reactivate them in Campaign Monitor "
    "(the list → Deleted subscribers), and the next push counts them in.",
    "Unsubscribed": "The reader unsubscribed in Campaign Monitor; the console never "
    "resubscribes anyone.",
    "Bounced": "The address bounced in Campaign Monitor; the console does not reactivate it.",
}


class CampaignMonitorSegmentPush(PlatformClient):
    """A list of the client per pushed segment: created, filled by import, emptied by delete."""

    def error_class_for(self, status: int, code: str) -> type[PlatformError]:
        if code == INVALID_LIST:
            return NotFound
        return super().error_class_for(status, code)

    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        body = {
            "Title": name,
            "UnsubscribePage": "",
            "ConfirmedOptIn": False,
            "ConfirmationSuccessPage": "",
            "UnsubscribeSetting": "AllClientLists",
        }
        created = self.request(
            "POST", API, f"{V}/lists/{self.client_id}.json", json=body, ok=(200, 201)
        ).json()
        return RemoteSegment(f"{LIST}:{created}", name, LIST)

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        body = {
            "Subscribers": [
                {"EmailAddress": m.identifier.strip(), "ConsentToTrack": "Unchanged"}
                for m in identifiers
            ],
            "Resubscribe": False,
            "QueueSubscriptionBasedAutoResponders": False,
            "RestartSubscriptionBasedAutoresponders": False,
        }
        path = f"{V}/subscribers/{_list_id(remote_id)}/import.json"
        response = self.request(
            "POST", API, path, json=body, ok=(200, 201, 400), rate="subscribers.import"
        )
        data = response.json() if response.content else {}
        if response.status_code == 400:
            if str(data.get("Code")) == INVALID_LIST:
                raise NotFound(
                    self.redact(f"Campaign Monitor has no list {_list_id(remote_id)}."),
                    status=400,
                    code=INVALID_LIST,
                )
            if data.get("Code") != 210 or not isinstance(data.get("ResultData"), dict):
                raise ValidationFailed(
                    self.redact(
                        f"Campaign Monitor refused the import: {data.get('Message', '')}".strip()
                    ),
                    status=400,
                    code=str(data.get("Code", "400")),
                )
            data = data["ResultData"]  # partial success: the others went in
        failures = {
            str(f.get("EmailAddress", "")).strip().lower(): f
            for f in data.get("FailureDetails") or []
        }
        taken = {m.identifier.strip().lower() for m in identifiers} - set(failures)
        inactive = {}
        if int(data.get("TotalExistingSubscribers") or 0) and taken:
            # Some were in the list already: a batch sent again after a crash (still active),
            # or readers the console removed earlier, whom an import without Resubscribe
            # leaves in their state. Only the list's inactive states tell them apart.
            inactive = self._inactive_in(_list_id(remote_id), taken)
        results = []
        for member in identifiers:
            email = member.identifier.strip().lower()
            failure = failures.get(email)
            if failure is not None:
                results.append(self._refused(member, failure))
            elif email in inactive:
                results.append(self._left_inactive(member, inactive[email], remote_id))
            else:
                results.append(MembershipResult(member.key, Outcome.UPDATED))
        return results

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        path = f"{V}/subscribers/{_list_id(remote_id)}.json"
        results: list[MembershipResult] = []
        for member in identifiers:
            try:
                self.request("DELETE", API, path, params={"email": member.identifier.strip()})
            except ValidationFailed as exc:
                if exc.code == INVALID_LIST:
                    raise  # the list itself is gone: the push stops and says so
                if exc.code == NOT_IN_LIST:
                    results.append(MembershipResult(member.key, Outcome.UNCHANGED))
                else:
                    results.append(
                        MembershipResult(
                            member.key,
                            Outcome.REJECTED_DATA,
                            code=exc.code or str(exc.status or ""),
                            message=exc.message,
                            hint="Campaign Monitor refused to remove this address from the "
                            "list; it is tried again on the next push.",
                        )
                    )
            except (RateLimited, TransientError) as exc:
                results += failed_results([member], exc)
            else:
                results.append(MembershipResult(member.key, Outcome.UPDATED))
        return results

    def _inactive_in(self, list_id: str, emails: set[str]) -> dict[str, str]:
        """Which of `emails` the list holds as Deleted, Unsubscribed or Bounced (its state
        lists, paged by 1,000: `GET /lists/{listid}/<state>.json`)."""
        found: dict[str, str] = {}
        for state in INACTIVE_STATES:
            page: int | None = 1
            while page is not None:
                data = subscribers_page(self, f"{V}/lists/{list_id}/{state}.json", page, PAGE)
                for row in data.get("Results") or []:
                    email = str(row.get("EmailAddress", "")).strip().lower()
                    if email in emails:
                        found[email] = row.get("State") or INACTIVE_STATES[state]
                page = next_page(data, page)
        return found

    def _left_inactive(self, member: SegmentMember, state: str, remote_id: str):
        return MembershipResult(
            member.key,
            Outcome.REJECTED_COMPLIANCE,
            code=f"state_{state.lower()}",
            message=f"Campaign Monitor keeps {member.identifier} {state} in the list "
            f"{_list_id(remote_id)}; an import without Resubscribe does not bring them back.",
            hint=INACTIVE_HINTS.get(state, INACTIVE_HINTS["Deleted"]),
        )

    def _refused(self, member: SegmentMember, failure: dict) -> MembershipResult:
        outcome, code, message, hint = refusal(failure, self.redact, "Campaign Monitor refused it.")
        return MembershipResult(member.key, outcome, code=code, message=message, hint=hint)


def _list_id(remote_id: str) -> str:
    return remote_id.removeprefix(f"{LIST}:")
