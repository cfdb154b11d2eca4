"""The analytics figures and pages: latest snapshot per send, sums, rates, permission, CSV."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from campaigns import analytics
from campaigns.models import AssignmentStatus, CampaignSend, MetricsSnapshot, SendState

pytestmark = pytest.mark.django_db


@pytest.fixture
def sent_assignment(make_integration, make_assignment):
    cio = make_integration("customerio", name="Customer.io")
    mc = make_integration("mailchimp", name="Mailchimp")
    assignment = make_assignment(
        (cio, None, "api_triggered_broadcast", "1"), (mc, None, "campaign", ""),
        status=AssignmentStatus.SENT,
    )  # fmt: skip
    sent_at = timezone.now() - timedelta(hours=30)
    sends = []
    for i, target in enumerate(assignment.targets.all()):
        sends.append(CampaignSend.objects.create(
            target=target, idempotency_key=f"k{i}", state=SendState.SENT, sent_at=sent_at,
        ))  # fmt: skip
    cio_send, mc_send = sends
    # An early read and a later one: the later counts.
    MetricsSnapshot.objects.create(send=cio_send, taken_at=sent_at + timedelta(hours=1),
                                   sent=1000, delivered=980, opened=50, clicked=5)  # fmt: skip
    MetricsSnapshot.objects.create(send=cio_send, taken_at=sent_at + timedelta(hours=24),
                                   sent=1000, delivered=980, opened=300, clicked=40,
                                   bounced=20, unsubscribed=3)  # fmt: skip
    MetricsSnapshot.objects.create(send=mc_send, taken_at=sent_at + timedelta(hours=24),
                                   sent=500, delivered=490, opened=150, clicked=10,
                                   bounced=10, unsubscribed=None)  # fmt: skip
    return assignment


def test_totals_sum_each_sends_latest_snapshot(sent_assignment, django_assert_max_num_queries):
    with django_assert_max_num_queries(2):
        pairs = analytics.sends_with_latest(analytics.sent_sends())
    (total,) = analytics.by_assignment(pairs)
    assert total.figures["opened"] == 450 and total.figures["delivered"] == 1470
    assert total.open_rate == pytest.approx(450 / 1470)
    assert total.click_to_open == pytest.approx(50 / 450)
    assert total.figures["unsubscribed"] == 3  # Mailchimp reported none: not counted as 0
    platforms = {t.label: t for t in analytics.by_platform(pairs)}
    assert platforms["Mailchimp"].figures["unsubscribed"] is None
    assert platforms["Customer.io"].click_rate == pytest.approx(40 / 980)


def test_growth_lists_each_platforms_reads_by_hours_since_the_send(sent_assignment):
    series = analytics.growth(sent_assignment)
    assert series["Customer.io"] == [
        {"hours": 1.0, "opened": 50, "clicked": 5},
        {"hours": 24.0, "opened": 300, "clicked": 40},
    ]
    assert len(series["Mailchimp"]) == 1


def test_pages_need_the_view_permission(client, sent_assignment):
    client.force_login(User.objects.create_user("nobody", is_staff=True))
    for url in (
        reverse("campaigns:analytics"),
        reverse("campaigns:assignment-analytics", args=[sent_assignment.pk]),
        reverse("campaigns:analytics-csv"),
    ):
        assert client.get(url).status_code == 403


def test_dashboard_and_assignment_page_show_the_figures(admin_client, sent_assignment):
    page = admin_client.get(reverse("campaigns:analytics")).content.decode()
    assert "Issue 42" in page and "30.6 %" in page  # 450 / 1470
    detail = admin_client.get(
        reverse("campaigns:assignment-analytics", args=[sent_assignment.pk])
    ).content.decode()
    assert "Customer.io · default audience" in detail and "11.1 %" in detail  # click-to-open


def test_the_csv_has_one_row_per_target(admin_client, sent_assignment):
    response = admin_client.get(reverse("campaigns:analytics-csv"))
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [(r["target"], r["opened"], r["unsubscribed"]) for r in rows] == [
        ("Customer.io · default audience", "300", "3"),
        ("Mailchimp · default audience", "150", ""),
    ]


def test_an_empty_dashboard_says_how_to_fill_it(admin_client):
    page = admin_client.get(reverse("campaigns:analytics")).content.decode()
    assert "No assignment has been sent yet" in page
