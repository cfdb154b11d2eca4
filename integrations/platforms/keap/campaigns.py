"""Keap emails to a tag's contacts: `POST /crm/rest/v2/emails:send`, once per batch of contact
ids, on behalf of the connected Keap user.

Facts (../shared/platforms/keap.md §6, §7, §14; swagger.yml `EmailSendRequest`): Keap has no
API to send a marketing broadcast to a tag; `emails:send` sends one email to a list of
`contacts` (ids) with `subject`, `html_content` and `plain_content` Base64-encoded, and exactly
one of `user_id` or `from_address`, answering 202 with no body. It is a one-to-many email, not
a campaign: no scheduling, no preview text, no reply-to, no campaign report, and no id to look
a send up by. The sender is the connected user: `GET /oauth/connect/userinfo` names them
(`email`; its `id` is the global user id), and `GET /users?filter=email==…` gives their
`id` in this Keap app, the `user_id` to send as. Tag members come from
`GET /tags/{id}/contacts` (1,000 a page).

Exactly once: the engine's batched send (send_batches.py). The audience is the tag's contact
ids in ascending numeric order; each batch of RECIPIENTS_PER_SEND is recorded before and after
its call, and a rerun resumes after the last batch done. A batch whose call has an unknown
outcome (a timeout, a 5xx, the worker stopping) cannot be checked — Keap keeps no record the
console can find by its key — so it is never repeated: its contacts are counted lost and the
send ends "unknown" for them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping

from integrations.platforms.base import PlatformClient
from integrations.platforms.errors import NotFound, ValidationFailed
from integrations.platforms.keap.api import API, V2
from integrations.platforms.send_batches import recipients_in
from integrations.platforms.sending import EMPTY, PENDING_ID, SendSpec, SendStep, StepKind, planned

# Contact ids per emails:send call: Keap documents no maximum, so this is ours (it bounds what
# one call with an unknown outcome can leave unknown; 50,000 contacts are 100 calls).
RECIPIENTS_PER_SEND = 500


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode("ascii")


class KeapEmails(PlatformClient):
    recipients_per_send = RECIPIENTS_PER_SEND

    def plan_send(
        self, spec: SendSpec, remote_id: str = PENDING_ID, values: Mapping[str, str] = EMPTY
    ) -> list[SendStep]:
        email = values.get("user_email", "{user_email}")
        body = {
            "contacts": recipients_in(values),
            "subject": spec.subject,
            "user_id": values.get("user_id", "{user_id}"),
        }
        if spec.html:
            body["html_content"] = b64(spec.html)
        if spec.plain_text:
            body["plain_content"] = b64(spec.plain_text)
        users = {"filter": f"email=={email}", "page_size": "1"}
        return [
            SendStep(
                StepKind.CHECK,
                planned("GET", API, f"{V2}/oauth/connect/userinfo"),
                provides="user_email",
            ),
            SendStep(
                StepKind.CHECK,
                planned("GET", API, f"{V2}/users", params=users),
                provides="user_id",
            ),
            SendStep(StepKind.SEND, planned("POST", API, f"{V2}/emails:send", body), ok=(202,)),
        ]

    def check_step(self, step: SendStep, response) -> None:
        if step.provides == "user_email" and not response.json().get("email"):
            raise ValidationFailed("Keap names no email for the connected user: reconnect Keap.")
        if step.provides == "user_id" and not (response.json().get("users") or []):
            raise ValidationFailed(
                "The connected Keap user is not a user of this Keap app, so Keap cannot send on "
                "their behalf: reconnect Keap as one of the app's users."
            )

    def read_value(self, step: SendStep, response) -> str:
        data = response.json()
        if step.provides == "user_email":
            return str(data["email"])
        return str(data["users"][0]["id"])

    def send_recipients(self, spec: SendSpec, after: str) -> list[str]:
        """The tag's contact ids after `after`, ascending (every page read, once per run)."""
        ids, token = set(), None
        while True:
            page = self.segment_members(spec.segment_id, token)
            ids.update(contact_id for _, contact_id in page.members if contact_id.isdigit())
            token = page.next_cursor
            if token is None:
                break
        floor = int(after) if after.isdigit() else -1
        return [str(n) for n in sorted(int(i) for i in ids) if n > floor]

    def run_step(self, step: SendStep):
        """A send's call, its quota headers then pacing every worker (as `call` does)."""
        response = super().run_step(step)
        self._watch_quota(response)
        return response

    def remote_problems(self, spec: SendSpec) -> list[str]:
        try:
            self.call("GET", f"/tags/{spec.segment_id}/contacts", params={"page_size": 1})
        except NotFound:
            return [f"Keap has no tag {spec.segment_id} any more: choose another."]
        values: dict[str, str] = {}
        for index in (0, 1):  # who sends: the connected user, as a user of this Keap app
            step = self.plan_send(spec, values=values)[index]
            response = self.run_step(step)
            try:
                self.check_step(step, response)
            except ValidationFailed as exc:
                return [exc.message]
            values[step.provides] = self.read_value(step, response)
        return []
