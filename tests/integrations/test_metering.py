"""Metering of platform calls (the usage figures read from it: test_selectors)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations import metering
from integrations.models import ApiCall, ApiFeature, Integration

pytestmark = pytest.mark.django_db


@pytest.fixture
def integration():
    return Integration.objects.create(platform="iterable", name="metered", region="us")


def test_record_call_stores_one_row(integration, record_api_call):
    before = timezone.now()
    record_api_call(integration, ok=False, status=429, kind="rate_limited", latency=12.5)
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


def test_record_call_without_status_and_with_a_long_path(integration, record_api_call):
    record_api_call(integration, status=None, ok=False, kind="transient", path="/" + "p" * 400)
    row = ApiCall.objects.get()
    assert row.status_code is None
    assert len(row.path) == 300


def test_prune_deletes_only_old_calls(integration, record_api_call):
    for _ in range(3):
        record_api_call(integration)
    old = list(ApiCall.objects.values_list("id", flat=True)[:2])
    ApiCall.objects.filter(id__in=old).update(at=timezone.now() - timedelta(days=31))
    assert metering.prune(older_than_days=30) == 2
    assert ApiCall.objects.count() == 1
    assert metering.prune(older_than_days=30) == 0


def test_a_call_outside_any_feature_counts_as_other(integration, record_api_call):
    record_api_call(integration)
    assert ApiCall.objects.get().feature == ApiFeature.OTHER


def test_the_innermost_feature_counts_and_the_outer_one_returns(integration, record_api_call):
    @metering.feature(ApiFeature.SENDS)
    def send():
        record_api_call(integration)
        with metering.feature(ApiFeature.METRICS):
            record_api_call(integration)
        record_api_call(integration)

    with metering.feature("sync"):
        send()
        record_api_call(integration)
    record_api_call(integration)
    features = list(ApiCall.objects.order_by("id").values_list("feature", flat=True))
    assert features == ["sends", "metrics", "sends", "sync", "other"]


def test_an_unknown_feature_is_refused():
    with pytest.raises(ValueError):
        metering.feature("marketing")


def test_a_decorated_function_keeps_its_feature_in_concurrent_threads(integration):
    import threading

    seen = []
    barrier = threading.Barrier(4)

    @metering.feature(ApiFeature.SENDS)
    def work():
        barrier.wait()  # all four inside the decorator at once
        seen.append(metering.current_feature())

    errors = []

    def in_thread():
        try:
            work()
        except Exception as exc:  # a token reset in the wrong context raises here
            errors.append(exc)

    threads = [threading.Thread(target=in_thread) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert seen == ["sends"] * 4
    assert metering.current_feature() == "other"
