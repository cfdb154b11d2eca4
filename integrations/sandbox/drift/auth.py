"""The Drift emulator's gate: bearer tokens of the sandbox OAuth server, the grant's scopes,
and the 429 past 12 calls a second; and token_info, which reads the token from the body."""

from __future__ import annotations

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import emulation, oauth
from integrations.sandbox.emulation import Emulator, json_response, parse_json
from integrations.sandbox.models import SandboxOAuthToken

PLATFORM = "drift"
HOST = "driftapi.com"
RATE = (12, 1.0)
THROTTLED_BODY = {"errors": [{"type": "rate_limit_exceeded", "message": "Too Many Requests"}]}
ORG_IDS = {"sandbox-drift-org": 4242, "sandbox-drift-basic": 4243, "sandbox-drift-readonly": 4244}
SCOPES = {
    "sandbox-drift-org": "contact_read contact_write all_contact_read conversation_read",
    "sandbox-drift-basic": "contact_read contact_write",
    "sandbox-drift-readonly": "contact_read conversation_read",
}


def errors(status: int, kind: str, message: str, param: str = "") -> HttpResponse:
    error = {"type": kind, "message": message, **({"param": param} if param else {})}
    return json_response({"errors": [error]}, status=status)


def _authenticate(request, region, **_):
    account = oauth.bearer_account(request, PLATFORM)
    return account or errors(401, "authentication_error", "Invalid or expired access token")


def _admit(request, account, *, scope: str, **_):
    if scope and scope not in SCOPES.get(account.account, "").split():
        return errors(403, "forbidden", f"This token lacks the {scope} scope")
    return None


def _limit(request, account, **_):
    if emulation.over_limit(f"{PLATFORM}:{account.account}", *RATE) is not None:
        return json_response(THROTTLED_BODY, status=429)
    return None


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not a Drift host",
    authenticate=_authenticate,
    throttled=THROTTLED_BODY,
    admit=_admit,
    limit=_limit,
)


def gated(scope: str):
    """The shared gate, with the token's `scope` checked; no CSRF (an API)."""

    def decorate(view):
        return csrf_exempt(EMULATOR.endpoint(scope=scope)(view))

    return decorate


@csrf_exempt
@require_POST
def token_info(request, host):
    """POST /app/token_info {"access_token": …}: the token travels in the body."""
    # Not behind the gate: the token is read from the body (no bearer), unscoped, unfaulted.
    EMULATOR.region(host)
    data = parse_json(request)
    given = data.get("access_token") if isinstance(data, dict) else None
    row = SandboxOAuthToken.objects.filter(platform=PLATFORM, access_token=given or "").first()
    if row is None or row.access_expires_at <= timezone.now():
        return errors(401, "authentication_error", "Invalid or expired access token")
    return json_response(
        {
            "access_token": row.access_token,
            "authenticated_userid": f"orgId:{ORG_IDS.get(row.account, 0)}",
            "credential_id": "sandbox-drift-app",
            "token_type": "bearer",
            "expires_in": int((row.access_expires_at - timezone.now()).total_seconds() * 1000),
            "created_at": int(row.created_at.timestamp() * 1000),
            "scope": SCOPES.get(row.account, ""),
            "id": str(row.pk),
        }
    )
