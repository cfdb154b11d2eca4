"""The Keap emulator's gate: the bearer token of the sandbox's OAuth server, the app's minute
throttle and daily quota, and Keap's quota headers on every answer."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import emulation, oauth
from integrations.sandbox.emulation import Emulator, json_response

PLATFORM = "keap"
HOSTS = {"api.keap.com", "api.infusionsoft.com"}

THROTTLE = (1500, 60.0)  # per OAuth app, a minute
DAILY = (150_000, 86_400.0)
THROTTLED_BODY = {"code": "429", "message": "Quota Exceeded", "status": "Request Throttled"}


def _error(status: int, message: str, status_text: str, headers=None) -> HttpResponse:
    body = {"code": status, "message": message, "status": status_text, "details": []}
    return json_response(body, status=status, headers=headers)


def _quota_headers(account: str) -> dict[str, str]:
    used_minute = len(emulation._windows.get(f"{PLATFORM}:{account}:minute", ()))
    used_day = len(emulation._windows.get(f"{PLATFORM}:{account}:day", ()))
    return {
        "x-keap-product-throttle-limit": str(THROTTLE[0]),
        "x-keap-product-throttle-time-unit": "minute",
        "x-keap-product-throttle-interval": "1",
        "x-keap-product-throttle-available": str(max(0, THROTTLE[0] - used_minute)),
        "x-keap-product-throttle-used": str(used_minute),
        "x-keap-product-quota-limit": str(DAILY[0]),
        "x-keap-product-quota-time-unit": "day",
        "x-keap-product-quota-interval": "1",
        "x-keap-product-quota-available": str(max(0, DAILY[0] - used_day)),
        "x-keap-product-quota-used": str(used_day),
        "x-keap-tenant-id": account,
    }


def _authenticate(request, region, **_):
    account = oauth.bearer_account(request, PLATFORM)
    return account or _error(401, "Invalid Access Token", "Unauthorized")


def _quotas(request, account, **_):
    """The app's minute throttle, then its daily quota."""
    name = account.account
    for window, (count, per) in (("minute", THROTTLE), ("day", DAILY)):
        if emulation.over_limit(f"{PLATFORM}:{name}:{window}", count, per) is not None:
            return json_response(THROTTLED_BODY, status=429, headers=_quota_headers(name))
    return None


def _with_quota_headers(request, account, answer, **_):
    response = answer()
    for key, value in _quota_headers(account.account).items():
        response[key] = value
    return response


EMULATOR = Emulator(
    PLATFORM,
    {host: "global" for host in HOSTS},
    "not a Keap host",
    authenticate=_authenticate,
    throttled=THROTTLED_BODY,
    limit=_quotas,
    serve=_with_quota_headers,
)


def gated(view):
    """The shared gate (bearer token, faults, quotas), the quota headers; no CSRF (an API)."""
    return csrf_exempt(EMULATOR.endpoint()(view))
