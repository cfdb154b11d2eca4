"""Reading who is in a platform's segment into SharpSend, page by page, resumable.

A refresh works on generation `members_generation + 1`: each page's members (matched to
SharpSend subscribers by email, or by the id the integration identifies contacts by) are
stored with that generation and the platform's cursor for the next page, in one transaction,
so a refresh that dies continues from its last stored page. Only when the last page is in are
the members of older generations (no longer in the segment) removed and the generation
counted as done. Members SharpSend does not hold are counted, never created. Each page is
bounded by the platform's page size, so memory stays flat whatever the segment's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from audience.models import Subscriber, normalise_email
from integrations import metering
from integrations.models import ApiFeature, Segment, SegmentMember
from integrations.platforms.types import Capability

# A segment's members are read again when older than this (the daily housekeeping).
STALE_AFTER = timedelta(hours=20)
# Pages one task reads before handing the rest to a follow-up task (a worker is never held
# for hours by one huge segment, and the refresh resumes from its stored cursor either way).
PAGES_PER_TASK = 50


@dataclass
class MembershipRefresh:
    pages: int = 0
    matched: int = 0
    unmatched: int = 0
    removed: int = 0
    complete: bool = False

    def summary(self) -> str:
        if not self.complete:
            return f"{self.pages} pages read so far ({self.matched:,} members found); continuing"
        return (
            f"{self.matched:,} members are SharpSend subscribers, {self.unmatched:,} are not "
            f"(not created), {self.removed:,} left the segment"
        )


@metering.feature(ApiFeature.SEGMENTS)
def refresh_members(segment: Segment, max_pages: int | None = None) -> MembershipRefresh:
    """Read the segment's members (all pages, or `max_pages` more of them) into SharpSend."""
    client = segment.integration.client()
    if not client.supports(Capability.LIST_SEGMENT_MEMBERS):
        raise client.unsupported(Capability.LIST_SEGMENT_MEMBERS)
    segment.refresh_from_db()
    if not segment.members_refreshing:
        segment.members_refreshing, segment.members_cursor = True, ""
        segment.members_matched = segment.members_unmatched = 0
        segment.save(
            update_fields=[
                "members_refreshing",
                "members_cursor",
                "members_matched",
                "members_unmatched",
            ]
        )
    generation = segment.members_generation + 1
    result = MembershipRefresh()
    cursor = segment.members_cursor or None
    while True:
        page = client.segment_members(segment.remote_id, cursor)
        subscriber_ids, unmatched = match(page.members)
        with transaction.atomic():
            SegmentMember.objects.bulk_create(
                [
                    SegmentMember(segment=segment, subscriber_id=sid, generation=generation)
                    for sid in subscriber_ids
                ],
                update_conflicts=True,
                unique_fields=["segment", "subscriber"],
                update_fields=["generation"],
            )
            Segment.objects.filter(pk=segment.pk).update(
                members_cursor=page.next_cursor or "",
                members_matched=F("members_matched") + len(subscriber_ids),
                members_unmatched=F("members_unmatched") + unmatched,
            )
        result.pages += 1
        result.matched += len(subscriber_ids)
        result.unmatched += unmatched
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
        if max_pages is not None and result.pages >= max_pages:
            return result
    with transaction.atomic():
        result.removed, _ = SegmentMember.objects.filter(
            segment=segment, generation__lt=generation
        ).delete()
        # A whole read counts the segment too (members who are readers or not).
        Segment.objects.filter(pk=segment.pk).update(
            members_generation=generation,
            members_refreshing=False,
            members_cursor="",
            members_refreshed_at=timezone.now(),
            member_count=F("members_matched") + F("members_unmatched"),
            count_updated_at=timezone.now(),
        )
    segment.refresh_from_db()
    result.matched, result.unmatched = segment.members_matched, segment.members_unmatched
    result.complete = True
    return result


def match(members: list[tuple[str, str]]) -> tuple[set[int], int]:
    """SharpSend subscriber ids for a page of (email, platform id), and how many had none.

    Matched by email: SharpSend's contacts reach each platform with their email, so it is the
    one identifier both sides hold (a member listed by id alone is counted unmatched).
    """
    emails = {normalise_email(email) for email, _ in members if email}
    found = dict(Subscriber.objects.filter(email__in=emails).values_list("email", "id"))
    ids = {found[e] for e in emails if e in found}
    unmatched = len(emails) - len(ids) + sum(1 for email, _ in members if not email)
    return ids, unmatched


def stale_segments():
    """Segments whose members are due to be read again, on platforms that list members."""
    from integrations.platforms.registry import all_platforms

    slugs = [p.slug for p in all_platforms() if p.supports(Capability.LIST_SEGMENT_MEMBERS)]
    due = timezone.now() - STALE_AFTER
    return Segment.objects.filter(
        Q(members_refreshed_at__isnull=True)
        | Q(members_refreshed_at__lt=due)
        | Q(members_refreshing=True),
        integration__platform__in=slugs,
        integration__enabled=True,
    )
