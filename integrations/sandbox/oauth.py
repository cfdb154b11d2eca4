"""The sandbox's OAuth 2.0 authorization server, for every emulated platform that has OAUTH.

An emulator module opts in with OAUTH = {"exchange_auth": "body"|"basic",
"refresh_auth": "body"|"basic", "pkce": bool, "rotates": bool, "scope": str, "extra": dict},
as the platform documents (scope and extra fields are echoed in token replies).
Access tokens are short-lived (SANDBOX_OAUTH_ACCESS_TTL); refresh tokens rotate.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from django.conf import settings
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from integrations.sandbox import accounts
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxOAuthCode, SandboxOAuthToken
from integrations.sandbox.registry import emulators


def _config(slug: str) -> dict:
    module = emulators().get(slug)
    if module is None or not hasattr(module, "OAUTH"):
        raise Http404("this platform has no OAuth in the sandbox")
    return module.OAUTH


def client_id(slug: str) -> str:
    return f"sandbox-{slug}-client-id"


def client_secret(slug: str) -> str:
    return f"sandbox-{slug}-client-secret"


def _error(error: str, description: str, status: int = 400) -> HttpResponse:
    return json_response({"error": error, "error_description": description}, status=status)


@csrf_exempt
@require_http_methods(["GET", "POST"])
def authorize(request, slug: str):
    """The consent page: who asks, for which account; Allow or Deny."""
    config = _config(slug)
    params = request.GET
    if params.get("client_id") != client_id(slug) or params.get("response_type") != "code":
        return HttpResponse("Unknown client or response type.", status=400)
    redirect_uri = params.get("redirect_uri", "")
    if not redirect_uri:
        return HttpResponse("redirect_uri is required.", status=400)
    challenge = params.get("code_challenge", "")
    if config.get("pkce") and (not challenge or params.get("code_challenge_method") != "S256"):
        return HttpResponse("PKCE (S256) is required.", status=400)
    account = next(a for a in accounts.accounts_for(slug) if not a.read_only)
    state = params.get("state", "")
    if request.method == "POST":
        if request.POST.get("decision") != "allow":
            query = urlencode({"error": "access_denied", "state": state})
            return HttpResponseRedirect(f"{redirect_uri}?{query}")
        code = SandboxOAuthCode.objects.create(
            platform=slug,
            account=account.account,
            code=secrets.token_urlsafe(24),
            client_id=params["client_id"],
            redirect_uri=redirect_uri,
            code_challenge=challenge,
        )
        return HttpResponseRedirect(
            f"{redirect_uri}?{urlencode({'code': code.code, 'state': state})}"
        )
    hidden = format_html_join("", '<input type="hidden" name="{}" value="{}">', params.items())
    return HttpResponse(
        format_html(
            "<!doctype html><title>Sandbox {} — authorize</title>"
            "<h1>Sandbox {}</h1><p>SharpSend console asks to access the account "
            "<strong>{}</strong>.</p><form method='post'>{}"
            "<button name='decision' value='allow' id='allow'>Allow</button> "
            "<button name='decision' value='deny' id='deny'>Deny</button></form>",
            slug,
            slug,
            account.name,
            hidden,
        )
    )


def _client_from(request, slug: str, mode: str) -> bool:
    """True when the app authenticated as the platform documents (Basic or form body)."""
    if mode == "basic":
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            given = base64.b64decode(header[6:]).decode()
        except ValueError:
            return False
        return given == f"{client_id(slug)}:{client_secret(slug)}"
    return request.POST.get("client_id") == client_id(slug) and request.POST.get(
        "client_secret"
    ) == client_secret(slug)


def _issue(slug: str, account: str) -> dict:
    """A new token pair for `account`, answered as the platform's token endpoint does."""
    config = _config(slug)
    ttl = int(settings.SANDBOX_OAUTH_ACCESS_TTL)
    token = SandboxOAuthToken.objects.create(
        platform=slug,
        account=account,
        access_token=f"sbx-at-{secrets.token_urlsafe(24)}",
        refresh_token=f"sbx-rt-{secrets.token_urlsafe(24)}",
        access_expires_at=timezone.now() + timedelta(seconds=ttl),
    )
    return {
        "access_token": token.access_token,
        "refresh_token": token.refresh_token,
        "token_type": "bearer",
        "expires_in": ttl,
        "scope": config.get("scope", "full"),
        **config.get("extra", {}),
    }


@csrf_exempt
@require_POST
def token(request, slug: str):
    config = _config(slug)
    if request.content_type != "application/x-www-form-urlencoded":
        return _error("invalid_request", "the body must be form-encoded")
    grant = request.POST.get("grant_type")
    if grant == "authorization_code":
        if not _client_from(request, slug, config["exchange_auth"]):
            return _error("invalid_client", "client authentication failed", 401)
        code = SandboxOAuthCode.objects.filter(
            platform=slug, code=request.POST.get("code", ""), used=False
        ).first()
        if code is None or code.redirect_uri != request.POST.get("redirect_uri"):
            return _error("invalid_grant", "unknown, used or mismatched code")
        if code.code_challenge:
            verifier = request.POST.get("code_verifier", "")
            digest = hashlib.sha256(verifier.encode()).digest()
            expected = base64.urlsafe_b64encode(digest).decode().rstrip("=")
            if expected != code.code_challenge:
                return _error("invalid_grant", "PKCE verification failed")
        updated = SandboxOAuthCode.objects.filter(pk=code.pk, used=False).update(used=True)
        if not updated:
            return _error("invalid_grant", "code already used")
        return json_response(_issue(slug, code.account))
    if grant == "refresh_token":
        if not _client_from(request, slug, config.get("refresh_auth", config["exchange_auth"])):
            return _error("invalid_client", "client authentication failed", 401)
        current = SandboxOAuthToken.objects.filter(
            platform=slug,
            refresh_token=request.POST.get("refresh_token", ""),
            refresh_revoked=False,
        ).first()
        if current is None:
            return _error("invalid_grant", "refresh token invalid, revoked or rotated")
        if config.get("rotates", True):
            revoked = SandboxOAuthToken.objects.filter(pk=current.pk, refresh_revoked=False).update(
                refresh_revoked=True
            )
            if not revoked:
                return _error("invalid_grant", "refresh token already used")
        return json_response(_issue(slug, current.account))
    return _error("unsupported_grant_type", f"grant_type {grant!r} is not supported")


def bearer_account(request, slug: str):
    """The sandbox account whose live access token the request carries, or None."""
    header = request.headers.get("Authorization", "")
    if not header.lower().startswith("bearer "):
        return None
    row = SandboxOAuthToken.objects.filter(platform=slug, access_token=header[7:].strip()).first()
    if row is None or row.access_expires_at <= timezone.now():
        return None
    return next((a for a in accounts.accounts_for(slug) if a.account == row.account), None)


def issue_demo_token(slug: str) -> dict:
    """A token for the demo account, as if a user had pressed Allow (for seed_demo)."""
    account = next(a for a in accounts.accounts_for(slug) if not a.read_only)
    return _issue(slug, account.account)
