"""The console home in Chromium: health, the four usage charts drawn, no script refused."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from integrations.models import (
    ApiCall,
    ApiFeature,
    IntegrationStatus,
    SyncRun,
    SyncStatus,
    SyncTrigger,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def a_day_of_calls(make_integration):
    rng = random.Random(3)
    now = timezone.now()
    kit = make_integration("kit", name="Kit newsletter")
    cio = make_integration("customerio", name="Customer.io journeys")
    make_integration(
        "keap", name="Keap CRM", status=IntegrationStatus.NEEDS_ATTENTION,
        last_error="Keap refused to refresh the access token (invalid_grant): reconnect.",
    )  # fmt: skip
    SyncRun.objects.create(integration=kit, trigger=SyncTrigger.SCHEDULE, status=SyncStatus.SUCCEEDED,
                           total=1200, seen=1200, created=40, updated=12)  # fmt: skip
    features = [ApiFeature.SYNC] * 6 + [ApiFeature.SEGMENTS, ApiFeature.CONNECTION]
    calls = []
    for hour in range(24):
        for integration, per_hour in ((kit, 6), (cio, 10)):
            for _ in range(rng.randint(per_hour // 2, per_hour)):
                ok = rng.random() > 0.06
                calls.append(ApiCall(
                    integration=integration, surface="api", method="POST", path="/v1/x",
                    status_code=200 if ok else 503, ok=ok, error_kind="" if ok else "transient",
                    latency_ms=rng.uniform(40, 220), feature=rng.choice(features),
                    at=now - timedelta(hours=hour, minutes=rng.randint(0, 59)),
                ))  # fmt: skip
    ApiCall.objects.bulk_create(calls)
    return len(calls)


def test_the_console_home_draws_health_and_usage(
    page, live_server, log_in, shot, admin_user, a_day_of_calls
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on("console", lambda m: problems.append(m.text) if "Content Security" in m.text else None)
    page.on(
        "response",
        lambda r: problems.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    log_in()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Console: health and API usage").click()
    expect(page.locator("#attention")).to_contain_text("1 integration needs a look")
    expect(page.locator("#attention")).to_contain_text("Keap CRM")
    expect(page.locator("#health tbody tr")).to_have_count(3)
    # The charts are drawn by a deferred script: wait for it (a loaded machine is slower).
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-features'))"
    )
    for chart in ("chart-calls", "chart-errors", "chart-latency", "chart-features"):
        drawn = page.evaluate(f"() => !!Chart.getChart(document.getElementById('{chart}'))")
        assert drawn, chart
    datasets = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-calls')).data.datasets.length"
    )
    assert datasets == 2  # Kit and Customer.io made calls; Keap none
    total = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-calls')).data.datasets"
        ".flatMap(d => d.data).reduce((a, b) => a + b, 0)"
    )
    assert total == a_day_of_calls
    expect(page.locator("#features")).to_contain_text("Contact sync")
    assert problems == []  # no script error, no CSP refusal, no missing file
    shot("console-home")
