"""Front emulator: /me, contacts by id or email alias, contact custom fields, contact lists.

Served as /sandbox/front/api2.frontapp.com/<real path>. Bearer auth with an API token (the
company's rate bucket) or an access token from the sandbox's OAuth server (the partner
bucket). A restricted token lacks contacts:write and is refused writes with 403.
"""

from __future__ import annotations

import hashlib
from urllib.parse import unquote

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import accounts, oauth, store
from integrations.sandbox.emulation import (
    DEMO_SEGMENTS,
    Emulator,
    json_response,
    over_limit,
    parse_json,
)
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "front"
HOST = "api2.frontapp.com"
# Starter plan: 50 requests a minute for the company; a partner OAuth app: 120 a minute.
TOKEN_RATE = (50, 60.0)
OAUTH_RATE = (120, 60.0)
HANDLE_SOURCES = {"twitter", "email", "phone", "facebook", "intercom", "front_chat", "custom"}
CONTACT_KEYS = {"name", "description", "avatar", "links", "group_names", "list_names"}
OAUTH = {"exchange_auth": "basic", "refresh_auth": "basic", "pkce": False, "rotates": False}
# Demo contact custom fields (name → Front type).
DEMO_FIELDS = {"interest": "string", "plan": "enum", "Renewal": "datetime", "Seats": "number"}


def _error(status: int, title: str, message: str, headers: dict | None = None) -> HttpResponse:
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
        return _error(401, "Unauthenticated", "Invalid or expired token")
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
    return _error(
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
        return _error(403, "Forbidden", "Token lacks the required `contacts:write` scope")
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


def _ok(data, caller, status: int = 200) -> HttpResponse:
    return json_response(data, status=status, headers=caller.headers)


def _no_content(caller) -> HttpResponse:
    return HttpResponse(status=204, headers=caller.headers)


def _contact_id(email: str) -> str:
    return "crd_" + hashlib.sha1(email.lower().encode()).hexdigest()[:8]


def _find(account: str, contact_id: str) -> SandboxContact | None:
    contact_id = unquote(contact_id)
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account)
    if contact_id.startswith("alt:email:"):
        return rows.filter(identifier=contact_id[len("alt:email:") :].lower()).first()
    if contact_id.startswith("crd_"):
        return rows.filter(attributes__id=contact_id).first()
    return None


def _render(row: SandboxContact) -> dict:
    attrs = row.attributes
    base = f"https://sandbox.api.frontapp.com/contacts/{attrs['id']}"
    return {
        "_links": {"self": base, "related": {"conversations": f"{base}/conversations"}},
        "id": attrs["id"],
        "name": attrs.get("name", ""),
        "description": attrs.get("description", ""),
        "avatar_url": None,
        "links": attrs.get("links", []),
        "lists": [{"name": n} for n in attrs.get("list_names", [])],
        "handles": [{"handle": attrs["email"], "source": "email"}],
        "custom_fields": attrs.get("custom_fields", {}),
        "is_private": False,
    }


def _field_types(account: str) -> dict[str, str]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account)
    return dict(rows.values_list("name", "type"))


def _check_value(kind: str, value) -> bool:
    if value is None:
        return True
    if kind in ("string", "enum", "teammate", "inbox"):
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind in ("number", "datetime"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return False


def _check_body(data, account: str, creating: bool) -> str:
    """The reason a contact body is invalid, or ""."""
    if not isinstance(data, dict):
        return "Body must be a JSON object"
    unknown = set(data) - CONTACT_KEYS - {"custom_fields"} - ({"handles"} if creating else set())
    if unknown:
        return f"Unknown properties: {', '.join(sorted(unknown))}"
    if creating:
        handles = data.get("handles")
        if not isinstance(handles, list) or not handles:
            return "handles is required"
        for handle in handles:
            if not isinstance(handle, dict) or set(handle) != {"handle", "source"}:
                return "Each handle needs handle and source"
            if handle["source"] not in HANDLE_SOURCES:
                return f"Unknown handle source {handle['source']!r}"
            if handle["source"] == "email" and not store.looks_like_email(handle["handle"]):
                return f"Invalid email handle {handle['handle']!r}"
        if not any(h["source"] == "email" for h in handles):
            return "The sandbox stores contacts by their email handle"
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            return f"{key} must be a string"
    for key in ("links", "list_names", "group_names"):
        if key in data and not (
            isinstance(data[key], list) and all(isinstance(v, str) for v in data[key])
        ):
            return f"{key} must be an array of strings"
    custom = data.get("custom_fields")
    if custom is not None:
        if not isinstance(custom, dict):
            return "custom_fields must be an object"
        types = _field_types(account)
        for name, value in custom.items():
            if name not in types:
                return f"Unknown contact custom field: {name}"
            if not _check_value(types[name], value):
                return f"Invalid value for custom field {name} (type {types[name]})"
    return ""


def _page(request, items: list, caller, url: str) -> HttpResponse:
    """Token pagination like Front's: `limit` (≤ 100) and an absolute `next` link."""
    try:
        limit = min(100, max(1, int(request.GET.get("limit", 50))))
        start = int(request.GET.get("page_token") or 0)
    except ValueError:
        return _error(400, "Bad request", "Invalid limit or page_token")
    chunk = items[start : start + limit]
    following = None
    if start + limit < len(items):
        following = (
            f"https://sandbox.api.frontapp.com{url}?limit={limit}&page_token={start + limit}"
        )
    return _ok(
        {"_pagination": {"next": following}, "_links": {"self": url}, "_results": chunk}, caller
    )


# --- views -------------------------------------------------------------------------------------


@EMULATOR.endpoint(methods=("GET",))
def me(request, caller):
    return _ok(
        {
            "_links": {"self": "https://sandbox.api.frontapp.com/me"},
            "id": f"cmp_{caller.name}",
            "name": caller.account.name,
        },
        caller,
    )


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "POST"), writes=("POST",))
def contacts(request, caller):
    if request.method == "GET":
        rows = SandboxContact.objects.filter(platform=PLATFORM, account=caller.name)
        return _page(request, [_render(r) for r in rows], caller, "/contacts")
    data = parse_json(request)
    reason = _check_body(data, caller.name, creating=True)
    if reason:
        return _error(400, "Bad request", reason)
    email = next(h["handle"] for h in data["handles"] if h["source"] == "email")
    identifier = email.lower()
    known = store.existing(PLATFORM, caller.name, [identifier])
    if identifier in known:
        return _error(409, "Conflict", f"A contact with the handle {email} already exists")
    attributes = {
        "id": _contact_id(identifier),
        "email": email,
        **{k: v for k, v in data.items() if k in CONTACT_KEYS},
        "custom_fields": data.get("custom_fields") or {},
    }
    store.upsert(PLATFORM, caller.name, {identifier: attributes}, known)
    row = SandboxContact.objects.get(platform=PLATFORM, account=caller.name, identifier=identifier)
    return _ok(_render(row), caller, status=201)


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH", "DELETE"), writes=("PATCH", "DELETE"))
def contact(request, caller, contact_id):
    row = _find(caller.name, contact_id)
    if row is None:
        return _error(404, "Not found", "Unknown contact")
    if request.method == "GET":
        return _ok(_render(row), caller)
    if request.method == "DELETE":
        row.delete()
        return _no_content(caller)
    data = parse_json(request)
    reason = _check_body(data, caller.name, creating=False)
    if reason:
        return _error(400, "Bad request", reason)
    # Every property sent replaces the stored one: custom_fields as a whole.
    attributes = {**row.attributes, **{k: v for k, v in data.items() if k in CONTACT_KEYS}}
    if "custom_fields" in data:
        attributes["custom_fields"] = data["custom_fields"] or {}
    row.attributes = attributes
    row.save(update_fields=["attributes", "updated_at"])
    return _no_content(caller)


@EMULATOR.endpoint(methods=("GET",))
def contact_conversations(request, caller, contact_id):
    if _find(caller.name, contact_id) is None:
        return _error(404, "Not found", "Unknown contact")
    return _page(request, [], caller, f"/contacts/{contact_id}/conversations")


@EMULATOR.endpoint(methods=("GET",))
def custom_fields(request, caller):
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=caller.name)
    results = [
        {
            "_links": {"self": f"https://sandbox.api.frontapp.com/custom_fields/fld_{r.pk}"},
            "id": f"fld_{r.pk}",
            "name": r.name,
            "description": "",
            "type": r.type,
            **(
                {"values": [{"value": v, "label": v} for v in ("free", "pro")]}
                if r.type == "enum"
                else {}
            ),
        }
        for r in rows
    ]
    return _ok({"_links": {"self": "/contacts/custom_fields"}, "_results": results}, caller)


@EMULATOR.endpoint(methods=("GET",))
def contact_lists(request, caller):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=caller.name)
    items = [
        {
            "_links": {"self": f"https://sandbox.api.frontapp.com/contact_lists/grp_{s.remote_id}"},
            "id": f"grp_{s.remote_id}",
            "name": s.name,
            "is_private": False,
        }
        for s in rows
    ]
    return _page(request, items, caller, "/contact_lists")


@EMULATOR.endpoint(methods=("GET",))
def contact_list_contacts(request, caller, list_id):
    number = list_id.removeprefix("grp_")
    segment = None
    if number.isdigit():
        segment = SandboxSegment.objects.filter(
            platform=PLATFORM, account=caller.name, remote_id=int(number)
        ).first()
    if segment is None:
        return _error(404, "Not found", "Unknown contact list")
    members = [_render(r) for r in segment.members().order_by("identifier")]
    return _page(request, members, caller, f"/contact_lists/{list_id}/contacts")


def seed_account(account) -> None:
    """Demo contact custom fields and contact lists (members follow the `interest` field)."""
    for name, kind in DEMO_FIELDS.items():
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )
    for index, (name, _, attribute, value) in enumerate(DEMO_SEGMENTS, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": "contact list",
                "rule_attribute": f"custom_fields__{attribute}" if attribute else "",
                "rule_value": value,
            },
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-company",
        "global",
        {"api_token": "sandbox-front-api-token"},
        "SharpSend Sandbox Company",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-company",
        "global",
        {"api_token": "sandbox-front-readonly-token"},
        "SharpSend Sandbox Company",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/me", me),
    path("<str:host>/contacts", contacts),
    path("<str:host>/contacts/custom_fields", custom_fields),
    path("<str:host>/contacts/<str:contact_id>/conversations", contact_conversations),
    path("<str:host>/contacts/<str:contact_id>", contact),
    path("<str:host>/contact_lists", contact_lists),
    path("<str:host>/contact_lists/<str:list_id>/contacts", contact_list_contacts),
]
