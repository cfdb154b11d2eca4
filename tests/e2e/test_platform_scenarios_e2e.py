"""The scenarios every platform runs end to end, over the sandbox and real HTTP.

One suite, one case a platform: what differs between platforms (account labels, regions,
permissions, API-call counts, stored field names, segment names and counts) is data in
tests/e2e/platform_cases.py. What only one platform does stays in its own test module.
"""

from __future__ import annotations

import pytest
from django.db.models import Q

from audience.models import SubscriberStatus
from integrations.models import (
    ApiCall,
    IntegrationStatus,
    Outcome,
    Segment,
    SyncStateStatus,
    SyncStatus,
)
from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact, SandboxFault, SandboxSegment
from integrations.services import connection, segments
from tests.e2e.platform_cases import CASES, SUBSCRIBED, api_calls, check_stored
from tests.e2e.support import sync_states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

every_platform = pytest.mark.parametrize("case", CASES, ids=str)


def cases_with(attribute: str):
    """Parametrise over the cases that run the scenario `attribute` describes."""
    cases = [case for case in CASES if getattr(case, attribute) is not None]
    return pytest.mark.parametrize("case", cases, ids=str)


@pytest.fixture
def integration(case_integration):
    """The case's platform connected to its sandbox with the case's mappings (conftest)."""
    return case_integration


@every_platform
def test_connection_ok(case, integration):
    expected = case.connection
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert report.can_write is True
    if expected.account_prefix:
        assert report.account.startswith(expected.account_prefix), report.account
    if expected.account is not None:
        assert report.account == expected.account
    if expected.region is not None:
        assert report.region == expected.region
    if expected.permissions_exact:
        assert report.permissions == expected.permissions
    else:
        assert {k: report.permissions.get(k) for k in expected.permissions} == (
            expected.permissions
        )
    for words in expected.detail_has:
        assert words in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    assert integration.connection_report["ok"] is True
    assert integration.last_error == ""
    if expected.stores_nothing:
        assert not SandboxContact.objects.exists()


@every_platform
def test_sync_then_nothing_then_only_the_change(case, integration, make_subscribers, run_sync):
    expected = case.sync
    subscribers = make_subscribers()

    first = run_sync(integration)
    assert first.status == SyncStatus.SUCCEEDED, first.error
    assert first.created == SUBSCRIBED
    assert (first.updated, first.unchanged, first.failed, first.excluded) == (0, 0, 0, 2)
    assert first.seen == SUBSCRIBED
    assert first.job_state == ""
    if expected.first_calls is not None:
        calls = expected.first_calls
        assert first.api_calls == (calls(subscribers) if callable(calls) else calls)
    for words in expected.warnings:
        assert any(words in warning for warning in first.warnings), first.warnings
    for warning in expected.exact_warnings:
        assert warning in first.warnings, first.warnings
    for counted in expected.counted:
        if counted.after_first is not None:
            assert api_calls(integration, counted.where) == counted.after_first, counted
    stored = case.stored()
    assert len(stored) == SUBSCRIBED
    for subscriber in subscribers:
        key = expected.key(subscriber)
        if subscriber.status != SubscriberStatus.SUBSCRIBED:
            assert key not in stored  # never create an unsubscribed reader
            continue
        if callable(expected.contact):
            expected.contact(stored[key], subscriber)
        else:
            check_stored(stored[key], expected.contact, subscriber)
    assert set(sync_states(integration).values()) == {SyncStateStatus.SYNCED}
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    assert integration.last_success_at is not None

    calls_before = ApiCall.objects.count()
    second = run_sync(integration)
    assert second.status == SyncStatus.SUCCEEDED
    assert second.unchanged == SUBSCRIBED
    assert (second.created, second.updated, second.failed) == (0, 0, 0)
    assert second.api_calls == 0  # nothing to send: not even the field check
    assert ApiCall.objects.count() == calls_before
    assert not second.records.exists()

    changed = expected.change(subscribers)
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert (third.created, third.updated, third.unchanged) == (0, 1, SUBSCRIBED - 1)
    if expected.third_calls is not None:
        assert third.api_calls == expected.third_calls
    for counted in expected.counted:
        if counted.after_third is not None:
            assert api_calls(integration, counted.where) == counted.after_third, counted
    assert not third.records.exists()  # only records the platform refused get a row
    updated = integration.sync_states.filter(last_outcome=Outcome.UPDATED)
    assert list(updated.values_list("subscriber_id", flat=True)) == [changed.pk]
    check_stored(case.stored()[expected.key(changed)], expected.changed, changed)
    # Updated in place: no second contact for the changed reader.
    assert SandboxContact.objects.filter(platform=case.slug).count() == SUBSCRIBED

    if expected.after:
        expected.after(integration, subscribers, run_sync, case.stored)


@cases_with("segments")
def test_segment_import_counts_follow_the_sandbox(case, integration, make_subscribers, run_sync):
    expected = case.segments
    if expected.seed_first:
        registry.seed(case.slug)
    make_subscribers()
    run_sync(integration)

    if expected.budget is None:
        result = segments.import_segments(integration)
    else:
        result = segments.import_segments(integration, budget=expected.budget)
    if expected.result is None:
        assert result.imported == expected.imported
    else:
        assert (result.imported, result.counted, result.counts_pending) == expected.result
    rows = {getattr(s, expected.key): s for s in Segment.objects.filter(integration=integration)}

    def values(segment):
        found = tuple(getattr(segment, name) for name in expected.fields)
        return found if len(found) > 1 else found[0]

    assert {key: values(segment) for key, segment in rows.items()} == expected.expected
    remotes = SandboxSegment.objects.filter(platform=case.slug, account=case.account)
    if expected.remote_id or expected.same_kind or expected.count_matches_remote:
        assert remotes.exists()
    for remote in remotes:
        segment = rows[remote.name]
        if expected.remote_id:
            assert segment.remote_id == expected.remote_id(remote)
        if expected.same_kind:
            assert segment.kind == remote.kind
        if expected.count_matches_remote:
            assert segment.member_count == remote.members().count()
        if expected.count_updated:
            assert segment.count_updated_at is not None
    for where, count in expected.api_calls:
        assert api_calls(integration, where) == count, where
    if expected.after:
        expected.after(integration, rows, case.stored)


@cases_with("throttled")
def test_429_storm_loses_nothing(
    case, integration, make_subscribers, run_sync, settings, e2e_clock
):
    make_subscribers()
    emulation.set_faults(case.slug, throttle_next=1000, retry_after=1)

    stormy = run_sync(integration)
    assert stormy.status in (SyncStatus.FAILED, SyncStatus.PARTIAL)
    assert stormy.throttled == SUBSCRIBED
    assert stormy.created == 0
    assert set(stormy.records.values_list("outcome", flat=True)) == {Outcome.THROTTLED}
    throttled = api_calls(integration, case.throttled & Q(status_code=429))
    assert throttled == settings.PLATFORM_MAX_ATTEMPTS
    assert api_calls(integration, Q(status_code=429)) == throttled  # nowhere else
    assert SandboxFault.objects.get(platform=case.slug).throttle_next == 1000 - throttled
    # The client waited out each Retry-After (on the fake clock) before trying again.
    assert sum(1 for s in e2e_clock.sleeps if s >= 0.99) == settings.PLATFORM_MAX_ATTEMPTS - 1
    assert not case.stored()
    assert set(sync_states(integration).values()) == {SyncStateStatus.PENDING}

    emulation.set_faults(case.slug, throttle_next=0)
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert after.created == SUBSCRIBED
    assert len(case.stored()) == SUBSCRIBED
    assert set(sync_states(integration).values()) == {SyncStateStatus.SYNCED}


@cases_with("failing")
def test_503s_stop_the_run(case, integration, make_subscribers, run_sync, settings, small_batches):
    settings.SYNC_MAX_CONSECUTIVE_BATCH_FAILURES = 2
    subscribers = make_subscribers(unsubscribed=(12, 25))
    emulation.set_faults(case.slug, error_rate=1.0)
    small_batches(case.slug, 5)

    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert "Stopped after 2 batches" in run.error
    assert run.unknown == 10
    assert run.created == 0
    assert set(run.records.values_list("outcome", flat=True)) == {Outcome.UNKNOWN}
    assert run.cursor == subscribers[9].pk  # two batches of five, then it stopped
    failed = 2 * settings.PLATFORM_MAX_ATTEMPTS
    assert api_calls(integration, case.failing & Q(status_code=503)) == failed
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert len(sync_states(integration)) == 10
    assert not case.stored()

    emulation.set_faults(case.slug, error_rate=0.0)
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert after.created == SUBSCRIBED
    assert after.api_calls == 6  # 28 readers in batches of five
    assert len(case.stored()) == SUBSCRIBED
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED


@cases_with("revoke")
def test_key_revoked_mid_sync(
    case, integration, make_subscribers, run_sync, small_batches, revoke_after_first_write
):
    subscribers = make_subscribers(unsubscribed=(12, 25))
    small_batches(case.slug, 5)
    restore = revoke_after_first_write(case.slug, **case.revoke)

    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert (run.created, run.rejected_auth) == (5, 5)
    assert run.error
    for secret in case.revoke.values():
        assert secret not in run.error
    rejected = run.records.filter(outcome=Outcome.REJECTED_AUTH)
    assert [r.subscriber_id for r in rejected] == [s.pk for s in subscribers[5:10]]
    assert all("Test connection" in r.hint for r in rejected)
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert integration.last_error == run.error
    assert len(case.stored()) == 5
    states = sync_states(integration)
    assert [states[s.pk] for s in subscribers[:10]] == (
        [SyncStateStatus.SYNCED] * 5 + [SyncStateStatus.PENDING] * 5
    )
    assert len(states) == 10  # the rest were not attempted

    restore()
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert (after.created, after.unchanged) == (SUBSCRIBED - 5, 5)
    assert len(case.stored()) == SUBSCRIBED


def _lists_members(case) -> bool:
    from integrations.platforms.registry import get_platform
    from integrations.platforms.types import Capability

    return get_platform(case.slug).supports(Capability.LIST_SEGMENT_MEMBERS)


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.segments is not None and _lists_members(c)], ids=str
)
def test_segment_members_are_read_in_and_follow_the_platform(
    case, integration, make_subscribers, run_sync, monkeypatch
):
    import importlib

    from integrations.models import SegmentMember
    from integrations.platforms.errors import UnsupportedCapability
    from integrations.services import membership

    # Pages of 4 members (or the platform's smallest page), so segments take several pages
    # (Iterable answers a whole list at once: no pages to shrink).
    members_module = importlib.import_module(f"integrations.platforms.{case.slug}.members")
    size = None  # one page, however many members
    if hasattr(members_module, "MEMBERS_PER_PAGE"):
        size = max(4, getattr(members_module, "MEMBERS_PAGE_MIN", 1))
        monkeypatch.setattr(members_module, "MEMBERS_PER_PAGE", size)
    if case.segments.seed_first:
        registry.seed(case.slug)
    subscribers = make_subscribers()
    run_sync(integration)
    segments.import_segments(integration)

    def members_of(segment):
        return set(
            SegmentMember.objects.filter(segment=segment).values_list(
                "subscriber__email", flat=True
            )
        )

    read = {}
    for segment in Segment.objects.filter(integration=integration):
        try:
            result = membership.refresh_members(segment)
        except UnsupportedCapability:
            continue  # e.g. Kit's segments (its tags are listed)
        segment.refresh_from_db()
        paged = size is not None and segment.member_count > size
        assert result.complete and result.pages >= (2 if paged else 1)
        assert len(members_of(segment)) == segment.member_count == result.matched
        assert result.unmatched == 0
        read[segment.name] = segment
    growth = read["Growth Investors"]
    assert {email for email in members_of(growth)} == {
        s.email
        for s in subscribers
        if s.attributes.get("interest") == "growth" and s.status == "subscribed"
    }

    # One reader leaves the segment on the platform (their interest changes and is synced).
    leaving = next(s for s in subscribers if s.email in members_of(growth))
    leaving.attributes = {"interest": "dividends"}
    leaving.save()
    run_sync(integration)
    again = membership.refresh_members(growth)
    assert again.removed == 1
    assert leaving.email not in members_of(growth)
    growth.refresh_from_db()
    assert growth.members_generation == 2 and not growth.members_refreshing


@pytest.mark.parametrize("case", [c for c in CASES if c.slug == "customerio"], ids=str)
def test_a_member_refresh_cut_short_resumes_from_its_cursor(
    case, integration, make_subscribers, run_sync, monkeypatch
):
    from integrations.models import SegmentMember
    from integrations.platforms.customerio import members as cio_members
    from integrations.services import membership

    monkeypatch.setattr(cio_members, "MEMBERS_PER_PAGE", 3)
    if case.segments.seed_first:
        registry.seed(case.slug)
    make_subscribers()
    run_sync(integration)
    segments.import_segments(integration)
    everyone = Segment.objects.get(integration=integration, name="All readers")
    first = membership.refresh_members(everyone, max_pages=2)  # a worker stopping after 2 pages
    assert not first.complete and first.matched == 6
    everyone.refresh_from_db()
    assert everyone.members_refreshing and everyone.members_cursor
    pages_read = ApiCall.objects.filter(
        integration=integration, path__contains="membership", status_code=200
    )  # (the emulator's App API limit answers a burst with 429s, retried: not pages)
    calls_before = pages_read.count()
    rest = membership.refresh_members(everyone)
    assert rest.complete and rest.matched == SUBSCRIBED == everyone.member_count
    pages = pages_read.count()
    # The rest only: ceil(28 / 3) = 10 pages in all, 2 read before, none read twice.
    assert pages - calls_before == 8
    assert SegmentMember.objects.filter(segment=everyone).count() == SUBSCRIBED
