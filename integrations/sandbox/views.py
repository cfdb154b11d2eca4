"""The sandbox index: every emulator's base URL and test credentials, for staff."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import render

from integrations.platforms.registry import get_platform
from integrations.sandbox import catalog
from integrations.sandbox.registry import emulated


def _may_see_keys(request) -> None:
    """Staff only (others go to the login page first): the keys are fake, but they still open
    the console's sandbox accounts."""
    if not request.user.has_perm("integrations.view_integration"):
        raise PermissionDenied("You may not see the sandbox's test credentials.")


@staff_member_required
def index(request):
    _may_see_keys(request)
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the tables need the width
        "title": "Sandbox",
        "root_url": catalog.root_url(),
        "platforms": catalog.sandbox_platforms(),
    }
    return render(request, "integrations/sandbox_index.html", context)


@staff_member_required
def wizard_values(request, slug: str):
    """What the wizard's "Use the sandbox" fills in, fetched when pressed (so the keys are not
    in the wizard's page until asked for)."""
    _may_see_keys(request)
    if not emulated(slug):
        raise Http404("The sandbox does not emulate this platform.")
    return JsonResponse(catalog.wizard_values(get_platform(slug)))
