"""The sandbox index: every emulator's base URL and test credentials, for staff."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from integrations.sandbox import catalog


@staff_member_required
def index(request):
    """Staff only (others go to the login page): the keys are fake, but they still open the
    console's sandbox accounts."""
    if not request.user.has_perm("integrations.view_integration"):
        raise PermissionDenied("You may not see the sandbox's test credentials.")
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the tables need the width
        "title": "Sandbox",
        "root_url": catalog.root_url(),
        "platforms": catalog.sandbox_platforms(),
        "kinds": catalog.KIND_TITLES,
    }
    return render(request, "integrations/sandbox_index.html", context)
