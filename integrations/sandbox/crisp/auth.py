"""The Crisp emulator's gate (plugin token, daily quota, website scope), its answers, and
the plugin and website routes the connection test reads."""

from __future__ import annotations

import base64

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response, over_limit

PLATFORM = "crisp"
HOST = "api.crisp.chat"
QUOTA = (5000, 86_400.0)


def reply(reason: str, data=None, status: int = 200) -> HttpResponse:
    return json_response(
        {"error": False, "reason": reason, "data": {} if data is None else data}, status=status
    )


def fail(status: int, reason: str, message: str = "") -> HttpResponse:
    return json_response(
        {"error": True, "reason": reason, "data": {"message": message or reason}}, status=status
    )


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Basic ") and request.headers.get("X-Crisp-Tier") == "plugin":
        try:
            identifier, _, key = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            identifier = key = ""
        account = accounts.find(PLATFORM, identifier=identifier, key=key)
    return account or fail(401, "invalid_session")


def _quota(request, account, **_):
    count, per = QUOTA
    if over_limit(f"{PLATFORM}:{account.credentials['identifier']}:quota", count, per):
        return fail(429, "quota_limited", "Plugin daily quota exceeded")
    return None


def _scope(request, account, *, route, writes: tuple[str, ...] = (), **_):
    """The website in the path must be the plugin's; `writes`: the methods that write."""
    website_id = route.get("website_id")
    if website_id is not None and website_id != account.credentials["website_id"]:
        # The plugin is not installed on that website.
        return fail(403, "not_allowed", "Plugin not subscribed to this website")
    if request.method in writes and account.read_only:
        return fail(403, "not_allowed", "Token scope does not allow this")
    return None


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not a Crisp host",
    authenticate=_authenticate,
    throttled={"error": True, "reason": "rate_limited", "data": {}},
    limit=_quota,
    after=_scope,
)


@EMULATOR.endpoint(methods=("GET",))
def plugin_account(request, account):
    return reply("resolved", {"plugin_id": f"sbx-plugin-{account.account}"})


@EMULATOR.endpoint(methods=("GET",))
def website(request, account, website_id):
    return reply(
        "resolved",
        {"website_id": website_id, "name": account.name, "domain": "sandbox.example.com"},
    )


def paged(request, items: list, page: int) -> HttpResponse:
    per_page = min(50, max(20, int(request.GET.get("per_page", 20) or 20)))
    return reply("listed", items[(page - 1) * per_page : page * per_page])
