"""The SendGrid emulator's gate: bearer keys per host (global or EU), their scopes, read-only
keys, and the rate windows of each endpoint group."""

from __future__ import annotations

from django.http import HttpResponse

from integrations.sandbox import accounts
from integrations.sandbox.emulation import Emulator, json_response, windowed

PLATFORM = "sendgrid"
HOSTS = {"api.sendgrid.com": "global", "api.eu.sendgrid.com": "eu"}
_LIMIT_BODY = {"errors": [{"field": None, "message": "too many requests"}]}
# endpoint group → (requests, per seconds); the client declares the same.
RATES = {"api": (10, 1.0), "contacts.upsert": (3, 1.0), "contacts.imports": (5, 1.0)}
FULL_SCOPES = (
    "mail.send", "marketing.read", "marketing.automation.read", "marketing.automation.update",
    "marketing.contacts.create", "marketing.contacts.update", "marketing.contacts.delete",
    "user.account.read",
    # The global suppressions' scope, by SendGrid's naming pattern: neither the fact sheet nor
    # the specs name it, so the console does not check it up front (a 403 says so).
    "asm.suppressions.global.create",
)  # fmt: skip
READ_SCOPES = ("marketing.read", "marketing.automation.read")
MAIL_SCOPES = ("mail.send",)
SCOPES = {
    "SG.sandbox-sendgrid-full-key": FULL_SCOPES,
    "SG.sandbox-sendgrid-eu-key": FULL_SCOPES,
    "SG.sandbox-sendgrid-readonly-key": READ_SCOPES,
    "SG.sandbox-sendgrid-mail-only-key": MAIL_SCOPES,
}


def _errors(message: str, status: int, field=None) -> HttpResponse:
    return json_response({"errors": [{"field": field, "message": message}]}, status=status)


def _scopes(account) -> tuple[str, ...]:
    return SCOPES[account.credentials["api_key"]]


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Bearer "):
        account = accounts.find(PLATFORM, api_key=header[7:])
    if account is None or account.region != region:
        return _errors("authorization required", 401)
    return account


def _admit(request, account, *, marketing: bool = True, write: bool = False, scope: str = "", **_):
    scopes = _scopes(account)
    if marketing and not any(s.startswith("marketing") for s in scopes):
        return _errors("access forbidden", 403)
    if scope and scope not in scopes:
        return _errors("access forbidden", 403)
    if write and account.read_only:
        return _errors("access forbidden", 403)
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a SendGrid host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    admit=_admit,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="api"),
)
