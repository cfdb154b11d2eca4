"""Journeys triggered by an event: every reader of the target's segment gets the event
`sharpsend_assignment_approved` with the assignment's data, and the journey made on the
platform (triggered by that event) sends its messages.

A platform that declares Capability.TRIGGER_JOURNEY offers a SendMethod with `per_reader` set
and builds a batch's requests in `plan_journey_events(spec, readers)` (the readers are
ContactRecords: key = subscriber id, identifier = email) through the same encoding and packing
as a contact sync, so batches keep the platform's limits. Each event carries an id made from
the send's idempotency key and the reader (`event_id`), and the platforms that take one drop an
event they already have: a batch repeated after a crash triggers nobody twice. The console
walks the readers in subscriber-id order and commits how far it got after every batch
(campaigns/services/journey_sending.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import ClassVar

from integrations.platforms.sending import SendSpec
from integrations.platforms.types import Capability, ContactRecord, RecordResult, UpsertPlan

JOURNEY_EVENT = "sharpsend_assignment_approved"
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def event_id(idempotency_key: str, subscriber_id: int) -> str:
    """A 26-character ULID-shaped id, the same for the same send and reader (never random)."""
    digest = int.from_bytes(hashlib.sha256(f"{idempotency_key}:{subscriber_id}".encode()).digest())
    chars = [CROCKFORD[(digest >> (5 * i)) & 31] for i in range(26)]
    chars[0] = CROCKFORD[digest & 7]  # a ULID's first character is 0-7 (128 bits)
    return "".join(chars)


def event_data(spec: SendSpec) -> dict:
    """The assignment's data an event carries (the journey's message reads it)."""
    return {
        "sharpsend_send": spec.idempotency_key,
        "title": spec.name,
        "subject": spec.subject,
        "preview_text": spec.preview_text,
        "from_name": spec.from_name,
        "reply_to": spec.reply_to,
        **spec.data,
    }


class JourneyTriggering:
    """The journey hooks a platform fills in (a mixin of PlatformClient)."""

    journey_batch_max: ClassVar[int] = 100  # readers per batch the console commits after

    def plan_journey_events(self, spec: SendSpec, readers: Sequence[ContactRecord]) -> UpsertPlan:
        """The requests that give each reader the event (and those refused unsent)."""
        raise self.unsupported(Capability.TRIGGER_JOURNEY)

    def send_journey_request(self, planned) -> list[RecordResult]:
        """Send one planned batch; each reader's outcome."""
        raise self.unsupported(Capability.TRIGGER_JOURNEY)

    def journey_problems(self, spec: SendSpec) -> list[str]:
        """Whether one reader's event fits the platform's limits (the content rides in it)."""
        probe = ContactRecord(0, self.identifier_fields[0], "reader@example.com", {})
        refused = self.plan_journey_events(spec, [probe]).rejected
        return [
            f"The journey event cannot carry this assignment: {r.message} Shorten the content, "
            "or keep it in the journey's message on the platform."
            for r in refused
        ]

    def trigger_journey(
        self, spec: SendSpec, readers: Sequence[ContactRecord]
    ) -> list[RecordResult]:
        """Give every reader the event; one outcome per reader. Repeatable: the event ids
        make a repeated batch harmless on the platform."""
        plan = self.plan_journey_events(spec, readers)
        return plan.rejected + self.send_groups(plan.requests, self.send_journey_request)
