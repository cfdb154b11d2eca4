"""The console home's figures: hourly usage, usage by feature, health (integrations/usage.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import usage
from integrations.models import (
    ApiCall,
    ApiFeature,
    IntegrationStatus,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)

pytestmark = pytest.mark.django_db


def call(integration, at, *, ok=True, latency=10.0, feature=ApiFeature.SYNC):
    return ApiCall.objects.create(
        integration=integration, surface="api", method="GET", path="/x", status_code=200 if ok else 500,
        ok=ok, latency_ms=latency, at=at, feature=feature,
    )  # fmt: skip


@pytest.fixture
def now():
    return timezone.now().replace(minute=30, second=0, microsecond=0)


def test_hourly_usage_fills_every_hour_and_buckets_each_integration(make_integration, now):
    kit = make_integration("kit", name="Kit")
    cio = make_integration("customerio", name="Customer.io")
    call(kit, now - timedelta(hours=2), latency=10)
    call(kit, now - timedelta(hours=2, minutes=10), ok=False, latency=30)
    call(cio, now, latency=5)
    call(cio, now - timedelta(hours=30))  # outside the window
    result = usage.hourly_usage(since=now - timedelta(hours=5), until=now)
    assert len(result["hours"]) == 6  # the five hours back and the current one
    assert result["hours"][-1] == timezone.localtime(now).strftime("%H:00")
    by_name = {s["name"]: s for s in result["integrations"]}
    assert list(by_name) == ["Customer.io", "Kit"]
    assert by_name["Kit"]["calls"] == [0, 0, 0, 2, 0, 0]
    assert by_name["Kit"]["errors"] == [0, 0, 0, 1, 0, 0]
    assert by_name["Kit"]["error_rate"] == [None, None, None, 0.5, None, None]
    assert by_name["Kit"]["latency_ms"][3] == 20.0
    assert by_name["Customer.io"]["calls"] == [0, 0, 0, 0, 0, 1]


def test_usage_by_feature_counts_calls_and_errors_busiest_first(make_integration, now):
    kit = make_integration("kit")
    for _ in range(3):
        call(kit, now, feature=ApiFeature.SYNC)
    call(kit, now, feature=ApiFeature.SEGMENTS, ok=False)
    call(kit, now - timedelta(days=2), feature=ApiFeature.SENDS)  # outside the window
    rows = usage.usage_by_feature(since=now - timedelta(hours=1))
    assert [(r["feature"], r["calls"], r["errors"]) for r in rows] == [
        ("sync", 3, 0),
        ("segments", 1, 1),
    ]
    assert rows[1]["label"] == "Segments" and rows[1]["error_rate"] == 1.0


def test_health_names_what_needs_a_look(make_integration, now):
    fine = make_integration("kit", name="Fine")
    make_integration(
        "keap", name="Broken", status=IntegrationStatus.ERROR, last_error="Keap refused the key"
    )
    failing = make_integration("customerio", name="Failing")
    SyncRun.objects.create(
        integration=failing, trigger=SyncTrigger.MANUAL, status=SyncStatus.FAILED
    )
    for i in range(4):
        call(failing, now, ok=i == 0)
    call(fine, now)
    rows = {h.integration.name: h for h in usage.health()}
    assert rows["Fine"].healthy and rows["Fine"].calls == 1
    assert rows["Broken"].problems == ("Error: Keap refused the key",)
    assert rows["Failing"].problems == ("last sync failed", "75% of 4 calls failed in 24 h")
    assert rows["Failing"].error_rate == 0.75


def test_health_is_a_fixed_number_of_queries_whatever_the_integrations(
    make_integration, now, django_assert_max_num_queries
):
    for i in range(8):
        integration = make_integration("kit", name=f"Kit {i}")
        call(integration, now)
    with django_assert_max_num_queries(1):
        rows = usage.health()
        [h.problems for h in rows]
    assert len(rows) == 8
