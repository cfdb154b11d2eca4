"""The sandbox index: every emulator's base URL and test credentials, for staff; and the
settings form of the platforms whose webhooks are made in their own app."""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.views.decorators import staff_member_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, catalog, inapp
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


@staff_member_required
@require_POST
def add_webhook(request, slug: str):
    """What a person does on the platform's own settings page: add a webhook posting to the
    console (its URL and, where the platform takes one, the console's token, as the
    integration's page shows them). Those who may change integrations only: the emulator then
    posts to the console."""
    if not request.user.has_perm("integrations.change_integration"):
        raise PermissionDenied("You may not set up the sandbox's webhooks.")
    if not emulated(slug):
        raise Http404("The sandbox does not emulate this platform.")
    account = request.POST.get("account", "")
    if account not in {a.account for a in accounts.accounts_for(slug)}:
        account = accounts.demo_account(slug).account
    try:
        hook = inapp.add_in_app(
            slug,
            account,
            request.POST.get("url", "").strip(),
            events=request.POST.getlist("events"),
            secret=request.POST.get("secret", ""),
        )
    except inapp.Refused as exc:
        messages.error(request, f"{get_platform(slug).label}: {exc}")
    else:
        messages.success(request, f"{get_platform(slug).label}: {hook.name} added; it posts "
                         "what happens from now on.")  # fmt: skip
    return redirect(reverse("sandbox-index") + f"#sandbox-{slug}")
