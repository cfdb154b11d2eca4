"""The Campaign Monitor emulator's gate: the key as Basic user name, the clients a key reaches,
the ClientID or ListID in the path, and the rate windows with X-RateLimit-* headers."""

from __future__ import annotations

import base64

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response, windowed
from integrations.sandbox.models import SandboxSegment

PLATFORM = "campaign_monitor"
HOST = "api.createsend.com"
CLIENT_ID = "c11e0000000000000000000000000001"
OTHER_CLIENT_ID = "c11e0000000000000000000000000002"
# endpoint group → (requests, per seconds); the client declares the same (CM publishes none).
RATES = {"api": (10, 1.0), "import": (2, 1.0)}
_LIMIT_BODY = {"Code": 429, "Message": "Rate limit exceeded"}


def _error(code: int, message: str, status: int = 400, **extra) -> HttpResponse:
    return json_response({"Code": code, "Message": message, **extra}, status=status)


def list_id(remote_id: int) -> str:
    return f"115700000000000000000000{remote_id:08x}"


def segment_id(remote_id: int) -> str:
    return f"5e6d0000000000000000000{remote_id:09x}"


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Basic "):
        try:
            key = base64.b64decode(header[6:]).decode().partition(":")[0]
        except ValueError:
            key = ""
        account = accounts.find(PLATFORM, api_key=key)
    return account or _error(100, "Invalid API Key", 401)


_windowed = windowed(PLATFORM, RATES, _LIMIT_BODY, default="api")


def _limit(request, account, *, group: str = "api", **_):
    """The group's window, with X-RateLimit-* headers on the 429."""
    count, _ = RATES[group]
    limited = _windowed(request, account, group=group)
    if limited is not None:
        limited["X-RateLimit-Limit"] = str(count)
        limited["X-RateLimit-Remaining"] = "0"
        limited["X-RateLimit-Reset"] = limited["Retry-After"]
    return limited


def _clients(account) -> list[str]:
    """The clients a key reaches: all of the account's, or just its own for a client key."""
    own = account.credentials.get("key_client")
    return [own] if own else [CLIENT_ID, OTHER_CLIENT_ID]


def _client_error(account, client: str) -> HttpResponse | None:
    if client not in (CLIENT_ID, OTHER_CLIENT_ID):
        return _error(102, "Invalid ClientID")
    if client not in _clients(account):
        return _error(100, "Invalid API Key", 401)  # a client key on another client
    return None


def _rows(account, kind: str, client: str = CLIENT_ID):
    if client != CLIENT_ID:
        return []  # the other client holds nothing in the sandbox
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return [s for s in rows if s.kind == kind]


def _in_reach(request, account, *, route, account_key: bool = False, **_):
    """A ClientID or ListID in the path must be one the key may use; `account_key`: only the
    account API key may call (a client key gets 401 on the account's client list)."""
    if account_key and account.credentials.get("key_client"):
        return _error(100, "Invalid API Key", 401)
    if "client_id" in route:
        return _client_error(account, route["client_id"])
    wanted = route.get("list_ref")
    if wanted is None:
        return None
    for item in _rows(account, "list"):
        if list_id(item.remote_id) == wanted:
            if CLIENT_ID not in _clients(account):
                return _error(100, "Invalid API Key", 401)
            return None
    return _error(101, "Invalid ListID")


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not the Campaign Monitor host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    limit=_limit,
    after=_in_reach,
)
