"""The reads the pages and the admin share (integrations/selectors.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audience.models import Subscriber
from integrations import selectors
from integrations.models import (
    ApiCall,
    Integration,
    OAuthConnection,
    Outcome,
    SyncRecord,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return Integration.objects.create(platform="iterable", name="metered", region="us")


# --- API usage ------------------------------------------------------------------------------------


def test_usage_with_no_calls(integration):
    usage = selectors.api_usage(integration)
    assert usage["calls"] == 0
    assert usage["errors"] == 0
    assert usage["error_rate"] == 0.0
    assert usage["median_ms"] is None
    assert usage["p95_ms"] is None
    assert usage["last_call_at"] is None


def test_usage_counts_errors_and_latency(integration, record_api_call):
    for latency in (10, 20, 30):
        record_api_call(integration, latency=latency)
    record_api_call(integration, ok=False, status=500, kind="transient", latency=40)
    other = Integration.objects.create(platform="iterable", name="other", region="us")
    record_api_call(other, ok=False, latency=1000)

    usage = selectors.api_usage(integration)
    assert usage["calls"] == 4
    assert usage["errors"] == 1
    assert usage["error_rate"] == 0.25
    assert usage["median_ms"] == 20  # nearest rank: the 2nd of 4
    assert usage["p95_ms"] == 40
    assert usage["last_call_at"] == ApiCall.objects.filter(integration=integration).latest("at").at


@pytest.mark.parametrize(
    "values, median, p95",
    [
        ([5.0], 5.0, 5.0),
        ([10.0, 20.0], 10.0, 20.0),
        ([1.0, 2.0, 3.0], 2.0, 3.0),
        (list(range(1, 21)), 10, 19),
        (list(range(1, 101)), 50, 95),
    ],
)
def test_percentiles_are_nearest_rank(values, median, p95):
    assert selectors.percentile(sorted(values), 50) == median
    assert selectors.percentile(sorted(values), 95) == p95


def test_usage_window(integration, record_api_call):
    record_api_call(integration)
    ApiCall.objects.update(at=timezone.now() - timedelta(hours=30))
    record_api_call(integration)
    assert selectors.api_usage(integration)["calls"] == 1
    assert selectors.api_usage(integration, since=timezone.now() - timedelta(days=2))["calls"] == 2


def test_usage_reports_last_success(integration):
    integration.last_success_at = timezone.now()
    assert selectors.api_usage(integration)["last_success_at"] == integration.last_success_at


# --- runs -----------------------------------------------------------------------------------------


def test_runs_newest_first_and_the_last_one_annotated(integration, django_assert_num_queries):
    first = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.FAILED
    )
    second = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.PARTIAL
    )
    SyncRun.objects.filter(pk=first.pk).update(created_at=second.created_at)  # a tie: id decides
    Integration.objects.create(platform="iterable", name="never synced", region="us")
    assert list(selectors.runs_of(integration)) == [second, first]

    with django_assert_num_queries(1):
        rows = {i.name: i for i in selectors.with_last_sync(Integration.objects.all())}
        assert selectors.token_health(rows["metered"]) is None  # joined: no query of its own
    assert rows["metered"].last_sync_status == SyncStatus.PARTIAL
    assert rows["metered"].last_sync_at == second.created_at
    assert rows["never synced"].last_sync_status is None


def test_a_segment_push_is_not_the_integrations_last_sync(integration):
    from audience.models import AudienceSegment
    from integrations.models import SegmentPush, SyncKind

    synced = SyncRun.objects.create(
        integration=integration, trigger=SyncTrigger.MANUAL, status=SyncStatus.SUCCEEDED
    )
    segment = AudienceSegment.objects.create(name="VIPs", slug="vips")
    push = SegmentPush.objects.create(segment=segment, integration=integration)
    pushed = SyncRun.objects.create(integration=integration, kind=SyncKind.SEGMENT,
                                    segment_push=push, trigger=SyncTrigger.COMMAND,
                                    status=SyncStatus.FAILED)  # fmt: skip
    assert list(selectors.runs_of(integration)) == [pushed, synced]  # listed with the runs
    (row,) = selectors.with_last_sync(Integration.objects.filter(pk=integration.pk))
    assert (row.last_sync_status, row.last_sync_at) == (SyncStatus.SUCCEEDED, synced.created_at)


# --- a run's records ------------------------------------------------------------------------------


@pytest.fixture
def records(integration):
    run = SyncRun.objects.create(integration=integration, trigger=SyncTrigger.MANUAL)
    reader = Subscriber.objects.create(email="reader@example.com")
    rows = [
        ("ann@example.com", Outcome.REJECTED_DATA, "invalid_email", "email is invalid"),
        ("bob@example.com", Outcome.REJECTED_COMPLIANCE, "suppressed", "address is suppressed"),
        ("cat@example.org", Outcome.REJECTED_DATA, "too_long", "first name is too long"),
    ]
    for email, outcome, code, message in rows:
        SyncRecord.objects.create(
            run=run, subscriber=reader, email=email, outcome=outcome, code=code, message=message
        )
    return run


def emails(records) -> list[str]:
    return sorted(r.email for r in records)


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ["ann@example.com", "bob@example.com", "cat@example.org"]),
        ("SUPPRESSED", ["bob@example.com"]),  # the code or the message, any case
        ("example.org", ["cat@example.org"]),
        ("is invalid", ["ann@example.com"]),  # every word, in any field
        ("name long", ["cat@example.org"]),  # words in any order
        ('"name long"', []),  # quoted words are one phrase
        ('"is too"', ["cat@example.org"]),
        ("invalid suppressed", []),
    ],
)
def test_record_search_matches_every_word(records, query, expected):
    assert emails(selectors.records_of(records, query=query)) == expected


def test_records_of_one_outcome(records):
    found = selectors.records_of(records, outcome=Outcome.REJECTED_DATA, query="example")
    assert emails(found) == ["ann@example.com", "cat@example.org"]


# --- OAuth token health ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_in, expiry",
    [
        (timedelta(minutes=30), "expires in 29\xa0minutes"),
        (timedelta(minutes=-1), "expired"),
        (None, "does not expire"),
    ],
)
def test_token_health(integration, expires_in, expiry):
    refreshed = timezone.now() - timedelta(hours=1)
    OAuthConnection.objects.create(
        integration=integration,
        access_token="fake-access",
        refresh_token="fake-refresh",
        expires_at=timezone.now() + expires_in if expires_in is not None else None,
        last_refreshed_at=refreshed,
        refresh_failures=2,
        last_refresh_error="invalid_grant",
    )
    health = selectors.token_health(Integration.objects.get(pk=integration.pk))
    assert health.expiry == expiry
    assert (health.last_refreshed_at, health.refresh_failures, health.last_refresh_error) == (
        refreshed,
        2,
        "invalid_grant",
    )
    assert "fake" not in repr(health)


def test_no_token_health_without_an_oauth_connection(integration):
    assert selectors.token_health(integration) is None
