"""Journeys triggered by event: the event to every reader of the target's segment, in batches,
resumable (integrations/platforms/journeys.py has the platform side).

The readers are the target segment's members as last imported (SegmentMember) or, on a list the
console pushed there (a SharpSend segment, SegmentPushMember: what Iterable holds, whose lists'
members are not read in), the members the platform last accepted; subscribed and not
suppressed, in subscriber-id order from the send's `reader_cursor`. After each batch the
cursor and counts are committed with the lease renewed, so a worker that dies loses at most
the batch it was sending; the next run sends that batch again and the platform drops the
events it already has (their ids come from the send's key and the reader). A batch the
platform did not take (a 429 storm, an outage, a refused key) stops the run without moving the
cursor: the send stays "sending" and the next run goes on from there.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from audience.models import Subscriber, SubscriberStatus, normalise_email
from audience.suppression import suppressed_among
from campaigns.models import CampaignSend, SendState
from integrations import clock
from integrations.models import MemberState, SegmentMember, SegmentPushMember
from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.sending import SendResult
from integrations.platforms.types import ContactRecord, Outcome, RecordResult, Written
from integrations.services.mapping import compile_mapper

RETRY_LATER = (Outcome.THROTTLED, Outcome.UNKNOWN, Outcome.REJECTED_AUTH)
TAKEN = (Written.WRITTEN, Outcome.CREATED, Outcome.UPDATED, Outcome.UNCHANGED)
MAX_ERRORS_SHOWN = 5


def readers(send: CampaignSend, after: int, size: int) -> Iterator[tuple[list[ContactRecord], int]]:
    """The target segment's sendable members after subscriber id `after`, `size` at a time
    (with the last id read), as the integration's mapping identifies them (the identifier a
    sync sends)."""
    target = send.target
    if target.segment_id is None:
        raise ValidationFailed("The target's segment is gone: nothing to trigger.")
    mapper = compile_mapper(target.integration)
    members = Subscriber.objects.filter(
        member_ids(target), status=SubscriberStatus.SUBSCRIBED
    ).order_by("id")
    key, email_at = mapper.columns.index("id"), mapper.columns.index("email")
    while True:
        rows = list(members.filter(id__gt=after).values_list(*mapper.columns)[:size])
        if not rows:
            return
        suppressed = suppressed_among(row[email_at] for row in rows)
        batch = []
        for row in rows:
            identifier, _ = mapper.map(row)
            if identifier and normalise_email(row[email_at]) not in suppressed:
                batch.append(ContactRecord(row[key], mapper.identifier_field, identifier, {}))
        after = rows[-1][key]
        yield batch, after


def member_ids(target) -> Q:
    """The target segment's readers: imported members, or the members of the list the console
    pushed as that segment (as last accepted by the platform)."""
    imported = SegmentMember.objects.filter(segment=target.segment_id).values("subscriber_id")
    pushed = SegmentPushMember.objects.filter(
        push__integration=target.integration_id,
        push__remote_id=target.segment.remote_id,
        state=MemberState.MEMBER,
        subscriber__isnull=False,
    ).values("subscriber_id")
    return Q(id__in=imported) | Q(id__in=pushed)


def has_readers(target) -> bool:
    return Subscriber.objects.filter(member_ids(target)).exists()


def _commit(send_pk: int, owner: str, cursor: int, results: list[RecordResult]) -> None:
    refused = [r for r in results if r.outcome not in TAKEN]
    with transaction.atomic():
        send = CampaignSend.objects.select_for_update(of=("self",)).get(pk=send_pk)
        if send.lease_owner != owner:
            raise TransientError(f"Send #{send_pk} is no longer held by this worker.")
        send.reader_cursor = cursor
        send.readers_sent += len(results) - len(refused)
        send.readers_refused += len(refused)
        if refused:
            shown = "; ".join(
                f"#{r.key}: {r.message or r.code}" for r in refused[:MAX_ERRORS_SHOWN]
            )
            send.error = f"{send.readers_refused} readers refused (e.g. {shown})."
        send.state = SendState.SENDING
        send.lease_until = clock.now() + settings.SEND_LEASE_SECONDS
        send.save()


def send_journey(send: CampaignSend, owner: str, client, spec) -> SendResult:
    """Trigger the journey for every reader not yet done; the result once all are."""
    spec = replace(spec, send_at=None)
    client.sending = True
    try:
        for batch, last in readers(send, send.reader_cursor, client.journey_batch_max):
            results = client.trigger_journey(spec, batch) if batch else []
            retry = [r for r in results if r.outcome in RETRY_LATER]
            if retry:
                raise TransientError(
                    f"{client.label} did not take a batch of journey events "
                    f"({retry[0].message or retry[0].code}); the next run sends it again."
                )
            _commit(send.pk, owner, last, results)
    finally:
        client.sending = False
    send.refresh_from_db()
    return SendResult(
        remote_id="",
        remote_state=f"event sent to {send.readers_sent} readers",
    )


def plan_first_batch(send: CampaignSend, client, spec) -> list:
    """The requests the first batch not yet sent becomes (the dry run's view)."""
    for batch, _ in readers(send, send.reader_cursor, client.journey_batch_max):
        if batch:
            return client.plan_journey_events(spec, batch).requests
    return []
