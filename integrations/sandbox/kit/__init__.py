"""Kit (API v4) emulator: account, custom fields, subscribers (upsert, lookup, unsubscribe),
tags with counts, segments, and the OAuth-only bulk endpoint refusing API keys.

Served as /sandbox/kit/api.kit.com/v4/…. Subscribers are SandboxContact rows keyed by
lower-cased email; their attributes are Kit's subscriber object (id = the row's pk).
"""

from __future__ import annotations

from datetime import UTC

from django.db import transaction
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import accounts, store
from integrations.sandbox.emulation import Emulator, json_response, over_limit, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "kit"
HOSTS = {"api.kit.com": "global"}
RATE = (120, 60.0)  # requests per rolling minute, per API key
MAX_FIELDS = 140
STATES = ("active", "cancelled", "bounced", "complained", "inactive")
# The demo account's custom fields: key → label.
DEMO_FIELDS = {"last_name": "Last name", "interest": "Interest", "plan": "Plan"}


def _errors(status: int, *messages: str) -> HttpResponse:
    return json_response({"errors": list(messages)}, status=status)


def _authenticate(request, region, **_):
    key = request.headers.get("X-Kit-Api-Key", "")
    account = accounts.find(PLATFORM, api_key=key) if key else None
    return account or _errors(401, "The API key is not valid")


def _limit(request, account, **_):
    if over_limit(f"{PLATFORM}:{account.credentials['api_key']}", *RATE) is not None:
        # Kit answers plain text and sends no Retry-After.
        return HttpResponse("Retry later", status=429, content_type="text/plain")
    return None


EMULATOR = Emulator(
    PLATFORM,
    HOSTS,
    "not a Kit host",
    authenticate=_authenticate,
    throttled={"errors": ["Retry later"]},
    limit=_limit,
)
endpoint = EMULATOR.endpoint()


def _page(items: list, request, total: bool = False) -> tuple[list, dict]:
    """Cursor pagination: `after` is the index of the next item, as a string."""
    try:
        per_page = max(1, min(int(request.GET.get("per_page", 500)), 1000))
        start = int(request.GET.get("after") or 0)
    except ValueError:
        start, per_page = 0, 500
    page = items[start : start + per_page]
    end = start + len(page)
    pagination = {
        "has_previous_page": start > 0,
        "has_next_page": end < len(items),
        "start_cursor": str(start) if page else None,
        "end_cursor": str(end) if page else None,
        "per_page": per_page,
    }
    if total or request.GET.get("include_total_count") == "true":
        pagination["total_count"] = len(items)
    return page, pagination


def _contacts(account):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account.account)


def _fields(account) -> list[SandboxFieldType]:
    return list(
        SandboxFieldType.objects.filter(platform=PLATFORM, account=account.account).order_by("pk")
    )


def _view(contact: SandboxContact, with_fields: bool = True) -> dict:
    attrs = contact.attributes
    view = {
        "id": contact.pk,
        "first_name": attrs.get("first_name"),
        "email_address": attrs.get("email_address", contact.identifier),
        "state": attrs.get("state", "active"),
        "created_at": contact.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if with_fields:
        view["fields"] = attrs.get("fields", {})
    return view


@require_GET
@endpoint
def account_view(request, account):
    return json_response(
        {
            "user": {"email": "creator@example.com"},
            "account": {
                "id": 5,
                "name": account.name,
                "plan_type": "creator",
                "primary_email_address": "creator@example.com",
                "created_at": "2023-02-17T11:43:55Z",
            },
        }
    )


@require_GET
@endpoint
def custom_fields(request, account):
    items = [
        {"id": f.pk, "name": f"ck_field_{f.pk}_{f.name}", "key": f.name, "label": f.type}
        for f in _fields(account)
    ]
    page, pagination = _page(items, request)
    return json_response({"custom_fields": page, "pagination": pagination})


@csrf_exempt
def subscribers(request, host):
    if request.method == "POST":
        return _upsert(request, host)
    if request.method == "GET":
        return _list_subscribers(request, host)
    return HttpResponse(status=405)


@endpoint
def _list_subscribers(request, account):
    rows = _contacts(account).filter(suppressed=False).order_by("pk")
    email = request.GET.get("email_address")
    if email:
        rows = rows.filter(identifier=email.lower())
    status = request.GET.get("status", "active")
    if status != "all":
        rows = rows.filter(attributes__state=status)
    page, pagination = _page([_view(c, with_fields=False) for c in rows], request)
    return json_response({"subscribers": page, "pagination": pagination})


@endpoint
def _upsert(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _errors(422, "The request body is not valid JSON")
    email = data.get("email_address")
    if not store.looks_like_email(email):
        return _errors(422, "Email address is invalid")
    state = data.get("state")
    if state is not None and state not in STATES:
        return _errors(422, f"State must be one of {', '.join(STATES)}")
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        return _errors(422, "Fields must be an object")
    if len(fields) > MAX_FIELDS:
        return _errors(422, f"A maximum of {MAX_FIELDS} custom fields can be set at a time")
    known = {f.name for f in _fields(account)}
    unknown = sorted(set(fields) - known)
    if unknown:
        return _errors(422, f"Custom field '{unknown[0]}' does not exist")
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return _errors(422, "Custom field values must be strings")
    with transaction.atomic():
        contact, created = SandboxContact.objects.select_for_update().get_or_create(
            platform=PLATFORM,
            account=account.account,
            identifier=email.lower(),
            defaults={"attributes": {}},
        )
        attrs = dict(contact.attributes)
        if created:
            attrs = {"email_address": email, "state": state or "active", "fields": {}}
        if "first_name" in data:
            attrs["first_name"] = data["first_name"]
        # The state of an existing subscriber is not changed here (Kit does not support it).
        attrs["fields"] = {**attrs.get("fields", {}), **fields}
        contact.attributes = attrs
        contact.save(update_fields=["attributes", "updated_at"])
    return json_response({"subscriber": _view(contact)}, status=201 if created else 200)


def _subscriber(account, subscriber_id: int):
    return _contacts(account).filter(pk=subscriber_id, suppressed=False).first()


@require_GET
@endpoint
def subscriber(request, account, subscriber_id: int):
    contact = _subscriber(account, subscriber_id)
    if contact is None:
        return _errors(404, "Not Found")
    return json_response({"subscriber": _view(contact)})


@csrf_exempt
@require_POST
@endpoint
def unsubscribe(request, account, subscriber_id: int):
    contact = _subscriber(account, subscriber_id)
    if contact is None:
        return _errors(404, "Not Found")
    contact.attributes = {**contact.attributes, "state": "cancelled"}
    contact.save(update_fields=["attributes", "updated_at"])
    return HttpResponse(status=204)


def _tags(account):
    return SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind="tag")


def _tag_members(tag: SandboxSegment):
    return tag.members().filter(suppressed=False, attributes__state="active")


@require_GET
@endpoint
def subscriber_tags(request, account, subscriber_id: int):
    contact = _subscriber(account, subscriber_id)
    if contact is None:
        return _errors(404, "Not Found")
    items = [
        {"id": t.remote_id, "name": t.name, "tagged_at": "2023-02-17T11:43:55Z"}
        for t in _tags(account)
        if t.members().filter(pk=contact.pk).exists()
    ]
    page, pagination = _page(items, request)
    return json_response({"tags": page, "pagination": pagination})


@require_GET
@endpoint
def tags(request, account):
    items = [
        {"id": t.remote_id, "name": t.name, "created_at": "2023-02-17T11:43:55Z"}
        for t in _tags(account)
    ]
    page, pagination = _page(items, request)
    return json_response({"tags": page, "pagination": pagination})


@require_GET
@endpoint
def tag_subscribers(request, account, tag_id: int):
    tag = _tags(account).filter(remote_id=tag_id).first()
    if tag is None:
        return _errors(404, "Not Found")
    members = [_view(c, with_fields=False) for c in _tag_members(tag).order_by("pk")]
    page, pagination = _page(members, request)
    return json_response({"subscribers": page, "pagination": pagination})


@require_GET
@endpoint
def segments(request, account):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind="segment")
    items = [
        {"id": s.remote_id, "name": s.name, "created_at": "2023-02-17T11:43:55Z"} for s in rows
    ]
    page, pagination = _page(items, request)
    return json_response({"segments": page, "pagination": pagination})


@csrf_exempt
@require_POST
def bulk_subscribers(request, host):
    """OAuth only: an API key (or nothing) is refused."""
    EMULATOR.region(host)
    return _errors(401, "This endpoint requires OAuth; API keys are not supported")


def seed_account(account) -> None:
    """Custom fields, two tags (by interest) and one segment (everyone)."""
    for key, label in DEMO_FIELDS.items():
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=key, defaults={"type": label}
        )
    demo = (
        (1, "Growth Investors", "tag", "fields__interest", "growth"),
        (2, "Dividend Income", "tag", "fields__interest", "dividends"),
        (3, "All readers", "segment", "", ""),
    )
    for remote_id, name, kind, attribute, value in demo:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
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
        "sandbox-kit-creator",
        "global",
        {"api_key": "sandbox-kit-v4-api-key"},
        "SharpSend demo creator",
    ),
)

urlpatterns = [
    path("<str:host>/v4/account", account_view),
    path("<str:host>/v4/custom_fields", custom_fields),
    path("<str:host>/v4/subscribers", subscribers),
    path("<str:host>/v4/subscribers/<int:subscriber_id>", subscriber),
    path("<str:host>/v4/subscribers/<int:subscriber_id>/tags", subscriber_tags),
    path("<str:host>/v4/subscribers/<int:subscriber_id>/unsubscribe", unsubscribe),
    path("<str:host>/v4/tags", tags),
    path("<str:host>/v4/tags/<int:tag_id>/subscribers", tag_subscribers),
    path("<str:host>/v4/segments", segments),
    path("<str:host>/v4/bulk/subscribers", bulk_subscribers),
]
