"""Customer.io journeys triggered by an event: `sharpsend_assignment_approved` for each reader,
in Track API v2 batches (the same envelope and limits as the people sync).

Facts (../shared/platforms/customerio.md §5): an event entry of `POST /api/v2/batch` is
`{"type": "person", "identifiers": {...}, "action": "event", "name", "id", "attributes"}`
whose `attributes` are the event's data (not profile attributes); `id` is a ULID Customer.io
uses to drop an event it already received, so a batch repeated after a crash triggers no
campaign twice. A campaign (journey) in Customer.io triggered by that event sends the message;
it reads the assignment as `{{event.subject}}`, `{{event.html}}` and so on. Answers: 200, or 207
with `errors[].batch_index` for the entries refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import ENVELOPE, TRACK
from integrations.platforms.journeys import JOURNEY_EVENT, event_data, event_id
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import ContactRecord, PlannedRequest, RecordResult, UpsertPlan


class CustomerIoJourneys(PlatformClient):
    def plan_journey_events(self, spec: SendSpec, readers: Sequence[ContactRecord]) -> UpsertPlan:
        data = {**event_data(spec), "html": spec.html, "plain_text": spec.plain_text}

        def entry(record: ContactRecord) -> dict:
            return {
                "type": "person",
                "identifiers": {record.identifier_field: record.identifier},
                "action": "event",
                "name": JOURNEY_EVENT,
                "id": event_id(spec.idempotency_key, record.key),
                "attributes": data,
            }

        encoded, rejected = self.encode_records(readers, entry)
        groups = self.pack(encoded, envelope_bytes=len(ENVELOPE))
        return UpsertPlan(
            self.batch_requests(groups, ENVELOPE, "POST", TRACK, "/api/v2/batch"), rejected
        )

    def send_journey_request(self, planned: PlannedRequest) -> list[RecordResult]:
        return self._send_batch(planned)
