"""Drift emulator: token info with the grant's scopes, contact attributes, contacts looked up by
email, created and patched — behind the sandbox's OAuth server (client id and secret in the
form body for both the code exchange and refreshes; refresh tokens treated as rotating).

Served as /sandbox/drift/driftapi.com/…. Each sandbox account has the scopes its grant froze:
a call outside them answers 403. Drift publishes no rate limit; the emulator answers 429
(without Retry-After, which Drift does not document) past 12 calls a second, a little above the
client's own pace. Contacts are stored under their numeric id with Drift's attributes; email is
not unique, as in Drift, but creating a second contact with a known email is refused.
"""

from __future__ import annotations

from datetime import UTC

from django.http import HttpResponse
from django.urls import path
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import accounts, emulation, oauth, store
from integrations.sandbox.emulation import Emulator, json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxOAuthToken

PLATFORM = "drift"
HOST = "driftapi.com"
OAUTH = {
    "exchange_auth": "body",
    "refresh_auth": "body",
    "pkce": False,
    "rotates": True,
    "extra": {"orgId": 2100001},
}
RATE = (12, 1.0)
THROTTLED_BODY = {"errors": [{"type": "rate_limit_exceeded", "message": "Too Many Requests"}]}
ORG_IDS = {"sandbox-drift-org": 4242, "sandbox-drift-basic": 4243, "sandbox-drift-readonly": 4244}
SCOPES = {
    "sandbox-drift-org": "contact_read contact_write all_contact_read conversation_read",
    "sandbox-drift-basic": "contact_read contact_write",
    "sandbox-drift-readonly": "contact_read conversation_read",
}
STANDARD_ATTRIBUTES = (
    ("email", "Email", "STRING"),
    ("name", "Name", "STRING"),
    ("phone", "Phone", "STRING"),
    ("externalId", "External Id", "STRING"),
)


def _errors(status: int, kind: str, message: str, param: str = "") -> HttpResponse:
    error = {"type": kind, "message": message, **({"param": param} if param else {})}
    return json_response({"errors": [error]}, status=status)


def _drift_type(value) -> str:
    if isinstance(value, bool):
        return "BOOLEAN"
    if isinstance(value, int | float):
        return "NUMERIC"
    return "STRING"


def _authenticate(request, region, **_):
    account = oauth.bearer_account(request, PLATFORM)
    return account or _errors(401, "authentication_error", "Invalid or expired access token")


def _admit(request, account, *, scope: str, **_):
    if scope and scope not in SCOPES.get(account.account, "").split():
        return _errors(403, "forbidden", f"This token lacks the {scope} scope")
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


def _contacts(account: str):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account)


def _contact_json(row: SandboxContact) -> dict:
    created = int(row.created_at.astimezone(UTC).timestamp() * 1000)
    return {"id": int(row.identifier), "createdAt": created, "attributes": row.attributes}


def _next_id(account: str) -> str:
    ids = [int(i) for i in _contacts(account).values_list("identifier", flat=True) if i.isdigit()]
    return str(max(ids, default=1_000_000) + 1)


def _attributes(request) -> dict | HttpResponse:
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("attributes"), dict):
        return _errors(400, "validation_error", 'Body must be {"attributes": {...}}', "attributes")
    return data["attributes"]


def _learn_types(account: str, attributes: dict) -> None:
    standard = {name for name, _, _ in STANDARD_ATTRIBUTES}
    SandboxFieldType.objects.bulk_create(
        [
            SandboxFieldType(platform=PLATFORM, account=account, name=k, type=_drift_type(v))
            for k, v in attributes.items()
            if k not in standard and v is not None
        ],
        ignore_conflicts=True,
    )


# --- views --------------------------------------------------------------------------------------


@csrf_exempt
@require_POST
def token_info(request, host):
    """POST /app/token_info {"access_token": …}: the token travels in the body."""
    EMULATOR.region(host)
    data = parse_json(request)
    given = data.get("access_token") if isinstance(data, dict) else None
    row = SandboxOAuthToken.objects.filter(platform=PLATFORM, access_token=given or "").first()
    if row is None or row.access_expires_at <= timezone.now():
        return _errors(401, "authentication_error", "Invalid or expired access token")
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


@require_GET
@gated("all_contact_read")
def attributes(request, account):
    custom = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    properties = [
        {"type": kind, "displayName": label, "name": name}
        for name, label, kind in STANDARD_ATTRIBUTES
    ] + [
        {"type": row.type, "displayName": row.name.replace("_", " ").title(), "name": row.name}
        for row in custom
    ]
    return json_response({"data": {"properties": properties}})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def contacts(request, host):
    if request.method == "GET":
        return _lookup(request, host)
    return _create(request, host)


@gated("contact_read")
def _lookup(request, account):
    email = request.GET.get("email")
    if not email:
        return _errors(400, "validation_error", "email or idType is required", "email")
    try:
        limit = int(request.GET.get("limit") or 25)
    except ValueError:
        return _errors(400, "validation_error", "limit must be a number", "limit")
    rows = _contacts(account.account).filter(attributes__email__iexact=email).order_by("id")
    return json_response({"data": [_contact_json(r) for r in rows[:limit]]})


@gated("contact_write")
def _create(request, account):
    given = _attributes(request)
    if isinstance(given, HttpResponse):
        return given
    email = given.get("email")
    if not store.looks_like_email(email):
        return _errors(400, "validation_error", "A valid email is required", "email")
    if _contacts(account.account).filter(attributes__email__iexact=email).exists():
        return _errors(400, "validation_error", "A contact with this email already exists", "email")
    identifier = _next_id(account.account)
    values = {k: v for k, v in given.items() if v is not None}
    store.upsert(PLATFORM, account.account, {identifier: values}, known={})
    _learn_types(account.account, values)
    row = _contacts(account.account).get(identifier=identifier)
    return json_response({"data": _contact_json(row)})


@csrf_exempt
@require_http_methods(["GET", "PATCH"])
def contact(request, host, contact_id: int):
    if request.method == "GET":
        return _get(request, host, contact_id)
    return _patch(request, host, contact_id)


@gated("contact_read")
def _get(request, account, contact_id):
    row = _contacts(account.account).filter(identifier=str(contact_id)).first()
    if row is None:
        return _errors(404, "not_found", f"Contact {contact_id} not found")
    return json_response({"data": _contact_json(row)})


@gated("contact_write")
def _patch(request, account, contact_id):
    row = _contacts(account.account).filter(identifier=str(contact_id)).first()
    if row is None:
        return _errors(404, "not_found", f"Contact {contact_id} not found")
    given = _attributes(request)
    if isinstance(given, HttpResponse):
        return given
    if "email" in given and not store.looks_like_email(given["email"]):
        return _errors(400, "validation_error", "A valid email is required", "email")
    values = {k: v for k, v in given.items() if v is not None}
    store.upsert(
        PLATFORM,
        account.account,
        {row.identifier: values},
        known={row.identifier: store.StoredContact(row.attributes, row.suppressed)},
    )
    _learn_types(account.account, values)
    row.refresh_from_db()
    return json_response({"data": _contact_json(row)})


# --- accounts and demo data -----------------------------------------------------------------------


def seed_account(account) -> None:
    """Demo custom attributes (Drift has no segments or lists)."""
    for name, kind in (("plan", "STRING"), ("signup_date", "DATETIME")):
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM, "sandbox-drift-org", "global", {}, "SharpSend demo Drift org"
    ),
    accounts.SandboxAccount(
        PLATFORM, "sandbox-drift-basic", "global", {}, "Drift org without all_contact_read"
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-drift-readonly",
        "global",
        {},
        "Drift org granted contact_read only",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/app/token_info", token_info),
    path("<str:host>/contacts/attributes", attributes),
    path("<str:host>/contacts", contacts),
    path("<str:host>/contacts/<int:contact_id>", contact),
]
