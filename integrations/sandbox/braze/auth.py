"""The Braze emulator's gate: instance hosts, keys and their permissions, rate limits."""

from __future__ import annotations

from django.http import HttpResponse

from integrations import clock
from integrations.sandbox import accounts, emulation
from integrations.sandbox.emulation import Emulator, json_response

PLATFORM = "braze"
HOSTS = {
    "rest.iad-01.braze.com": "us-01", "rest.iad-02.braze.com": "us-02",
    "rest.iad-03.braze.com": "us-03", "rest.iad-04.braze.com": "us-04",
    "rest.iad-05.braze.com": "us-05", "rest.iad-06.braze.com": "us-06",
    "rest.iad-07.braze.com": "us-07", "rest.iad-08.braze.com": "us-08",
    "rest.iad-10.braze.com": "us-10", "rest.fra-01.braze.eu": "eu-01",
    "rest.fra-02.braze.eu": "eu-02", "rest.au-01.braze.com": "au-01",
}  # fmt: skip
# endpoint group → (requests, per seconds)
RATES = {
    "default": (250_000, 3600.0),
    "users.track": (3000, 3.0),
    "custom_attributes": (1000, 3600.0),
    "users.delete": (20_000, 60.0),
    "users.export.ids": (250, 60.0),
    "broadcast": (250, 60.0),  # trigger and message sends that target a segment
    "sends.id.create": (100, 86_400.0),
}
ALL_PERMISSIONS = frozenset(
    {
        "users.track", "users.delete", "users.export.ids", "segments.list",
        "segments.data_series", "segments.details", "custom_attributes.get",
        "campaigns.list", "canvas.list", "campaigns.trigger.send", "canvas.trigger.send",
        "sends.id.create", "email.status", "campaigns.trigger.schedule.create",
        "campaigns.trigger.schedule.delete", "canvas.trigger.schedule.create",
        "canvas.trigger.schedule.delete",
    }
)  # fmt: skip
READ_PERMISSIONS = frozenset(
    {"segments.list", "segments.data_series", "custom_attributes.get", "campaigns.list",
     "canvas.list"}
)  # fmt: skip


def message_response(message: str, status: int, errors: list | None = None) -> HttpResponse:
    body: dict = {"message": message}
    if errors is not None:
        body["errors"] = errors
    return json_response(body, status=status)


def _throttled(request, account, *, endpoint: str = "default", **_) -> HttpResponse | None:
    """Braze's 429: no Retry-After, but X-RateLimit-* headers with an epoch reset time."""
    count, per = RATES[endpoint]
    wait = emulation.over_limit(f"{PLATFORM}:{account.account}:{endpoint}", count, per)
    if wait is None:
        return None
    return json_response(
        {"message": "Rate Limited"},
        status=429,
        headers={
            "X-RateLimit-Limit": str(count),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(clock.now() + wait) + 1),
        },
    )


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    key = header[7:] if header.startswith("Bearer ") else ""
    account = accounts.find(PLATFORM, api_key=key) if key else None
    if account is None or account.region != region:
        # A wrong key and a key of another instance look the same.
        return message_response("Invalid API key: " + (key[:4] + "…" if key else "missing"), 401)
    return account


def _admit(request, account, *, permission: str, **_):
    allowed = READ_PERMISSIONS if account.read_only else ALL_PERMISSIONS
    return None if permission in allowed else message_response("Access Denied", 403)


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a Braze REST host",
    authenticate=_authenticate,
    throttled={"message": "Rate Limited"},
    admit=_admit,
    limit=_throttled,
)
