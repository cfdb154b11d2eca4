"""Campaign Monitor campaigns: create a draft that fetches its content from the console's
signed URLs, then send it.

Facts (../shared/platforms/campaign_monitor.md §7, §14): `POST /api/v3.3/campaigns/{clientid}.json`
`{"Name", "Subject", "FromName", "FromEmail", "ReplyTo", "HtmlUrl", "TextUrl" | null,
"ListIDs", "SegmentIDs"}` answers 201 with the campaign id as a JSON string; Campaign Monitor
fetches the HTML from HtmlUrl (an empty TextUrl: text made from the HTML), so the content must
be at a public URL — the console serves it (SendSpec.content_url). `POST /api/v3.3/campaigns/
{campaignid}/send.json {"ConfirmationEmail", "SendDate": "Immediately"}`. The client's drafts,
scheduled and sent campaigns are listed at `/clients/{clientid}/drafts.json`, `scheduled.json`
and `campaigns.json` (the sent ones paged, newest first). Campaign names are unique per client
(400, Code 303): the Name carries the send's idempotency key and finds the draft again.

A test send is a draft of its own (a "[Test]" name and key) previewed to the testers with
`POST /api/v3.3/campaigns/{campaignid}/sendpreview.json {"PreviewRecipients": [...],
"Personalize": "Fallback"}` (fact sheet §7; createsend-python `Campaign.send_preview`), then
deleted with `DELETE /api/v3.3/campaigns/{campaignid}.json` (createsend-python
`Campaign.delete`). A preview is not a send: the draft is never sent to its list.

A campaign goes to a list or to segments, not both (the reference: with SegmentIDs, leave
ListIDs out). A scheduled send's SendDate is the time in the client's zone, named on the
integration (schedule.py); a cancelled one is unscheduled (`POST /campaigns/{id}/
unschedule.json`). The sender address is the integration's From email.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from integrations.platforms import urlpolicy
from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.campaign_monitor.schedule import schedule_problems, send_date, zone_of
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.sending import (
    EMPTY,
    PENDING_ID,
    RemoteCampaign,
    SendSpec,
    SendStep,
    StepKind,
    planned,
)

SENT_PAGE = 100  # sent campaigns read a page at a time, newest first


def audience(segment_id: str) -> dict[str, list[str]]:
    """ListIDs or SegmentIDs for the console's "list:<id>" / "segment:<id>" (bare: a list)."""
    kind, _, remote = segment_id.partition(":")
    if kind == "segment":
        return {"SegmentIDs": [remote]}
    return {"ListIDs": [remote if kind == "list" else segment_id]}


class CampaignMonitorCampaigns(PlatformClient):
    def _setting(self, key: str) -> str:
        return str(self.integration.secrets.get(key) or "")

    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        create = {
            "Name": spec.remote_name,
            "Subject": spec.subject,
            "FromName": spec.from_name,
            "FromEmail": self._setting("from_email"),
            "ReplyTo": spec.reply_to,
            "HtmlUrl": spec.content_url,
            "TextUrl": spec.text_url or None,
            **audience(spec.segment_id),
        }
        when = send_date(spec.send_at, zone_of(self._setting("time_zone")))
        send = {"ConfirmationEmail": spec.reply_to, "SendDate": when}
        client = self.credential("client_id")
        return [
            SendStep(
                StepKind.CREATE, planned("POST", API, f"{V}/campaigns/{client}.json", create),
                ok=(201,),
            ),  # fmt: skip
            SendStep(StepKind.SEND, planned("POST", API, f"{V}/campaigns/{remote_id}/send.json", send)),
        ]  # fmt: skip

    def read_created(self, response) -> str:
        return str(response.json())  # the campaign id, as a JSON string

    def plan_unschedule(self, spec: SendSpec, remote_id: str, remote_send_id: str):
        path = f"{V}/campaigns/{remote_id}/unschedule.json"
        return [SendStep(StepKind.SEND, planned("POST", API, path))]

    # --- test sends: the test's own draft, previewed to the testers, then deleted ----------------

    def plan_test_send(self, spec: SendSpec, remote_id: str, emails) -> list[SendStep]:
        # Personalize "Fallback": merge tags show their fallback text (no subscriber's data).
        body = {"PreviewRecipients": list(emails), "Personalize": "Fallback"}
        path = f"{V}/campaigns/{remote_id}/sendpreview.json"
        return [SendStep(StepKind.SEND, planned("POST", API, path, body))]

    def plan_discard(self, remote_id: str) -> list[SendStep]:
        path = f"{V}/campaigns/{remote_id}.json"
        return [SendStep(StepKind.CONTENT, planned("DELETE", API, path))]

    # --- where a campaign stands -----------------------------------------------------------------

    def _listed(self, kind: str) -> list[dict]:
        path = f"{V}/clients/{self.credential('client_id')}/{kind}.json"
        return self.request("GET", API, path).json() or []

    def _sent(self):
        """The client's sent campaigns, newest first, page by page."""
        path = f"{V}/clients/{self.credential('client_id')}/campaigns.json"
        page = 1
        while True:
            params = {"page": page, "pagesize": SENT_PAGE, "orderdirection": "desc"}
            data = self.request("GET", API, path, params=params).json()
            yield from data.get("Results") or []
            if page >= int(data.get("NumberOfPages") or 0):
                return
            page += 1

    def _find(self, matches) -> tuple[str, dict] | None:
        """(state, campaign) of the first campaign `matches`: drafts, scheduled, then sent."""
        lists = (
            ("draft", lambda: self._listed("drafts")),
            ("scheduled", lambda: self._listed("scheduled")),
            ("sent", self._sent),
        )
        for state, rows in lists:  # each read only when the ones before hold no match
            for campaign in rows():
                if matches(campaign):
                    return state, campaign
        return None

    def remote_campaign(self, remote_id: str) -> RemoteCampaign | None:
        found = self._find(lambda c: c.get("CampaignID") == remote_id)
        if found is None:
            raise ValidationFailed(
                f"Campaign Monitor lists campaign {remote_id} neither as a draft nor as "
                "scheduled or sent: it was deleted, or is going out now. Check Campaign Monitor; "
                "the console does not send it again."
            )
        state = found[0]
        return RemoteCampaign(remote_id, state, gone_out=state != "draft")

    def find_campaign(self, spec: SendSpec) -> str:
        found = self._find(lambda c: c.get("Name") == spec.remote_name)
        return str(found[1]["CampaignID"]) if found else ""

    # --- pre-flight ------------------------------------------------------------------------------

    def remote_problems(self, spec: SendSpec) -> list[str]:
        problems = []
        if not self._setting("from_email"):
            problems.append(
                "Campaign Monitor needs a sender address to send: set the From email on the "
                "integration."
            )
        sandbox = urlpolicy.is_sandbox_url(self.integration.api_base_url, self.slug)
        if not spec.content_url or not (sandbox or urlsplit(spec.content_url).scheme == "https"):
            problems.append(
                "Campaign Monitor fetches the content from the console: set CONSOLE_BASE_URL to "
                "the console's public https address."
            )
        if spec.send_at is not None:
            problems += self._schedule_problems(spec)
        if problems:
            return problems
        try:
            self.segment_member_count(spec.segment_id)
        except (NotFound, ValidationFailed):
            problems.append(f"Campaign Monitor has no {spec.segment_id} any more: choose another.")
        return problems

    def _schedule_problems(self, spec: SendSpec) -> list[str]:
        zone = self._setting("time_zone")
        display = ""
        if zone_of(zone) is not None:
            path = f"{V}/clients/{self.credential('client_id')}.json"
            details = self.request("GET", API, path).json().get("BasicDetails") or {}
            display = str(details.get("TimeZone") or "")
        return schedule_problems(spec.send_at, zone, display)
