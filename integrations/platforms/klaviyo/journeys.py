"""Klaviyo flows triggered by an event: `sharpsend_assignment_approved` for each reader, through
the bulk event job (a flow in Klaviyo whose trigger is that metric sends the message).

Facts (../shared/platforms/klaviyo.md §5; specs/klaviyo/stable.json `bulk_create_events`,
schema `BaseEventCreateQueryBulkEntryResourceObject`): `POST /api/event-bulk-create-jobs`
`{"data": {"type": "event-bulk-create-job", "attributes": {"events-bulk-create": {"data": [
{"type": "event-bulk-create", "attributes": {"profile": {"data": {"type": "profile",
"attributes": {"email"}}}, "events": {"data": [{"type": "event", "attributes": {"properties",
"metric": {"data": {"type": "metric", "attributes": {"name"}}}, "unique_id"}}]}}}]}}}}` → 202
with no body (accepted for processing: no job id, no per-event errors). At most 1,000 events and
5 MB a request, strings ≤ 100 KB; 10/s and 150/m (events:write). `unique_id` de-duplicates, so
a batch repeated after a crash triggers no flow twice. The flow reads the assignment as
`{{ event.subject }}`, `{{ event.html }}` …
"""

from __future__ import annotations

from collections.abc import Sequence

from integrations.platforms.base import PlatformClient
from integrations.platforms.journeys import JOURNEY_EVENT, event_id
from integrations.platforms.klaviyo.api import API
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import (
    ContactRecord,
    PlannedRequest,
    RecordResult,
    UpsertPlan,
    Written,
)

EVENT_JOBS = "/api/event-bulk-create-jobs"
EVENTS_ENVELOPE = (
    b'{"data":{"type":"event-bulk-create-job","attributes":{"events-bulk-create":{"data":[]}}}}'
)
EVENTS_PER_REQUEST = 1000


class KlaviyoJourneys(PlatformClient):
    journey_batch_max = EVENTS_PER_REQUEST

    def plan_journey_events(self, spec: SendSpec, readers: Sequence[ContactRecord]) -> UpsertPlan:
        data = spec.trigger_data()

        def entry(record: ContactRecord) -> dict:
            event = {
                "type": "event",
                "attributes": {
                    "properties": data,
                    "metric": {"data": {"type": "metric", "attributes": {"name": JOURNEY_EVENT}}},
                    "unique_id": event_id(spec.idempotency_key, record.key),
                },
            }
            profile = {
                "type": "profile",
                "attributes": {record.identifier_field: record.identifier},
            }
            return {
                "type": "event-bulk-create",
                "attributes": {"profile": {"data": profile}, "events": {"data": [event]}},
            }

        encoded, rejected = self.encode_records(readers, entry)
        # journey_batch_max keeps a batch to 1,000 readers (one event each); pack keeps 5 MB.
        groups = self.pack(encoded, len(EVENTS_ENVELOPE))
        requests = self.batch_requests(
            groups, EVENTS_ENVELOPE, "POST", API, EVENT_JOBS, rate="event_jobs"
        )
        return UpsertPlan(requests, rejected)

    def send_journey_request(self, planned: PlannedRequest) -> list[RecordResult]:
        # 202: accepted for processing; Klaviyo reports no event's fate.
        self.send_planned(planned, ok=(202,))
        return [RecordResult(record.key, Written.WRITTEN) for record, _ in planned.group]
