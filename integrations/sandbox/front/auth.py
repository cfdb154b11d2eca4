"""The Front emulator's gate (API token or sandbox OAuth token, the company or partner rate
bucket, the contacts:write scope), its answers and paging, and /me."""

from __future__ import annotations

from django.http import HttpResponse

from integrations.sandbox import accounts, oauth
from integrations.sandbox.emulation import (
    Emulator,
    json_response,
    over_limit,
)

PLATFORM = "front"
HOST = "api2.frontapp.com"
# Starter plan: 50 requests a minute for the company; a partner OAuth app: 120 a minute.
TOKEN_RATE = (50, 60.0)
OAUTH_RATE = (120, 60.0)


def error_response(
    status: int, title: str, message: str, headers: dict | None = None
) -> HttpResponse:
    return json_response(
        {"_error": {"status": status, "title": title, "message": message}},
        status=status,
        headers=headers,
    )


class _Caller:
    def __init__(self, account, via_oauth: bool):
        self.account = account
        self.via_oauth = via_oauth
        self.headers: dict[str, str] = {}

    @property
    def name(self) -> str:
        return self.account.account


def _authenticate(request, region, **_):
    """A company API token, or an access token of the sandbox's OAuth server."""
    header = request.headers.get("Authorization", "")
    account, via_oauth = None, False
    if header.startswith("Bearer "):
        token = header[7:].strip()
        account = accounts.find(PLATFORM, api_token=token)
        if account is None:
            account = oauth.bearer_account(request, PLATFORM)
            via_oauth = account is not None
    if account is None:
        return error_response(401, "Unauthenticated", "Invalid or expired token")
    return _Caller(account, via_oauth)


def _rate(caller) -> tuple[int, float]:
    return OAUTH_RATE if caller.via_oauth else TOKEN_RATE


def _limit(request, caller, **_):
    count, per = _rate(caller)
    bucket = "oauth" if caller.via_oauth else "company"
    wait = over_limit(f"{PLATFORM}:{caller.name}:{bucket}", count, per)
    if wait is None:
        return None
    seconds = str(max(1, round(wait + 0.5)))
    return error_response(
        429,
        "Too many requests",
        "Rate limit exceeded",
        headers={
            "Retry-After": seconds,
            "x-ratelimit-limit": str(count),
            "x-ratelimit-remaining": "0",
        },
    )


def _scope(request, caller, *, writes: tuple[str, ...] = (), **_):
    """`writes`: the methods that need the `contacts:write` scope."""
    if request.method in writes and caller.account.read_only:
        return error_response(403, "Forbidden", "Token lacks the required `contacts:write` scope")
    caller.headers = {"x-ratelimit-limit": str(_rate(caller)[0])}
    return None


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not a Front API host",
    authenticate=_authenticate,
    throttled={"_error": {"status": 429, "title": "Too many requests"}},
    limit=_limit,
    after=_scope,
)


def ok(data, caller, status: int = 200) -> HttpResponse:
    return json_response(data, status=status, headers=caller.headers)


def no_content(caller) -> HttpResponse:
    return HttpResponse(status=204, headers=caller.headers)


def page(request, items: list, caller, url: str) -> HttpResponse:
    """Token pagination like Front's: `limit` (≤ 100) and an absolute `next` link."""
    try:
        limit = min(100, max(1, int(request.GET.get("limit", 50))))
        start = int(request.GET.get("page_token") or 0)
    except ValueError:
        return error_response(400, "Bad request", "Invalid limit or page_token")
    chunk = items[start : start + limit]
    following = None
    if start + limit < len(items):
        following = (
            f"https://sandbox.api.frontapp.com{url}?limit={limit}&page_token={start + limit}"
        )
    return ok(
        {"_pagination": {"next": following}, "_links": {"self": url}, "_results": chunk}, caller
    )


# --- views -------------------------------------------------------------------------------------


@EMULATOR.endpoint(methods=("GET",))
def me(request, caller):
    return ok(
        {
            "_links": {"self": "https://sandbox.api.frontapp.com/me"},
            "id": f"cmp_{caller.name}",
            "name": caller.account.name,
        },
        caller,
    )
