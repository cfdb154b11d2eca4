"""Metering of platform calls and the usage figures built from it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import metering
from integrations.models import ApiCall, Integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return Integration.objects.create(platform="iterable", name="metered", region="us")


def call(integration, *, ok=True, latency=10.0, path="/api/lists", status=200, kind=""):
    metering.record_call(
        integration,
        surface="api",
        method="GET",
        path=path,
        status_code=status,
        ok=ok,
        error_kind=kind,
        latency_ms=latency,
        bytes_sent=3,
        bytes_received=7,
    )


def test_record_call_stores_one_row(integration):
    before = timezone.now()
    call(integration, ok=False, status=429, kind="rate_limited", latency=12.5)
    row = ApiCall.objects.get()
    assert (row.integration, row.surface, row.method, row.path) == (
        integration,
        "api",
        "GET",
        "/api/lists",
    )
    assert (row.status_code, row.ok, row.error_kind) == (429, False, "rate_limited")
    assert (row.latency_ms, row.bytes_sent, row.bytes_received) == (12.5, 3, 7)
    assert before <= row.at <= timezone.now()


def test_record_call_without_status_and_with_a_long_path(integration):
    call(integration, status=None, ok=False, kind="transient", path="/" + "p" * 400)
    row = ApiCall.objects.get()
    assert row.status_code is None
    assert len(row.path) == 300


def test_usage_with_no_calls(integration):
    usage = metering.usage(integration)
    assert usage["calls"] == 0
    assert usage["errors"] == 0
    assert usage["error_rate"] == 0.0
    assert usage["median_ms"] is None
    assert usage["p95_ms"] is None
    assert usage["last_call_at"] is None


def test_usage_counts_errors_and_latency(integration):
    for latency in (10, 20, 30):
        call(integration, latency=latency)
    call(integration, ok=False, status=500, kind="transient", latency=40)
    other = Integration.objects.create(platform="iterable", name="other", region="us")
    call(other, ok=False, latency=1000)

    usage = metering.usage(integration)
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
    assert metering._percentile(sorted(values), 50) == median
    assert metering._percentile(sorted(values), 95) == p95


def test_usage_window(integration):
    call(integration)
    ApiCall.objects.update(at=timezone.now() - timedelta(hours=30))
    call(integration)
    assert metering.usage(integration)["calls"] == 1
    assert metering.usage(integration, since=timezone.now() - timedelta(days=2))["calls"] == 2


def test_usage_reports_last_success(integration):
    integration.last_success_at = timezone.now()
    assert metering.usage(integration)["last_success_at"] == integration.last_success_at


def test_prune_deletes_only_old_calls(integration):
    for _ in range(3):
        call(integration)
    old = list(ApiCall.objects.values_list("id", flat=True)[:2])
    ApiCall.objects.filter(id__in=old).update(at=timezone.now() - timedelta(days=31))
    assert metering.prune(older_than_days=30) == 2
    assert ApiCall.objects.count() == 1
    assert metering.prune(older_than_days=30) == 0
