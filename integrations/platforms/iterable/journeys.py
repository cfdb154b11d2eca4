"""Iterable journeys triggered by a custom event: `sharpsend_assignment_approved` for each
reader, through the bulk event endpoint (a journey in Iterable whose entry is that event sends
the message).

Facts (../shared/platforms/iterable.md §5, §11; specs/iterable/api-docs.json `trackBulk`,
`TrackRequest`, `BulkTrackResponse`): `POST /api/events/trackBulk` `{"events": [{"email" |
"userId", "eventName", "id", "dataFields"}]}` → 200 `{"successCount", "failCount",
"disallowedEventNames", "failedUpdates": {"invalidEmails", "notFoundEmails", "forgottenEmails",
… and the same for user ids}}`; 10 requests a second per project. An event whose `id` Iterable
already has updates that event instead of adding one (ids ≤ 512 bytes), so a batch repeated
after a crash adds no second event. No count limit is documented: batches are the console's
1,000 readers, under bulkUpdate's 4 MB. A project that disallows the event name lists it in
`disallowedEventNames`: none of the batch is taken. The journey reads the assignment as
`{{subject}}`, `{{html}}` … (the event's data fields).
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API
from integrations.platforms.iterable.contacts import failures_in, results_of
from integrations.platforms.journeys import JOURNEY_EVENT, event_id
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import (
    ContactRecord,
    Outcome,
    PlannedRequest,
    RecordResult,
    UpsertPlan,
)

EVENTS_ENVELOPE = b'{"events":[]}'
TRACK_BULK = "events.trackBulk"


class IterableJourneys(PlatformClient):
    journey_batch_max = 1000

    def plan_journey_events(self, spec: SendSpec, readers: Sequence[ContactRecord]) -> UpsertPlan:
        data = spec.trigger_data()

        def entry(record: ContactRecord) -> dict:
            return {
                record.identifier_field: record.identifier,
                "eventName": JOURNEY_EVENT,
                "id": event_id(spec.idempotency_key, record.key),
                "dataFields": data,
            }

        encoded, rejected = self.encode_records(readers, entry)
        groups = self.pack(encoded, envelope_bytes=len(EVENTS_ENVELOPE))
        requests = self.batch_requests(
            groups, EVENTS_ENVELOPE, "POST", API, "/api/events/trackBulk", rate=TRACK_BULK
        )
        return UpsertPlan(requests, rejected)

    def send_journey_request(self, planned: PlannedRequest) -> list[RecordResult]:
        response = self.send_planned(planned).json()
        disallowed = response.get("disallowedEventNames") or []
        if JOURNEY_EVENT in disallowed:
            hint = f"Allow the event {JOURNEY_EVENT} in the Iterable project's settings."
            return [
                RecordResult(
                    record.key,
                    Outcome.REJECTED_DATA,
                    code="DisallowedEventName",
                    message=f"Iterable does not take the event {JOURNEY_EVENT}.",
                    hint=hint,
                )
                for record, _ in planned.group
            ]
        return results_of(planned.group, failures_in(response))
