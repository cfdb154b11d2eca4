"""Mailchimp emulator: API root, audiences, merge fields, batch subscribe, segments, members.

Served as /sandbox/mailchimp/<dc>.api.mailchimp.com/3.0/…, so data centres stay distinct: a
key is accepted only on the data centre its ending names. One audience per sandbox account.
Members are stored as SandboxContact rows keyed by lower-cased email, their attributes the
member's email_address, status, merge_fields and timestamp_signup.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
import uuid

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import Emulator, json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "mailchimp"
_HOST = re.compile(r"^(?:([a-z]{2,4}\d{1,3})\.)?api\.mailchimp\.com$")
MAX_MEMBERS = 500
MAX_CONNECTIONS = 10  # simultaneous connections per user
STATUSES = ("subscribed", "unsubscribed", "cleaned", "pending", "transactional")
_DATE = re.compile(r"^(\d{4}[-/]\d{2}[-/]\d{2}|\d{2}[-/]\d{2}[-/]\d{4})$")
_BIRTHDAY = re.compile(r"^\d{2}/\d{2}$")
_SIGNUP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}")
ERRORS_DOC = "https://mailchimp.com/developer/marketing/docs/errors/"

_in_flight: dict[str, int] = {}
_lock = threading.Lock()

# The demo audience's merge fields: tag → (name, type).
DEMO_MERGE_FIELDS = {
    "FNAME": ("First Name", "text"),
    "LNAME": ("Last Name", "text"),
    "INTEREST": ("Interest", "text"),
    "JOINED": ("Joined", "date"),
}


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


def member_hash(email: str) -> str:
    return hashlib.md5(email.lower().encode()).hexdigest()  # noqa: S324 - Mailchimp's id


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


def _members(account):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account.account)


def _subscribed(queryset):
    return queryset.filter(attributes__status="subscribed")


def _merge_fields(account) -> dict[str, tuple[int, str, str]]:
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account).order_by(
        "pk"
    )
    return {
        row.name: (row.pk, DEMO_MERGE_FIELDS.get(row.name, (row.name,))[0], row.type)
        for row in rows
    }


# --- account ---------------------------------------------------------------------------------


@require_GET
@endpoint(audience=False)
def root(request, account):
    return json_response(
        {
            "account_id": f"{account.account}-id",
            "login_id": "1001",
            "account_name": account.name,
            "email": "owner@example.com",
            "role": "viewer" if account.read_only else "owner",
            "total_subscribers": _subscribed(_members(account)).count(),
        }
    )


@require_GET
@endpoint(audience=False)
def ping(request, account):
    return json_response({"health_status": "Everything's Chimpy!"})


# --- the audience and batch subscribe ---------------------------------------------------------


@csrf_exempt
def audience(request, host, list_id):
    if request.method == "GET":
        return _audience_info(request, host, list_id=list_id)
    if request.method == "POST":
        return _batch_subscribe(request, host, list_id=list_id)
    return HttpResponse(status=405)


@endpoint()
def _audience_info(request, account):
    members = _members(account)
    return json_response(
        {
            "id": account.credentials["list_id"],
            "name": account.name,
            "stats": {
                "member_count": _subscribed(members).count(),
                "unsubscribe_count": members.filter(attributes__status="unsubscribed").count(),
                "cleaned_count": members.filter(attributes__status="cleaned").count(),
            },
        }
    )


@endpoint(write=True)
def _batch_subscribe(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return problem(400, "JSON Parse Exception", "We encountered an unspecified JSON error.")
    members = data.get("members")
    if not isinstance(members, list):
        return problem(
            400,
            "Invalid Resource",
            "The resource submitted could not be validated.",
            [{"field": "members", "message": "Schema describes array, object found instead"}],
        )
    if len(members) > MAX_MEMBERS:
        return problem(
            400,
            "Invalid Resource",
            f"A batch may contain at most {MAX_MEMBERS} members; {len(members)} were sent.",
        )
    update_existing = data.get("update_existing") is True
    merge_types = {tag: kind for tag, (_, _, kind) in _merge_fields(account).items()}
    emails = [m.get("email_address", "") for m in members if isinstance(m, dict)]
    known = store.existing(
        PLATFORM, account.account, {str(e).lower() for e in emails if isinstance(e, str)}
    )
    created, updated, errors, changes = [], [], [], {}
    for member in members:
        outcome = _apply(member, known, changes, update_existing, merge_types)
        if isinstance(outcome, dict):
            errors.append(outcome)
        elif outcome[0] == "new":
            created.append(outcome[1])
        else:
            updated.append(outcome[1])
    store.upsert(PLATFORM, account.account, changes, known)
    return json_response(
        {
            "new_members": [_member_view(account, changes[e]) for e in created],
            "updated_members": [_member_view(account, changes[e]) for e in updated],
            "errors": errors,
            "total_created": len(created),
            "total_updated": len(updated),
            "error_count": len(errors),
            "_links": [],
        }
    )


def _error(email, message: str, code: str = "ERROR_GENERIC", field: str = "", field_message=""):
    return {
        "email_address": email,
        "error": message,
        "error_code": code,
        "field": field,
        "field_message": field_message,
    }


def _apply(member, known, changes, update_existing: bool, merge_types):
    """("new" | "updated", identifier) or a per-member error dict."""
    if not isinstance(member, dict):
        return _error("", "Member must be an object")
    email = member.get("email_address")
    if not store.looks_like_email(email):
        return _error(
            email or "",
            f"{email} looks fake or invalid, please enter a real email address.",
            field="email_address",
            field_message="Please provide a valid email address.",
        )
    identifier = email.lower()
    status, status_if_new = member.get("status"), member.get("status_if_new")
    for name, value in (("status", status), ("status_if_new", status_if_new)):
        if value is not None and value not in STATUSES:
            return _error(email, "Invalid status", field=name, field_message="Invalid value")
    if status is None and status_if_new is None:
        return _error(email, "A status is required", field="status", field_message="Required field")
    merge_fields = member.get("merge_fields") or {}
    if not isinstance(merge_fields, dict):
        return _error(email, "Invalid merge fields", field="merge_fields")
    for tag, value in merge_fields.items():
        problem_text = _merge_problem(merge_types.get(tag), value)
        if problem_text:
            return _error(
                email,
                "Your merge fields were invalid.",
                field=tag,
                field_message=problem_text,
            )
    signup = member.get("timestamp_signup")
    if signup is not None and not (isinstance(signup, str) and _SIGNUP.match(signup)):
        return _error(
            email,
            "Invalid timestamp",
            field="timestamp_signup",
            field_message="Use YYYY-MM-DD HH:MM:SS or ISO 8601",
        )
    current = changes_as_known(changes, identifier) or known.get(identifier)
    if current is not None and current.suppressed:
        if current.attributes.get("permanently_deleted"):
            message = (
                f"{email} was permanently deleted and cannot be re-imported. The contact must "
                "re-subscribe to get back on the list."
            )
        else:
            message = (
                f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
                "review and cannot be subscribed."
            )
        return _error(email, message)
    known_merge = {tag: v for tag, v in merge_fields.items() if tag in merge_types}
    if current is None:
        attributes = {
            "email_address": email,
            "status": status or status_if_new,
            "merge_fields": known_merge,
        }
        if signup:
            attributes["timestamp_signup"] = signup
        changes[identifier] = attributes
        return ("new", identifier)
    if not update_existing:
        return _error(
            email,
            f"{email} is already a list member. Use PUT to insert or update list members.",
            code="ERROR_CONTACT_EXISTS",
        )
    before = current.attributes
    if status == "subscribed" and before.get("status") in ("unsubscribed", "cleaned"):
        return _error(
            email,
            f"{email} is in a compliance state due to unsubscribe, bounce, or compliance "
            "review and cannot be subscribed.",
        )
    attributes = {
        **before,
        "email_address": email,
        "merge_fields": {**(before.get("merge_fields") or {}), **known_merge},
    }
    if status:
        attributes["status"] = status
    if signup:
        attributes["timestamp_signup"] = signup
    changes[identifier] = attributes
    return ("updated", identifier)


def changes_as_known(changes, identifier):
    """A member sent twice in one batch: the second sees the first."""
    if identifier in changes:
        return store.StoredContact(changes[identifier], False)
    return None


def _merge_problem(kind, value) -> str:
    if kind is None or value in (None, ""):
        return ""
    if kind == "number" and not isinstance(value, (int, float)):
        return "Please enter a number"
    if kind == "date" and not (isinstance(value, str) and _DATE.match(value)):
        return "Please enter the date"
    if kind == "birthday" and not (isinstance(value, str) and _BIRTHDAY.match(value)):
        return "Please enter a month and day (MM/DD)"
    if kind == "text" and not isinstance(value, (str, int, float)):
        return "Please enter a value"
    return ""


def _member_view(account, attributes: dict) -> dict:
    email = attributes.get("email_address", "")
    return {
        "id": member_hash(email),
        "email_address": email,
        "unique_email_id": member_hash(email)[:10],
        "status": attributes.get("status", ""),
        "merge_fields": attributes.get("merge_fields", {}),
        "timestamp_signup": attributes.get("timestamp_signup", ""),
        "list_id": account.credentials["list_id"],
        "tags": [],
    }


# --- merge fields --------------------------------------------------------------------------


@require_GET
@endpoint()
def merge_fields(request, account):
    fields = [
        {
            "merge_id": merge_id,
            "tag": tag,
            "name": name,
            "type": kind,
            "required": False,
            "default_value": "",
            "public": True,
            "display_order": index,
            "options": {"date_format": "YYYY-MM-DD"} if kind == "date" else {},
            "list_id": account.credentials["list_id"],
        }
        for index, (tag, (merge_id, name, kind)) in enumerate(
            _merge_fields(account).items(), start=2
        )
    ]
    return json_response({"merge_fields": fields, "total_items": len(fields)})


# --- segments and tags ---------------------------------------------------------------------


def _segment_view(account, segment: SandboxSegment) -> dict:
    return {
        "id": segment.remote_id,
        "name": segment.name,
        "member_count": _subscribed(segment.members()).count(),
        "type": segment.kind or "static",
        "created_at": "2024-01-01T00:00:00+00:00",
        "updated_at": "2024-01-01T00:00:00+00:00",
        "list_id": account.credentials["list_id"],
    }


@require_GET
@endpoint()
def segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    total = rows.count()
    try:
        count = min(int(request.GET.get("count", 10)), 1000)
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        return problem(400, "Invalid Resource", "count and offset must be integers.")
    page = rows.order_by("remote_id")[offset : offset + count]
    return json_response(
        {
            "segments": [_segment_view(account, s) for s in page],
            "list_id": account.credentials["list_id"],
            "total_items": total,
        }
    )


@require_GET
@endpoint()
def segment(request, account, segment_id: int):
    row = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if row is None:
        return problem(404, "Resource Not Found", "The requested resource could not be found.")
    return json_response(_segment_view(account, row))


# --- one member ----------------------------------------------------------------------------


def _find_member(account, subscriber_hash: str):
    for contact in _members(account).filter(suppressed=False):
        if member_hash(contact.identifier) == subscriber_hash:
            return contact
    return None


def _not_found() -> HttpResponse:
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


@require_GET
@endpoint()
def member(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    return json_response(_member_view(account, contact.attributes))


@require_GET
@endpoint()
def member_tags(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    tags = [
        {"id": s.remote_id, "name": s.name, "date_added": "2024-01-01T00:00:00+00:00"}
        for s in SandboxSegment.objects.filter(
            platform=PLATFORM, account=account.account, kind="static"
        )
        if s.members().filter(pk=contact.pk).exists()
    ]
    return json_response({"tags": tags, "total_items": len(tags)})


@require_GET
@endpoint()
def member_events(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    events = contact.attributes.get("events", [])
    return json_response({"events": events, "total_items": len(events)})


@csrf_exempt
@require_POST
@endpoint(write=True)
def delete_permanent(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    # Forgotten: nothing kept but the fact; the address cannot be imported again.
    contact.attributes = {"permanently_deleted": True}
    contact.suppressed = True
    contact.save(update_fields=["attributes", "suppressed", "updated_at"])
    return HttpResponse(status=204)


# --- demo data -----------------------------------------------------------------------------


def seed_account(account) -> None:
    """The demo audience's merge fields, a saved segment per interest and an all-readers tag."""
    for tag, (_, kind) in DEMO_MERGE_FIELDS.items():
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=tag, defaults={"type": kind}
        )
    demo = (
        ("Growth Investors", "saved", "merge_fields__INTEREST", "growth"),
        ("Dividend Income", "saved", "merge_fields__INTEREST", "dividends"),
        ("All readers", "static", "", ""),
    )
    for index, (name, kind, attribute, value) in enumerate(demo, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": kind,
                "rule_attribute": attribute,
                "rule_value": value,
            },
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us6",
        "us6",
        {"api_key": "sandbox0mailchimp0key0000000000aa-us6", "list_id": "sandbox6a"},
        "SharpSend demo audience",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us21",
        "us21",
        {"api_key": "sandbox0mailchimp0key0000000000bb-us21", "list_id": "sandbox21b"},
        "SharpSend second audience",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us6",
        "us6",
        {"api_key": "sandbox0mailchimp0viewer000000000cc-us6", "list_id": "sandbox6a"},
        "SharpSend demo audience",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/3.0/", root),
    path("<str:host>/3.0/ping", ping),
    path("<str:host>/3.0/lists/<str:list_id>", audience),
    path("<str:host>/3.0/lists/<str:list_id>/merge-fields", merge_fields),
    path("<str:host>/3.0/lists/<str:list_id>/segments", segments),
    path("<str:host>/3.0/lists/<str:list_id>/segments/<int:segment_id>", segment),
    path("<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>", member),
    path("<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/tags", member_tags),
    path("<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/events", member_events),
    path(
        "<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/actions/delete-permanent",
        delete_permanent,
    ),
]
