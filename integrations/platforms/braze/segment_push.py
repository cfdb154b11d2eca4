"""SharpSend segments pushed to Braze through an array attribute (../shared/platforms/braze.md
§3 and §6).

Braze's REST API cannot create a segment or put people in one: segments are filters made in
the dashboard. So the console keeps a custom array attribute on each user, `sharpsend_segments`,
in step with the SharpSend segment, and the person makes one Braze segment with the filter
"sharpsend_segments includes value <the segment's value>" (the push target's remote name says
the exact filter).

- Create: no call. The remote id is the value the attribute holds for this segment: the
  segment's name made a slug, with a short hash of the exact name so two names that slug alike
  ("Crypto" and "crypto") never share a value. It is stable (the engine keeps it once made),
  ASCII and at most 69 characters (Braze: string values at most 255; fact sheet §3).
- Add / remove: `POST /users/track` `{"attributes":[{"email": …, "sharpsend_segments":
  {"add": [value]}, "_update_existing_only": true}]}` (`"remove"` to take it off), at most 75
  objects a call (50 on the "Monthly Active Users CY 24-25" package: the integration's
  objects-per-request setting), rate `users.track` (3,000 requests / 3 s), shared with syncs.
- Users are named by email, as the console's Braze sync names them by default (its suggested
  identifier mapping), so a push writes to the profile the sync writes to.
  `_update_existing_only: true` means a push never creates a user (no profile without the
  sync's fields and consent state, no second profile): Braze skips a member it does not hold
  without an error, so such a member is counted as added yet carries no value. Sync the
  integration before pushing; a reader synced later gets the value when they next join.
- Answers: 201 `{"message":"success"}` with an `errors` array naming refused objects by
  `index` (the rest of the batch is processed), mapped as the sync maps them; a fatal 4xx/5xx
  refuses that call's members and those of the calls not sent yet (the calls already answered
  keep their outcomes).
- Braze keeps at most 25 values in an array attribute unless raised (to 100) in its data
  settings: one user can carry 25 pushed SharpSend segments by default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from django.utils.text import slugify

from integrations.platforms.base import PlatformClient, failed_results
from integrations.platforms.braze.api import REST, chunks, error_text
from integrations.platforms.errors import PlatformError
from integrations.platforms.types import (
    MembershipResult,
    Outcome,
    RemoteSegment,
    SegmentMember,
    Written,
)

ATTRIBUTE = "sharpsend_segments"
KIND = "attribute"
SLUG_MAX = 60


def segment_value(name: str) -> str:
    """The attribute value naming a SharpSend segment: its name as a slug, plus 8 hex digits
    of the name's SHA-256 (stable, distinct per name, ≤ 69 ASCII characters)."""
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    slug = slugify(name)[:SLUG_MAX].strip("-") or "segment"
    return f"{slug}-{digest}"


def segment_filter(value: str) -> str:
    """The Braze segment filter to make for a pushed segment (shown as its remote name)."""
    return f"Braze segment filter: custom attribute {ATTRIBUTE} includes value {value}"


class BrazeSegmentPush(PlatformClient):
    def create_segment(self, name: str, description: str = "") -> RemoteSegment:
        value = segment_value(name)
        return RemoteSegment(value, segment_filter(value), KIND)

    def add_to_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change("add", remote_id, identifiers)

    def remove_from_segment(
        self, remote_id: str, identifiers: Sequence[SegmentMember]
    ) -> list[MembershipResult]:
        return self._change("remove", remote_id, identifiers)

    def _change(self, verb: str, value: str, members: Sequence[SegmentMember]):
        results: list = []
        groups = list(chunks([list(members)], self.objects_per_request))
        for index, group in enumerate(groups):
            body = {
                "attributes": [
                    {
                        "email": member.identifier,
                        ATTRIBUTE: {verb: [value]},
                        "_update_existing_only": True,
                    }
                    for member in group
                ]
            }
            try:
                answer = self.request(
                    "POST", REST, "/users/track", json=body, rate="users.track", ok=(200, 201)
                ).json()
            except PlatformError as exc:
                # This call and the ones not sent yet fail with it; the calls already
                # answered keep their outcomes. A 404 here means the URL, never a deleted
                # segment (there is none), so it is not raised for the engine to read as one.
                rest = [member for later in groups[index:] for member in later]
                return results + failed_results(rest, exc)
            results += self._outcomes(group, answer)
        return results

    def _outcomes(self, group: list[SegmentMember], answer: dict) -> list[MembershipResult]:
        errors = answer.get("errors") or []
        by_index = self.results_by_index(
            [(member, b"") for member in group],
            errors,
            index_of=lambda error: (
                error.get("index")
                if error.get("input_array", "attributes") == "attributes"
                else None
            ),
            reject=self._rejection,
            describe=lambda error: ("unplaced_error", error_text(error)),
        )
        return [
            MembershipResult(
                result.key,
                Outcome.UPDATED if result.outcome is Written.WRITTEN else result.outcome,
                code=result.code,
                message=result.message,
                hint=result.hint,
            )
            for result in by_index
        ]
