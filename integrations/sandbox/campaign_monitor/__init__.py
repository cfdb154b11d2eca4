"""Campaign Monitor emulator (API v3.3): clients, a list with its custom fields and stats,
segments with counts, the synchronous subscriber import, and one subscriber's details.

Served as /sandbox/campaign_monitor/api.createsend.com/api/v3.3/….

Auth is HTTP Basic with the API key as user name. The account key reaches every client; a
client key only its own client (and gets 401 on the account's client list). The import takes
1,000 subscribers at most; a partial failure is a 400 with Code 210 and ResultData, as the
real API answers. Subscribers marked suppressed in the sandbox stand for addresses on the
client's suppression list (Code 204).
"""

from __future__ import annotations

import base64

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import Emulator, json_response, parse_json, windowed
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "campaign_monitor"
HOST = "api.createsend.com"
MAX_SUBSCRIBERS = 1000
MAX_VALUE = 250
CLIENT_ID = "c11e0000000000000000000000000001"
OTHER_CLIENT_ID = "c11e0000000000000000000000000002"
# endpoint group → (requests, per seconds); the client declares the same (CM publishes none).
RATES = {"api": (10, 1.0), "import": (2, 1.0)}
_LIMIT_BODY = {"Code": 429, "Message": "Rate limit exceeded"}
_DATA_TYPES = ("Text", "Number", "MultiSelectOne", "MultiSelectMany", "Date", "Country", "USState")


def _error(code: int, message: str, status: int = 400, **extra) -> HttpResponse:
    return json_response({"Code": code, "Message": message, **extra}, status=status)


def list_id(remote_id: int) -> str:
    return f"115700000000000000000000{remote_id:08x}"


def segment_id(remote_id: int) -> str:
    return f"5e6d0000000000000000000{remote_id:09x}"


def _authenticate(request, region, **_):
    header = request.headers.get("Authorization", "")
    account = None
    if header.startswith("Basic "):
        try:
            key = base64.b64decode(header[6:]).decode().partition(":")[0]
        except ValueError:
            key = ""
        account = accounts.find(PLATFORM, api_key=key)
    return account or _error(100, "Invalid API Key", 401)


_windowed = windowed(PLATFORM, RATES, _LIMIT_BODY, default="api")


def _limit(request, account, *, group: str = "api", **_):
    """The group's window, with X-RateLimit-* headers on the 429."""
    count, _ = RATES[group]
    limited = _windowed(request, account, group=group)
    if limited is not None:
        limited["X-RateLimit-Limit"] = str(count)
        limited["X-RateLimit-Remaining"] = "0"
        limited["X-RateLimit-Reset"] = limited["Retry-After"]
    return limited


def _clients(account) -> list[str]:
    """The clients a key reaches: all of the account's, or just its own for a client key."""
    own = account.credentials.get("key_client")
    return [own] if own else [CLIENT_ID, OTHER_CLIENT_ID]


def _client_error(account, client: str) -> HttpResponse | None:
    if client not in (CLIENT_ID, OTHER_CLIENT_ID):
        return _error(102, "Invalid ClientID")
    if client not in _clients(account):
        return _error(100, "Invalid API Key", 401)  # a client key on another client
    return None


def _rows(account, kind: str, client: str = CLIENT_ID):
    if client != CLIENT_ID:
        return []  # the other client holds nothing in the sandbox
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return [s for s in rows if s.kind == kind]


def _in_reach(request, account, *, route, **_):
    """A ClientID or ListID in the path must be one the key may use."""
    if "client_id" in route:
        return _client_error(account, route["client_id"])
    wanted = route.get("list_ref")
    if wanted is None:
        return None
    for item in _rows(account, "list"):
        if list_id(item.remote_id) == wanted:
            if CLIENT_ID not in _clients(account):
                return _error(100, "Invalid API Key", 401)
            return None
    return _error(101, "Invalid ListID")


EMULATOR = Emulator(
    PLATFORM,
    {HOST: "global"},
    "not the Campaign Monitor host",
    authenticate=_authenticate,
    throttled=_LIMIT_BODY,
    limit=_limit,
    after=_in_reach,
)


def _active(account):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account.account).filter(
        attributes__State="Active"
    )


# --- account and clients ----------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint()
def systemdate(request, account):
    return json_response({"SystemDate": "2024-01-01 10:00:00"})


@require_GET
@EMULATOR.endpoint()
def clients(request, account):
    if account.credentials.get("key_client"):
        return _error(100, "Invalid API Key", 401)
    return json_response(
        [
            {"ClientID": CLIENT_ID, "Name": "SharpSend Demo"},
            {"ClientID": OTHER_CLIENT_ID, "Name": "Other Brand"},
        ]
    )


@require_GET
@EMULATOR.endpoint()
def client_lists(request, account, client_id: str):
    return json_response(
        [
            {"ListID": list_id(s.remote_id), "Name": s.name}
            for s in _rows(account, "list", client_id)
        ]
    )


@require_GET
@EMULATOR.endpoint()
def client_segments(request, account, client_id: str):
    lists = _rows(account, "list", client_id)
    return json_response(
        [
            {
                "ListID": list_id(lists[0].remote_id) if lists else "",
                "SegmentID": segment_id(s.remote_id),
                "Title": s.name,
            }
            for s in _rows(account, "segment", client_id)
        ]
    )


# --- lists ------------------------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint()
def custom_fields(request, account, list_ref: str):
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    return json_response(
        [
            {
                "FieldName": row.name,
                "Key": f"[{row.name}]",
                "DataType": row.type,
                "FieldOptions": [],
                "VisibleInPreferenceCenter": True,
            }
            for row in rows
        ]
    )


@require_GET
@EMULATOR.endpoint()
def list_stats(request, account, list_ref: str):
    contacts = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    states = [attrs.get("State") for attrs in contacts.values_list("attributes", flat=True)]
    return json_response(
        {
            "TotalActiveSubscribers": states.count("Active"),
            "NewActiveSubscribersToday": 0,
            "TotalUnsubscribes": states.count("Unsubscribed"),
            "TotalDeleted": states.count("Deleted"),
            "TotalBounces": states.count("Bounced"),
        }
    )


@require_GET
@EMULATOR.endpoint()
def segment_active(request, account, segment_ref: str):
    segment = next(
        (s for s in _rows(account, "segment") if segment_id(s.remote_id) == segment_ref), None
    )
    if segment is None or CLIENT_ID not in _clients(account):
        return _error(103, "Invalid SegmentID")
    try:
        page = int(request.GET.get("page", 1))
        size = int(request.GET.get("pagesize", 1000))
    except ValueError:
        page, size = 0, 0
    if page < 1 or not 10 <= size <= 1000:
        return _error(1, "page must be 1 or more and pagesize 10 to 1000")
    members = segment.members().filter(attributes__State="Active").order_by("identifier")
    total = members.count()
    rows = list(members[(page - 1) * size : page * size])
    return json_response(
        {
            "Results": [_subscriber_body(row) for row in rows],
            "ResultsOrderedBy": "email",
            "OrderDirection": "asc",
            "PageNumber": page,
            "PageSize": size,
            "RecordsOnThisPage": len(rows),
            "TotalNumberOfRecords": total,
            "NumberOfPages": (total + size - 1) // size,
        }
    )


# --- subscribers ------------------------------------------------------------------------------


@csrf_exempt
@require_POST
@EMULATOR.endpoint(group="import")
def import_subscribers(request, account, list_ref: str):
    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("Subscribers"), list):
        return _error(400, "Failed to deserialize your request.")
    subscribers = data["Subscribers"]
    if not subscribers:
        return _error(212, "Subscribers Array empty")
    if len(subscribers) > MAX_SUBSCRIBERS:
        return _error(213, "Too many subscribers: at most 1000 an import")
    resubscribe = data.get("Resubscribe") is True
    types = {
        row.name: row.type
        for row in SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account)
    }
    failures, changes, seen, duplicates = [], {}, set(), []
    for entry in subscribers:
        email = entry.get("EmailAddress") if isinstance(entry, dict) else None
        if not store.looks_like_email(email):
            failures.append(
                {"EmailAddress": email or "", "Code": 1, "Message": "Invalid Email Address"}
            )
            continue
        key = email.lower()
        if key in seen:
            duplicates.append(email)
        seen.add(key)
        problem = _check_subscriber(entry, types)
        if problem:
            failures.append({"EmailAddress": email, "Code": problem[0], "Message": problem[1]})
            continue
        changes[key] = {**changes.get(key, {}), **_attributes(entry)}
    known = store.existing(PLATFORM, account.account, changes)
    for key, contact in known.items():
        state = contact.attributes.get("State", "Active")
        if contact.suppressed:
            failures.append({"EmailAddress": key, "Code": 204, "Message": "In Suppression List"})
            del changes[key]
        elif state != "Active" and not resubscribe:
            # Not reactivated: fields are updated, the state stays.
            changes[key]["State"] = state
    store.upsert(PLATFORM, account.account, changes, known)
    result = {
        "FailureDetails": failures,
        "TotalUniqueEmailsSubmitted": len(seen),
        "TotalExistingSubscribers": sum(1 for key in changes if key in known),
        "TotalNewSubscribers": sum(1 for key in changes if key not in known),
        "DuplicateEmailsInSubmission": duplicates,
    }
    if failures:
        return _error(210, "Subscriber Import had some failures", ResultData=result)
    return json_response(result, status=201)


def _check_subscriber(entry: dict, types: dict) -> tuple[int, str] | None:
    if entry.get("ConsentToTrack") not in ("Yes", "No", "Unchanged"):
        return (1, "ConsentToTrack must be Yes, No or Unchanged")
    name = entry.get("Name", "")
    if not isinstance(name, str):
        return (1, "Name must be a string")
    fields = entry.get("CustomFields", [])
    if not isinstance(fields, list):
        return (1, "CustomFields must be a list")
    for field in fields:
        if not isinstance(field, dict) or not isinstance(field.get("Value"), str):
            return (1, "Custom field values must be strings")
        key, value = field.get("Key"), field["Value"]
        if key not in types:
            continue  # unknown keys are ignored by Campaign Monitor
        if len(value) > MAX_VALUE:
            return (1, f"Value of {key} is longer than 250 characters")
        if types[key] == "Number" and value:
            try:
                float(value)
            except ValueError:
                return (1, f"Value of {key} is not a number")
    return None


def _attributes(entry: dict) -> dict:
    attributes = {"EmailAddress": entry["EmailAddress"], "State": "Active"}
    if entry.get("Name"):
        attributes["Name"] = entry["Name"]
    attributes["ConsentToTrack"] = entry.get("ConsentToTrack", "Unchanged")
    many: dict[str, list] = {}
    for field in entry.get("CustomFields", []):
        many.setdefault(field["Key"], []).append(field["Value"])
    for key, values in many.items():
        attributes[key] = values[0] if len(values) == 1 else values
    return attributes


def _subscriber_body(row: SandboxContact) -> dict:
    attrs = row.attributes or {}
    standard = {"EmailAddress", "Name", "State", "ConsentToTrack"}
    return {
        "EmailAddress": attrs.get("EmailAddress", row.identifier),
        "Name": attrs.get("Name", ""),
        "Date": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "ListJoinedDate": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
        "State": attrs.get("State", "Active"),
        "CustomFields": [{"Key": k, "Value": v} for k, v in attrs.items() if k not in standard],
        "ReadsEmailWith": "",
        "ConsentToTrack": attrs.get("ConsentToTrack", "Unchanged"),
    }


@csrf_exempt
@require_http_methods(["GET", "DELETE"])
@EMULATOR.endpoint()
def subscriber(request, account, list_ref: str):
    email = request.GET.get("email", "").lower()
    row = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=email
    ).first()
    if row is None:
        return _error(203, "Subscriber not in list")
    if request.method == "DELETE":
        row.attributes = {**row.attributes, "State": "Deleted"}  # a soft delete
        row.save(update_fields=["attributes", "updated_at"])
        return HttpResponse(status=200)
    return json_response(_subscriber_body(row))


@require_GET
@EMULATOR.endpoint()
def lists_for_email(request, account, client_id: str):
    row = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=request.GET.get("email", "").lower()
    ).first()
    if row is None or client_id != CLIENT_ID:
        return json_response([])
    return json_response(
        [
            {
                "ListID": list_id(s.remote_id),
                "ListName": s.name,
                "SubscriberState": row.attributes.get("State", "Active"),
                "DateSubscriberAdded": row.created_at.strftime("%Y-%m-%d %H:%M:%S"),
            }
            for s in _rows(account, "list")
        ]
    )


@require_GET
@EMULATOR.endpoint()
def history(request, account, list_ref: str):
    """No campaigns are sent in the sandbox yet: every subscriber's history is empty."""
    exists = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier=request.GET.get("email", "").lower()
    ).exists()
    return json_response([]) if exists else _error(203, "Subscriber not in list")


# --- accounts and demo data -------------------------------------------------------------------

DEMO = (
    # remote id, name, kind, rule attribute, rule value
    (1, "SharpSend readers", "list", "", ""),
    (2, "Growth Investors", "segment", "interest", "growth"),
    (3, "Dividend Income", "segment", "interest", "dividends"),
)
DEMO_FIELDS = (("interest", "Text"), ("plan", "Text"), ("score", "Number"), ("renewal", "Date"))
DEMO_LIST_ID = list_id(1)


def seed_account(account) -> None:
    """The demo list, its segments and custom fields."""
    for remote_id, name, kind, attribute, value in DEMO:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
            defaults={"name": name, "kind": kind, "rule_attribute": attribute, "rule_value": value},
        )
    for name, kind in DEMO_FIELDS:
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {
            "api_key": "sandbox-cm-account-key",
            "client_id": CLIENT_ID,
            "list_id": DEMO_LIST_ID,
        },
        "SharpSend Demo",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {
            "api_key": "sandbox-cm-client-key",
            "client_id": CLIENT_ID,
            "list_id": DEMO_LIST_ID,
            "key_client": CLIENT_ID,
        },
        "SharpSend Demo (client key)",
        purpose="A client API key of the demo client (instead of the account key): connects "
        "and syncs the same list.",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {"api_key": "sandbox-cm-other-client-key", "key_client": OTHER_CLIENT_ID},
        "Other Brand (client key)",
        purpose="A client API key of another client: with the demo Client ID and List ID the "
        "connection test refuses it as the client API key of another client.",
    ),
)

urlpatterns = [
    path("<str:host>/api/v3.3/systemdate.json", systemdate),
    path("<str:host>/api/v3.3/clients.json", clients),
    path("<str:host>/api/v3.3/clients/<str:client_id>/lists.json", client_lists),
    path("<str:host>/api/v3.3/clients/<str:client_id>/segments.json", client_segments),
    path("<str:host>/api/v3.3/lists/<str:list_ref>/customfields.json", custom_fields),
    path("<str:host>/api/v3.3/lists/<str:list_ref>/stats.json", list_stats),
    path("<str:host>/api/v3.3/segments/<str:segment_ref>/active.json", segment_active),
    path("<str:host>/api/v3.3/clients/<str:client_id>/listsforemail.json", lists_for_email),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>/import.json", import_subscribers),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>/history.json", history),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>.json", subscriber),
]
