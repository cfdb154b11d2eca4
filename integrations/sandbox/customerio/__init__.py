"""Customer.io emulator: the Track API (region, v2 batch) and the App API (workspaces, segments).

Served as /sandbox/customerio/<real host>/<real path>, so regions stay distinct.
"""

from __future__ import annotations

import base64
from dataclasses import replace

import orjson
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import (
    Emulator,
    json_response,
    parse_json,
    read_body,
    windowed,
)
from integrations.sandbox.models import SandboxContact, SandboxSegment

PLATFORM = "customerio"
TRACK_HOSTS = {"track.customer.io": "us", "track-eu.customer.io": "eu"}
APP_HOSTS = {"api.customer.io": "us", "api-eu.customer.io": "eu"}
MAX_BODY = 500_000
MAX_ENTRY = 32_000
IDENTIFIERS = ("id", "email", "cio_id")
_LIMIT_BODY = {"meta": {"error": "Too many requests"}}
RATES = {"track": (100, 1.0), "app": (10, 1.0)}  # requests a second, per workspace


def _unauthorized() -> HttpResponse:
    return HttpResponse(status=401)


def _reachable(account, region: str, any_region: bool) -> bool:
    """A US workspace cannot be reached on the EU hosts (an EU one is redirected the other
    way); `any_region`: the endpoint answers a workspace of either region on either host
    (region discovery does)."""
    return account is not None and (account.region != "us" or region != "eu" or any_region)


def _track_account(request, region, *, any_region: bool = False, **_):
    """Basic auth with the workspace's site id and tracking API key."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Basic "):
        return _unauthorized()
    try:
        site_id, _, key = base64.b64decode(header[6:]).decode().partition(":")
    except ValueError:
        return _unauthorized()
    account = accounts.find(PLATFORM, site_id=site_id, track_api_key=key)
    return account if _reachable(account, region, any_region) else _unauthorized()


def _app_account(request, region, **_):
    """A bearer App API key."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return _unauthorized()
    account = accounts.find(PLATFORM, app_api_key=header[7:])
    return account if _reachable(account, region, False) else _unauthorized()


TRACK = Emulator(
    PLATFORM,
    TRACK_HOSTS,
    "not a Customer.io host",
    authenticate=_track_account,
    throttled=_LIMIT_BODY,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="track"),
)
# The App API: other hosts, another key, its own rate; the same faults and 404.
APP = replace(
    TRACK,
    hosts=APP_HOSTS,
    authenticate=_app_account,
    limit=windowed(PLATFORM, RATES, _LIMIT_BODY, default="app"),
)


def _environment_id(account) -> int:
    return 101 if account.region == "us" else 102


@require_GET
@TRACK.endpoint(any_region=True)
def region(request, account):
    # Region discovery works on either track host: that is how a client finds its region.
    suffix = "-eu" if account.region == "eu" else ""
    return json_response(
        {
            "url": f"https://track{suffix}.customer.io",
            "region": account.region,
            "environment_id": _environment_id(account),
        }
    )


def _entry_error(index: int, reason: str, field: str, message: str) -> dict:
    return {"batch_index": index, "reason": reason, "field": field, "message": message}


@csrf_exempt
@require_POST
@TRACK.endpoint()
def batch(request, account):
    if len(read_body(request)) >= MAX_BODY:
        return json_response(
            {"errors": [{"reason": "too_large", "field": "", "message": "body must be < 500KB"}]},
            status=400,
        )
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("batch"), list):
        return json_response(
            {"errors": [{"reason": "invalid", "field": "batch", "message": "batch is required"}]},
            status=400,
        )
    errors, changes, positions = [], {}, {}
    for index, entry in enumerate(data["batch"]):
        problem = _check_entry(entry)
        if problem:
            errors.append(_entry_error(index, *problem))
            continue
        kind, value = next(iter(entry["identifiers"].items()))
        identifier = value.lower() if kind == "email" else f"{kind}:{value}"
        attributes = dict(entry.get("attributes") or {})
        if kind == "email":
            attributes.setdefault("email", value)
        changes[identifier] = {**changes.get(identifier, {}), **attributes}
        positions[identifier] = index
    known = store.existing(PLATFORM, account.account, changes)
    for identifier, contact in known.items():
        if contact.suppressed:
            errors.append(
                _entry_error(
                    positions[identifier], "suppressed", "identifiers", "person is suppressed"
                )
            )
            del changes[identifier]
    store.upsert(PLATFORM, account.account, changes, known)
    if errors:
        return json_response({"errors": sorted(errors, key=lambda e: e["batch_index"])}, status=207)
    return HttpResponse(status=200)


def _check_entry(entry) -> tuple[str, str, str] | None:
    if not isinstance(entry, dict):
        return ("invalid", "", "entry must be an object")
    if len(orjson.dumps(entry)) > MAX_ENTRY:
        return ("too_large", "", "entry must be at most 32KB")
    if entry.get("type") != "person":
        return ("invalid", "type", "only person entries are emulated")
    if entry.get("action") != "identify":
        return ("invalid", "action", "only identify is emulated")
    identifiers = entry.get("identifiers")
    if (
        not isinstance(identifiers, dict)
        or len(identifiers) != 1
        or not set(identifiers) <= set(IDENTIFIERS)
    ):
        return ("invalid", "identifiers", "exactly one of id, email, cio_id is required")
    kind, value = next(iter(identifiers.items()))
    if not isinstance(value, str) or not value:
        return ("invalid", f"identifiers.{kind}", f"{kind} must be a non-empty string")
    if kind == "email" and not store.looks_like_email(value):
        return ("invalid", "identifiers.email", "email is invalid")
    attributes = entry.get("attributes", {})
    if not isinstance(attributes, dict):
        return ("invalid", "attributes", "attributes must be an object")
    if len(attributes) > 300:
        return ("invalid", "attributes", "at most 300 attributes")
    return None


@require_GET
@APP.endpoint()
def workspaces(request, account):
    people = SandboxContact.objects.filter(platform=PLATFORM, account=account.account).count()
    return json_response(
        {
            "workspaces": [
                {
                    "id": _environment_id(account),
                    "name": account.name,
                    "messages_sent": 0,
                    "billable_messages_sent": 0,
                    "people": people,
                    "object_types": 0,
                    "objects": 0,
                }
            ]
        }
    )


@require_GET
@APP.endpoint()
def segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return json_response(
        {
            "segments": [
                {
                    "id": s.remote_id,
                    "deduplicate_id": f"{s.remote_id}:1700000000",
                    "name": s.name,
                    "description": "",
                    "state": "finished",
                    "progress": None,
                    "type": s.kind or "dynamic",
                    "tags": [],
                }
                for s in rows
            ]
        }
    )


@require_GET
@APP.endpoint()
def segment_customer_count(request, account, segment_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return json_response({"meta": {"error": "segment not found"}}, status=404)
    return json_response({"count": segment.members().count()})


def seed_account(account) -> None:
    """Demo segments for one emulated workspace."""
    from integrations.sandbox.emulation import seed_segments

    seed_segments(PLATFORM, account.account, kinds=("dynamic", "manual"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-site-us",
        "us",
        {
            "site_id": "sandbox-site-us",
            "track_api_key": "sandbox-track-key-us",
            "app_api_key": "sandbox-app-key-us",
        },
        "SharpSend demo workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-site-eu",
        "eu",
        {
            "site_id": "sandbox-site-eu",
            "track_api_key": "sandbox-track-key-eu",
            "app_api_key": "sandbox-app-key-eu",
        },
        "SharpSend EU workspace",
    ),
)

urlpatterns = [
    path("<str:host>/api/v1/accounts/region", region),
    path("<str:host>/api/v2/batch", batch),
    path("<str:host>/v1/workspaces", workspaces),
    path("<str:host>/v1/segments", segments),
    path("<str:host>/v1/segments/<int:segment_id>/customer_count", segment_customer_count),
]
