"""The analytics pages in Chromium: rates by assignment, an assignment's growth over 72 h."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from campaigns.models import AssignmentStatus, CampaignSend, MetricsSnapshot, SendState

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def two_sent_assignments(make_integration, make_assignment):
    cio = make_integration("customerio", name="Customer.io journeys")
    mc = make_integration("mailchimp", name="Mailchimp newsletter")
    made = []
    for title, lift in (("Markets this week", 0), ("Three stocks to watch", 40)):
        assignment = make_assignment(
            (cio, None, "api_triggered_broadcast", "1"), (mc, None, "campaign", ""),
            title=title, status=AssignmentStatus.SENT,
        )  # fmt: skip
        sent_at = timezone.now() - timedelta(hours=70)
        for i, target in enumerate(assignment.targets.all()):
            send = CampaignSend.objects.create(target=target, idempotency_key=f"{title}{i}",
                                               state=SendState.SENT, sent_at=sent_at)  # fmt: skip
            for hour, opened in ((1, 60), (6, 180), (24, 260), (48, 290), (70, 300)):
                MetricsSnapshot.objects.create(
                    send=send, taken_at=sent_at + timedelta(hours=hour), sent=1000,
                    delivered=980, opened=opened + lift * (hour > 1), clicked=opened // 8,
                    bounced=20, unsubscribed=2,
                )  # fmt: skip
        made.append(assignment)
    return made


def test_the_analytics_pages_draw_their_charts(
    page, live_server, log_in, shot, admin_user, two_sent_assignments
):
    problems = []
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "response",
        lambda r: problems.append(r.url) if r.status >= 400 and "favicon" not in r.url else None,
    )
    log_in()
    page.goto(f"{live_server.url}/admin/")
    page.get_by_role("link", name="Analytics").first.click()
    expect(page.locator("#assignments tbody tr")).to_have_count(2)
    expect(page.locator("#platforms")).to_contain_text("Mailchimp newsletter")
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-assignments'))"
    )
    bars = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-assignments')).data.datasets[0].data"
    )
    assert bars == [pytest.approx(600 / 1960), pytest.approx(680 / 1960)]
    shot("analytics")
    page.get_by_role("link", name="Three stocks to watch").click()
    expect(page.locator("#targets tbody tr")).to_have_count(2)
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-growth'))"
    )
    points = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-growth')).data.datasets.length"
    )
    assert points == 4  # opened and clicked for each platform
    expect(page.locator("#totals")).to_contain_text("34.7 %")  # 680 / 1960
    shot("assignment")
    assert problems == []


def test_an_ab_tests_results_show_each_variant_with_its_interval(
    page, live_server, log_in, shot, admin_user, make_integration, make_assignment
):
    from campaigns.models import AssignmentTarget
    from campaigns.services import experiments

    mc = make_integration("mailchimp", name="Mailchimp newsletter")
    assignment = make_assignment(
        (mc, None, "campaign", ""), title="Subject test", status=AssignmentStatus.SENDING
    )
    experiment = experiments.configure(
        assignment,
        [{"subject": "Markets this week"}, {"subject": "Three stocks to watch"}],
        min_sample=100,
    )
    for variant, opened in zip(experiment.variants.all(), (900, 1150), strict=True):
        target = AssignmentTarget.objects.create(
            assignment=assignment, integration=mc, method="campaign", variant=variant
        )
        send = CampaignSend.objects.create(
            target=target,
            idempotency_key=f"b{variant.label}",
            state=SendState.SENT,
            sent_at=timezone.now(),
        )
        MetricsSnapshot.objects.create(
            send=send, taken_at=timezone.now(), sent=4000, delivered=4000, opened=opened, clicked=90
        )
    experiment.state, experiment.started_at = "testing", timezone.now() - timedelta(hours=3)
    experiment.method = "split"  # sent above as the console's split (not Mailchimp's own test)
    experiment.save()
    experiments.select_winners()
    log_in()
    page.goto(f"{live_server.url}/console/analytics/assignments/{assignment.pk}/")
    expect(page.locator("#test-state")).to_contain_text(
        "Winner: B: Three stocks to watch (decided by test"
    )
    expect(page.locator("#variants tbody tr")).to_have_count(2)
    expect(page.locator('[data-variant="B"]')).to_contain_text("28.7 %")  # 1150 / 4000 = 28.75 %
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.getElementById('chart-test'))"
    )
    drawn = page.evaluate(
        "() => Chart.getChart(document.getElementById('chart-test')).data.datasets[1].data"
    )
    assert drawn == [pytest.approx(0.225), pytest.approx(0.2875)]
    shot("ab-results")
