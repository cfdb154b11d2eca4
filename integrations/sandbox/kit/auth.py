"""The Kit emulator's gate: the v4 API key header, and Kit's per-key limit in plain text."""

from __future__ import annotations

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response, over_limit

PLATFORM = "kit"
HOSTS = {"api.kit.com": "global"}
RATE = (120, 60.0)  # requests per rolling minute, per API key
OAUTH_ONLY = "This endpoint requires OAuth; API keys are not supported"


def errors(status: int, *messages: str) -> HttpResponse:
    return json_response({"errors": list(messages)}, status=status)


def _authenticate(request, region, *, oauth_only: bool = False, **_):
    if oauth_only:
        # Kit's bulk endpoints take OAuth tokens only, and the emulator issues none for Kit:
        # every caller is refused, with a key or without one.
        return errors(401, OAUTH_ONLY)
    key = request.headers.get("X-Kit-Api-Key", "")
    account = accounts.find(PLATFORM, api_key=key) if key else None
    return account or errors(401, "The API key is not valid")


def _limit(request, account, **_):
    if over_limit(f"{PLATFORM}:{account.credentials['api_key']}", *RATE) is not None:
        # Kit answers plain text and sends no Retry-After.
        return HttpResponse("Retry later", status=429, content_type="text/plain")
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a Kit host",
    authenticate=_authenticate,
    throttled={"errors": ["Retry later"]},
    limit=_limit,
)
endpoint = EMULATOR.endpoint()
