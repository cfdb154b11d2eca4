"""The analytics dashboard: assignments and platforms compared, one assignment in detail, CSV."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import get_object_or_404, render

from campaigns import analytics
from campaigns.models import Assignment
from campaigns.services import experiments
from sharpsend.csv_export import csv_response

viewer = permission_required("campaigns.view_assignment", raise_exception=True)


def _context(request, **extra) -> dict:
    return {**admin.site.each_context(request), **extra}


@staff_member_required
@viewer
def dashboard(request):
    pairs = analytics.sends_with_latest(analytics.sent_sends())
    assignments = analytics.by_assignment(pairs)
    chart = {
        "labels": [t.label for t in assignments],
        "open_rate": [t.open_rate for t in assignments],
        "click_rate": [t.click_rate for t in assignments],
    }
    return render(
        request,
        "campaigns/analytics.html",
        _context(
            request,
            title="Analytics",
            assignments=assignments,
            platforms=analytics.by_platform(pairs),
            chart=chart,
        ),
    )


@staff_member_required
@viewer
def assignment(request, pk: int):
    found = get_object_or_404(Assignment, pk=pk)
    pairs = analytics.sends_with_latest(analytics.sent_sends().filter(target__assignment=found))
    (total,) = analytics.by_assignment(pairs) or [analytics.Totals(label=found.title)]
    test = experiments.results(found.experiment) if hasattr(found, "experiment") else None
    return render(
        request,
        "campaigns/analytics_assignment.html",
        _context(
            request,
            title=f"Analytics: {found.title}",
            assignment=found,
            total=total,
            targets=analytics.by_target(pairs),
            test=test,
            chart={"growth": analytics.growth(found), "test": test.chart() if test else None},
        ),
    )


@staff_member_required
@viewer
def export_csv(request):
    pairs = analytics.sends_with_latest(analytics.sent_sends())
    header = ["assignment", "target", "sent_at", *analytics.FIGURES, "open_rate", "click_rate"]
    rows = (
        [
            row.send.target.assignment.title,
            row.label,
            row.send.sent_at.isoformat() if row.send.sent_at else "",
            *[row.figures[name] for name in analytics.FIGURES],
            row.open_rate,
            row.click_rate,
        ]
        for row in analytics.by_target(pairs)
    )
    return csv_response("sharpsend-analytics.csv", header, rows)
