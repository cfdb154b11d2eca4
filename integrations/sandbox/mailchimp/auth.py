"""The Mailchimp emulator's gate: keys and data centres, roles, the audience in the path, and
the simultaneous-connection limit; its problem+json errors."""

from __future__ import annotations

import base64
import re
import threading
import uuid

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response

PLATFORM = "mailchimp"
_HOST = re.compile(r"^(?:([a-z]{2,4}\d{1,3})\.)?api\.mailchimp\.com$")
MAX_CONNECTIONS = 10  # simultaneous connections per user
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"

_in_flight: dict[str, int] = {}
_lock = threading.Lock()


def problem(status: int, title: str, detail: str, errors=None, headers=None) -> HttpResponse:
    body = {
        "type": ERRORS_DOC,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": str(uuid.uuid4()),
    }
    if errors:
        body["errors"] = errors
    response = json_response(body, status=status, headers=headers)
    response["Content-Type"] = "application/problem+json; charset=utf-8"
    return response


def _key(request) -> str:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:]
    if header.startswith("Basic "):
        try:
            return base64.b64decode(header[6:]).decode().partition(":")[2]
        except ValueError:
            return ""
    return ""


def _invalid_key() -> HttpResponse:
    return problem(
        401,
        "API Key Invalid",
        "Your API key may be invalid, or you've attempted to access the wrong datacenter.",
    )


def _data_centre(host: str) -> str | None:
    """The data centre a Mailchimp host names ("" for the bare api.mailchimp.com)."""
    match = _HOST.match(host)
    return None if match is None else match.group(1) or ""


def _authenticate(request, data_centre, **_):
    """The key's data centre must be the host's."""
    key = _key(request)
    if not key:
        return problem(401, "API Key Missing", "Your request did not include an API key.")
    account = accounts.find(PLATFORM, api_key=key)
    if account is None or (data_centre and data_centre != account.region):
        return _invalid_key()
    return account


def _admit(request, account, *, write: bool = False, **_):
    if write and account.read_only:
        return problem(
            403,
            "Forbidden",
            "The API key's user does not have permission to access this resource.",
        )
    return None


def _audience(request, account, *, route, audience: bool = True, **_):
    """`audience`: the path's list_id (taken out of the view's arguments) must be the
    account's audience."""
    list_id = route.pop("list_id", "")
    if audience and list_id != account.credentials["list_id"]:
        return problem(404, "Resource Not Found", "The requested resource could not be found.")
    return None


def _one_connection(request, account, answer, **_):
    """Mailchimp's limit: simultaneous connections per user, not requests per second."""
    slot = f"{account.account}:{account.credentials['api_key']}"
    with _lock:
        if _in_flight.get(slot, 0) >= MAX_CONNECTIONS:
            return problem(
                429,
                "Too Many Requests",
                f"You have exceeded the limit of {MAX_CONNECTIONS} simultaneous connections.",
            )
        _in_flight[slot] = _in_flight.get(slot, 0) + 1
    try:
        return answer()
    finally:
        with _lock:
            _in_flight[slot] -= 1


EMULATOR = Emulator(
    PLATFORM,
    _data_centre,
    "not a Mailchimp host",
    authenticate=_authenticate,
    throttled={"title": "Too Many Requests", "status": 429, "detail": "Slow down."},
    admit=_admit,
    after=_audience,
    serve=_one_connection,
)
endpoint = EMULATOR.endpoint
