"""Crisp emulator: plugin connect, website, people profiles / data / subscription, suggestions.

Served as /sandbox/crisp/api.crisp.chat/v1/…. Plugin tokens authenticate with HTTP Basic
(identifier:key) plus `X-Crisp-Tier: plugin`; each token works only on the websites that
installed its plugin. The daily plugin quota is enforced (429, no Retry-After, as Crisp).
"""

from __future__ import annotations

import base64
import re
import uuid

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import Emulator, json_response, over_limit, parse_json
from integrations.sandbox.models import SandboxContact

PLATFORM = "crisp"
HOST = "api.crisp.chat"
QUOTA = (5000, 86_400.0)
DATA_KEY = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")
PROFILE_KEYS = {"email", "person", "company", "segments", "notepad", "active"}


def _reply(reason: str, data=None, status: int = 200) -> HttpResponse:
    return json_response(
        {"error": False, "reason": reason, "data": {} if data is None else data}, status=status
    )


def _fail(status: int, reason: str, message: str = "") -> HttpResponse:
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
    return account or _fail(401, "invalid_session")


def _quota(request, account, **_):
    count, per = QUOTA
    if over_limit(f"{PLATFORM}:{account.credentials['identifier']}:quota", count, per):
        return _fail(429, "quota_limited", "Plugin daily quota exceeded")
    return None


def _scope(request, account, *, route, writes: tuple[str, ...] = (), **_):
    """The website in the path must be the plugin's; `writes`: the methods that write."""
    website_id = route.get("website_id")
    if website_id is not None and website_id != account.credentials["website_id"]:
        # The plugin is not installed on that website.
        return _fail(403, "not_allowed", "Plugin not subscribed to this website")
    if request.method in writes and account.read_only:
        return _fail(403, "not_allowed", "Token scope does not allow this")
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


def _identifier(people_id: str) -> str:
    return people_id.lower()


def _find(account, people_id: str) -> SandboxContact | None:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    if "@" in people_id:
        return rows.filter(identifier=_identifier(people_id)).first()
    return rows.filter(attributes__people_id=people_id).first()


def _check_profile(data, creating: bool) -> str:
    if not isinstance(data, dict):
        return "body must be an object"
    unknown = set(data) - PROFILE_KEYS
    if unknown:
        return f"unknown keys: {', '.join(sorted(unknown))}"
    if creating and not store.looks_like_email(data.get("email")):
        return "email is required and must be valid"
    if "email" in data and not creating:
        return "the email cannot be changed here"
    for key in ("person", "company"):
        if key in data and not isinstance(data[key], dict):
            return f"{key} must be an object"
    if "segments" in data and not (
        isinstance(data["segments"], list) and all(isinstance(s, str) for s in data["segments"])
    ):
        return "segments must be an array of strings"
    return ""


def _merge_profile(attributes: dict, body: dict) -> dict:
    merged = dict(attributes)
    for key, value in body.items():
        if key in ("person", "company") and isinstance(value, dict):
            merged[key] = {**merged.get(key, {}), **value}
        elif key == "segments":
            merged[key] = sorted(set(merged.get(key, [])) | set(value))
        else:
            merged[key] = value
    return merged


def _profile_out(row: SandboxContact) -> dict:
    attrs = row.attributes
    return {
        "people_id": attrs["people_id"],
        "email": attrs["email"],
        "person": attrs.get("person", {}),
        "company": attrs.get("company", {}),
        "segments": attrs.get("segments", []),
        "created_at": attrs.get("created_at", 1700000000000),
        "updated_at": attrs.get("updated_at", 1700000000000),
    }


# --- views -------------------------------------------------------------------------------------


@EMULATOR.endpoint(methods=("GET",))
def plugin_account(request, account):
    return _reply("resolved", {"plugin_id": f"sbx-plugin-{account.account}"})


@EMULATOR.endpoint(methods=("GET",))
def website(request, account, website_id):
    return _reply(
        "resolved",
        {"website_id": website_id, "name": account.name, "domain": "sandbox.example.com"},
    )


@EMULATOR.endpoint(methods=("GET",))
def profiles(request, account, website_id, page):
    per_page = min(50, max(20, int(request.GET.get("per_page", 20) or 20)))
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    chunk = rows[(page - 1) * per_page : page * per_page]
    return _reply("listed", [_profile_out(r) for r in chunk])


@csrf_exempt
@EMULATOR.endpoint(methods=("POST",), writes=("POST",))
def create_profile(request, account, website_id):
    body = parse_json(request)
    reason = _check_profile(body, creating=True)
    if reason:
        return _fail(400, "invalid_data", reason)
    identifier = _identifier(body["email"])
    known = store.existing(PLATFORM, account.account, [identifier])
    if identifier in known:
        return _fail(409, "people_exists", "A profile with this email already exists")
    people_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"crisp:{account.account}:{identifier}"))
    attributes = _merge_profile({"people_id": people_id, "data": {}, "subscribed": True}, body)
    store.upsert(PLATFORM, account.account, {identifier: attributes}, known)
    return _reply("added", {"people_id": people_id}, status=201)


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "HEAD", "PATCH", "DELETE"), writes=("PATCH", "DELETE"))
def profile(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return _fail(404, "people_not_found", "No such people profile")
    if request.method == "HEAD":
        return HttpResponse(status=200)
    if request.method == "GET":
        return _reply("resolved", _profile_out(row))
    if request.method == "DELETE":
        row.delete()
        return _reply("deleted")
    body = parse_json(request)
    reason = _check_profile(body, creating=False)
    if reason:
        return _fail(400, "invalid_data", reason)
    row.attributes = _merge_profile(row.attributes, body)
    row.save(update_fields=["attributes", "updated_at"])
    return _reply("updated")


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH", "PUT"), writes=("PATCH", "PUT"))
def people_data(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return _fail(404, "people_not_found", "No such people profile")
    if request.method == "GET":
        return _reply("resolved", {"data": row.attributes.get("data", {})})
    body = parse_json(request)
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict) or set(body) != {"data"}:
        return _fail(400, "invalid_data", 'body must be {"data": {...}}')
    for key, value in data.items():
        if not DATA_KEY.match(key) or not isinstance(value, str | int | float | bool):
            return _fail(400, "invalid_data", f"invalid data key or value: {key}")
    current = row.attributes.get("data", {}) if request.method == "PATCH" else {}
    row.attributes = {**row.attributes, "data": {**current, **data}}
    row.save(update_fields=["attributes", "updated_at"])
    return _reply("updated")


@csrf_exempt
@EMULATOR.endpoint(methods=("GET", "PATCH"), writes=("PATCH",))
def subscription(request, account, website_id, people_id):
    row = _find(account, people_id)
    if row is None:
        return _fail(404, "people_not_found", "No such people profile")
    if request.method == "GET":
        return _reply("resolved", {"email": bool(row.attributes.get("subscribed", True))})
    body = parse_json(request)
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("email"), bool)
        or set(body) != {"email"}
    ):
        return _fail(400, "invalid_data", 'body must be {"email": true|false}')
    row.attributes = {**row.attributes, "subscribed": body["email"]}
    row.save(update_fields=["attributes", "updated_at"])
    return _reply("updated")


def _paged(request, items: list, page: int) -> HttpResponse:
    per_page = min(50, max(20, int(request.GET.get("per_page", 20) or 20)))
    return _reply("listed", items[(page - 1) * per_page : page * per_page])


@EMULATOR.endpoint(methods=("GET",))
def suggest_segments(request, account, website_id, page):
    counts: dict[str, int] = {}
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    for attributes in rows.values_list("attributes", flat=True):
        for segment in attributes.get("segments", []):
            counts[segment] = counts.get(segment, 0) + 1
    items = [{"segment": s, "count": n} for s, n in sorted(counts.items())]
    return _paged(request, items, page)


@EMULATOR.endpoint(methods=("GET",))
def suggest_data(request, account, website_id, page):
    counts: dict[str, int] = {}
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    for attributes in rows.values_list("attributes", flat=True):
        for key in attributes.get("data", {}):
            counts[key] = counts.get(key, 0) + 1
    items = [{"key": k, "count": n} for k, n in sorted(counts.items())]
    return _paged(request, items, page)


DEMO_PROFILES = (
    ("demo-growth@sandbox.example", "Gail Growth", ["growth investors"], {"interest": "growth"}),
    ("demo-income@sandbox.example", "Ivan Income", ["dividend income"], {"interest": "dividends"}),
)


def seed_account(account) -> None:
    """Two demo profiles, so the website has segments and data keys to suggest."""
    changes = {}
    for email, nickname, segments, data in DEMO_PROFILES:
        people_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"crisp:{account.account}:{email}"))
        changes[email] = {
            "people_id": people_id,
            "email": email,
            "person": {"nickname": nickname},
            "segments": segments,
            "data": data,
            "subscribed": True,
        }
    known = store.existing(PLATFORM, account.account, changes)
    store.upsert(PLATFORM, account.account, changes, known)


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-website-1",
        "global",
        {
            "identifier": "sandbox-crisp-plugin-identifier",
            "key": "sandbox-crisp-plugin-key",
            "website_id": "sbx-website-1",
        },
        "SharpSend Sandbox Website",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-website-1",
        "global",
        {
            "identifier": "sandbox-crisp-readonly-identifier",
            "key": "sandbox-crisp-readonly-key",
            "website_id": "sbx-website-1",
        },
        "SharpSend Sandbox Website",
        read_only=True,
    ),
)

_W = "<str:host>/v1/website/<str:website_id>"
urlpatterns = [
    path("<str:host>/v1/plugin/connect/account", plugin_account),
    path(f"{_W}", website),
    path(f"{_W}/people/profiles/<int:page>", profiles),
    path(f"{_W}/people/profile", create_profile),
    path(f"{_W}/people/profile/<str:people_id>", profile),
    path(f"{_W}/people/data/<str:people_id>", people_data),
    path(f"{_W}/people/subscription/<str:people_id>", subscription),
    path(f"{_W}/people/suggest/segments/<int:page>", suggest_segments),
    path(f"{_W}/people/suggest/data/<int:page>", suggest_data),
]
