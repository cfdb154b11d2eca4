"""The Iterable emulator's gate: Api-Key per data center, read-only keys, per-endpoint rates."""

from __future__ import annotations

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response, windowed

PLATFORM = "iterable"
HOSTS = {"api.iterable.com": "us", "api.eu.iterable.com": "eu"}
_LIMIT_BODY = {"code": "RateLimitExceeded", "msg": "Rate limit exceeded", "params": None}
# endpoint → (requests, per seconds), from the operation descriptions in the spec
RATES = {
    "lists": (100, 1.0),
    "lists.size": (5, 60.0),
    "lists.getUsers": (5, 60.0),
    "users.getFields": (3, 1.0),
    "users.bulkUpdate": (5, 1.0),
    "events.trackBulk": (10, 1.0),
    # lists/subscribe and unsubscribe: no limit documented; the sandbox allows the lists rate
    "lists.subscribe": (100, 1.0),
    "users.one": (100, 1.0),  # user GET / DELETE (fact sheet §11)
    # GET /api/campaigns and templates are 100/s; create, trigger, journeys document none:
    # the sandbox allows the same
    "campaigns": (100, 1.0),
    "templates": (100, 1.0),
    "templates.proof": (20, 1.0),  # emailProof: 20 requests/second per API key
}


def error(code: str, msg: str, status: int) -> HttpResponse:
    return json_response({"code": code, "msg": msg, "params": None}, status=status)


def _authenticate(request, region, **_):
    account = accounts.find(PLATFORM, api_key=request.headers.get("Api-Key", ""))
    if account is None or account.region != region:
        return error("BadApiKey", "Invalid API key", 401)
    return account


def _admit(request, account, *, write: bool = False, **_):
    if write and account.read_only:
        return error("BadApiKey", "This API key is read-only", 401)
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not an Iterable host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    admit=_admit,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, option="endpoint"),
)
