"""The console home: integration health, API usage charts, recent runs."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.shortcuts import render

from integrations import usage


@staff_member_required
@permission_required("integrations.view_integration", raise_exception=True)
def home(request):
    health = usage.health()
    features = usage.usage_by_feature()
    return render(
        request,
        "integrations/home.html",
        {
            **admin.site.each_context(request),
            "title": "Console",
            "health": health,
            "attention": [h for h in health if not h.healthy],
            "features": features,
            "charts": {"hourly": usage.hourly_usage(), "features": features},
            "runs": usage.recent_runs(),
        },
    )
