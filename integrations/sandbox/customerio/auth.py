"""The Customer.io emulator's gates: the Track API (Basic site id : track key) and the App API
(a bearer App API key), each on its own hosts and with its own rate."""

from __future__ import annotations

import base64
from dataclasses import replace

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, windowed

PLATFORM = "customerio"
TRACK_HOSTS = {"track.customer.io": "us", "track-eu.customer.io": "eu"}
APP_HOSTS = {"api.customer.io": "us", "api-eu.customer.io": "eu"}
_LIMIT_BODY = {"meta": {"error": "Too many requests"}}
# (requests, per seconds), per workspace; a broadcast trigger: 1 per 10 s.
RATES = {"track": (100, 1.0), "app": (10, 1.0), "broadcast": (1, 10.0)}


def _unauthorized() -> HttpResponse:
    return HttpResponse(status=401)


def _reachable(account, region: str, any_region: bool) -> bool:
    """A US workspace cannot be reached on the EU hosts (an EU one is redirected the other
    way); `any_region`: the endpoint answers a workspace of either region on either host
    (region discovery does)."""
    return account is not None and (account.region != "us" or region != "eu" or any_region)


def _track_account(request, region, *, any_region: bool = False, **_):
    """Basic auth with the workspace's site id and tracking API key."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return _unauthorized()
    try:
        site_id, _, key = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return _unauthorized()
    account = accounts.find(PLATFORM, site_id=site_id, track_api_key=key)
    return account if _reachable(account, region, any_region) else _unauthorized()


def _app_account(request, region, **_):
    """A bearer App API key."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _unauthorized()
    account = accounts.find(PLATFORM, app_api_key=header[7:])
    return account if _reachable(account, region, False) else _unauthorized()


TRACK = Emulator(
    PLATFORM,
    TRACK_HOSTS,
    "not a Customer.io host",
    authenticate=_track_account,
    throttled=_LIMIT_BODY,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="track"),
)
# The App API: other hosts, another key, its own rate; the same faults and 404.
APP = replace(
    TRACK,
    hosts=APP_HOSTS,
    authenticate=_app_account,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="app"),
)
