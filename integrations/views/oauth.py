"""OAuth screens: start (to the platform's consent page) and the callback.

The state is random, bound to the staff user's session and used once: a forged or replayed
state is refused. Tokens never reach a page, a URL of ours or a log: the wizard keeps them
encrypted in its session storage until it saves; a reconnect saves them at once.
"""

from __future__ import annotations

import time

import orjson
from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import permission_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from integrations.models import AuditAction, Integration, IntegrationStatus
from integrations.platforms.errors import PlatformError
from integrations.services import audit, oauth
from integrations.views.storage import decrypt, encrypt

PENDING = "oauth_pending"
STATE_MAX_AGE = 600


def begin(
    request, integration: Integration, return_to: str, wizard_prefix: str = ""
) -> HttpResponse:
    """Remember what this authorization is for, then send the user to the platform."""
    redirect_uri = request.build_absolute_uri(reverse("integrations:oauth-callback"))
    authorization = oauth.authorization(integration, redirect_uri)
    pending = request.session.get(PENDING, {})
    pending[authorization.state] = {
        "user": request.user.pk,
        "at": time.time(),
        "platform": integration.platform,
        "region": integration.region,
        "api_base_url": integration.api_base_url,
        "integration": integration.pk,
        "verifier": encrypt(authorization.code_verifier) if authorization.code_verifier else "",
        "redirect_uri": redirect_uri,
        "return_to": return_to,
        "wizard_prefix": wizard_prefix,
    }
    request.session[PENDING] = pending
    return redirect(authorization.url)


@require_POST
@staff_member_required
@permission_required("integrations.change_integration", raise_exception=True)
def reconnect(request, pk: int):
    integration = get_object_or_404(Integration, pk=pk)
    page = reverse("integrations:integration", args=[pk])
    try:
        return begin(request, integration, return_to=page)
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect(page)


@require_GET
@staff_member_required
def callback(request):
    # Only someone who may connect an integration (the wizard) or change one (reconnect)
    # started an authorization; a user who lost that right since cannot finish it.
    if not (
        request.user.has_perm("integrations.add_integration")
        or request.user.has_perm("integrations.change_integration")
    ):
        raise PermissionDenied
    state = request.GET.get("state", "")
    pending = request.session.get(PENDING, {})
    entry = pending.pop(state, None)  # single use, whatever happens next
    request.session[PENDING] = pending
    if entry is None or entry["user"] != request.user.pk:
        return HttpResponseBadRequest(
            "This authorization is unknown, already used or not yours. Start again from the console."
        )
    if time.time() - entry["at"] > STATE_MAX_AGE:
        messages.error(request, "The authorization took too long. Please connect again.")
        return redirect(entry["return_to"])
    if request.GET.get("error"):
        messages.error(request, f"The platform did not grant access ({request.GET['error']}).")
        return redirect(entry["return_to"])
    integration = (
        Integration.objects.get(pk=entry["integration"])
        if entry["integration"]
        else Integration(
            platform=entry["platform"], region=entry["region"], api_base_url=entry["api_base_url"]
        )
    )
    verifier = decrypt(entry["verifier"]) if entry["verifier"] else ""
    try:
        token = oauth.exchange_code(
            integration, request.GET.get("code", ""), entry["redirect_uri"], verifier
        )
    except PlatformError as exc:
        messages.error(request, exc.message)
        return redirect(entry["return_to"])
    if integration.pk:
        oauth.save_connection(integration, token)
        Integration.objects.filter(pk=integration.pk).update(
            status=IntegrationStatus.CONNECTED, last_error=""
        )
        audit.record(
            AuditAction.OAUTH_CONNECTED,
            actor=request.user,
            via="console",
            target=integration,
            summary="Reconnected",
        )
        messages.success(request, f"{integration.name} is connected again.")
    else:
        # The endpoint it was issued for goes with it: the wizard drops it if that changes.
        token["for_endpoint"] = [entry["api_base_url"], entry["region"]]
        store_wizard_token(request, entry["wizard_prefix"], token)
        messages.success(request, "Connected. Test the connection to continue.")
    return redirect(entry["return_to"])


def store_wizard_token(request, prefix: str, token: dict) -> None:
    """Hand the token to the wizard in progress (encrypted; it saves it with the integration)."""
    tokens = request.session.get("oauth_tokens", {})
    tokens[prefix] = encrypt(orjson.dumps(token).decode())
    request.session["oauth_tokens"] = tokens


def wizard_token(request, prefix: str) -> dict | None:
    value = request.session.get("oauth_tokens", {}).get(prefix)
    return orjson.loads(decrypt(value)) if value else None


def forget_wizard_token(request, prefix: str) -> None:
    tokens = request.session.get("oauth_tokens", {})
    if tokens.pop(prefix, None) is not None:
        request.session["oauth_tokens"] = tokens
