"""Keap emulator: REST v2 contacts (upsert by email with duplicate_option), the contact model's
custom fields, email opt-in status, tags with their contacts, userinfo — behind the sandbox's
OAuth server (code exchange with the client in the form body, refresh with Basic, rotating
refresh tokens).

Served as /sandbox/keap/<api.keap.com | api.infusionsoft.com>/crm/rest/v2/…. Every answer
carries Keap's quota headers; past 1,500 calls a minute (or 150,000 a day) it answers 429
"Quota Exceeded" without Retry-After, as Keap does.

Contacts are stored under their numeric id (email is not unique in Keap). Their attributes
hold the standard properties at the top level, `email` (EMAIL1), `email_status` (the address's
opt-in state), `phone`, and custom field values under the field's `field_name`. Arrays sent in
a write replace what the contact had (Keap's replace-all rule): custom fields not sent are
cleared. Tags are SandboxSegments whose members follow a custom field's value.
"""

from __future__ import annotations

from datetime import UTC

from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from integrations.sandbox import accounts, emulation, oauth, store
from integrations.sandbox.emulation import Emulator, json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

PLATFORM = "keap"
HOSTS = {"api.keap.com", "api.infusionsoft.com"}
OAUTH = {
    "exchange_auth": "body",
    "refresh_auth": "basic",
    "pkce": False,
    "rotates": True,
    "scope": "full|sandbox123.infusionsoft.com",
}

THROTTLE = (1500, 60.0)  # per OAuth app, a minute
DAILY = (150_000, 86_400.0)
MAX_PAGE = 1000
THROTTLED_BODY = {"code": "429", "message": "Quota Exceeded", "status": "Request Throttled"}

MARKETABLE = {"UNENGAGED_MARKETABLE", "SINGLE_OPT_IN", "DOUBLE_OPT_IN", "CONFIRMED"}
REOPTABLE = {"UNENGAGED_NON_MARKETABLE", "NON_MARKETABLE", "MANUAL"}
DUPLICATE_OPTIONS = {"Email", "EmailAndName", "EmailAndNameAndCompany"}
# CreateUpdateContactRequest's properties (swagger.yml).
REQUEST_PROPERTIES = {
    "addresses", "company", "origin", "prefix", "suffix", "website", "anniversary_date",
    "birth_date", "contact_type", "custom_fields", "email_addresses", "family_name",
    "fax_numbers", "given_name", "job_title", "leadsource_id", "middle_name", "owner_id",
    "phone_numbers", "preferred_locale", "preferred_name", "referral_code", "social_accounts",
    "source_type", "spouse_name", "time_zone", "utm_parameters", "assistant_name",
    "assistant_phone", "billing_information",
}  # fmt: skip
MAX_LENGTHS = {"given_name": 40, "family_name": 40, "middle_name": 100, "preferred_name": 100,
               "website": 100, "spouse_name": 100, "job_title": 255}  # fmt: skip
SCALARS = REQUEST_PROPERTIES - {
    "addresses", "company", "origin", "custom_fields", "email_addresses", "fax_numbers",
    "phone_numbers", "social_accounts", "utm_parameters",
}  # fmt: skip
# The demo account's custom fields: field_name → (id, label, field_type).
CUSTOM_FIELDS = {
    "interest": ("12", "Interest", "TEXT"),
    "plan": ("14", "Plan", "DROPDOWN"),
    "signup_date": ("16", "Signup date", "DATE"),
}
# Whether the user who authorized each account is a Keap admin (userinfo's is_admin).
ADMINS = {"sandbox-keap-app": True, "sandbox-keap-staff": False}
CREATED = "2024-01-10T08:00:00Z"


def _error(status: int, message: str, status_text: str, headers=None) -> HttpResponse:
    body = {"code": status, "message": message, "status": status_text, "details": []}
    return json_response(body, status=status, headers=headers)


def _quota_headers(account: str) -> dict[str, str]:
    used_minute = len(emulation._windows.get(f"{PLATFORM}:{account}:minute", ()))
    used_day = len(emulation._windows.get(f"{PLATFORM}:{account}:day", ()))
    return {
        "x-keap-product-throttle-limit": str(THROTTLE[0]),
        "x-keap-product-throttle-time-unit": "minute",
        "x-keap-product-throttle-interval": "1",
        "x-keap-product-throttle-available": str(max(0, THROTTLE[0] - used_minute)),
        "x-keap-product-throttle-used": str(used_minute),
        "x-keap-product-quota-limit": str(DAILY[0]),
        "x-keap-product-quota-time-unit": "day",
        "x-keap-product-quota-interval": "1",
        "x-keap-product-quota-available": str(max(0, DAILY[0] - used_day)),
        "x-keap-product-quota-used": str(used_day),
        "x-keap-tenant-id": account,
    }


def _authenticate(request, region, **_):
    account = oauth.bearer_account(request, PLATFORM)
    return account or _error(401, "Invalid Access Token", "Unauthorized")


def _quotas(request, account, **_):
    """The app's minute throttle, then its daily quota."""
    name = account.account
    for window, (count, per) in (("minute", THROTTLE), ("day", DAILY)):
        if emulation.over_limit(f"{PLATFORM}:{name}:{window}", count, per) is not None:
            return json_response(THROTTLED_BODY, status=429, headers=_quota_headers(name))
    return None


def _with_quota_headers(request, account, answer, **_):
    response = answer()
    for key, value in _quota_headers(account.account).items():
        response[key] = value
    return response


EMULATOR = Emulator(
    PLATFORM,
    {host: "global" for host in HOSTS},
    "not a Keap host",
    authenticate=_authenticate,
    throttled=THROTTLED_BODY,
    limit=_quotas,
    serve=_with_quota_headers,
)


def gated(view):
    """The shared gate (bearer token, faults, quotas), the quota headers; no CSRF (an API)."""
    return csrf_exempt(EMULATOR.endpoint()(view))


# --- helpers ------------------------------------------------------------------------------------


def _contacts(account: str):
    return SandboxContact.objects.filter(platform=PLATFORM, account=account)


def _by_email(account: str, email: str):
    return _contacts(account).filter(attributes__email__iexact=email).order_by("id")


def _fields(account: str) -> dict[str, dict]:
    """The account's custom fields, by field_name."""
    rows = SandboxFieldType.objects.filter(platform=PLATFORM, account=account)
    fields = {}
    for row in rows:
        known = CUSTOM_FIELDS.get(row.name)
        fields[row.name] = {
            "id": known[0] if known else str(1000 + row.pk),
            "label": known[1] if known else row.name,
            "field_name": row.name,
            "field_type": row.type,
            "record_type": "CONTACT",
            "group_name": "SharpSend",
            "options": [],
        }
    return fields


def _contact_json(contact: SandboxContact, fields: dict[str, dict]) -> dict:
    attrs = contact.attributes
    data = {"id": contact.identifier}
    data.update({k: v for k, v in attrs.items() if k in SCALARS})
    if attrs.get("email"):
        status = attrs.get("email_status", "NON_MARKETABLE")
        data["email_addresses"] = [
            {
                "email": attrs["email"],
                "field": "EMAIL1",
                "email_opt_status": status,
                "is_opt_in": status in MARKETABLE,
            }
        ]
    if attrs.get("phone"):
        data["phone_numbers"] = [{"number": attrs["phone"], "field": "PHONE1"}]
    data["custom_fields"] = [
        {"id": meta["id"], "content": attrs[name]} for name, meta in fields.items() if name in attrs
    ]
    data["create_time"] = contact.created_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    data["update_time"] = contact.updated_at.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return data


def _page(request, rows: list) -> tuple[list, str] | HttpResponse:
    try:
        size = int(request.GET.get("page_size") or MAX_PAGE)
        start = int(request.GET.get("page_token") or 0)
    except ValueError:
        return _error(400, "page_size and page_token must be numbers", "Bad Request")
    if not 1 <= size <= MAX_PAGE:
        return _error(400, f"page_size must be between 1 and {MAX_PAGE}", "Bad Request")
    chunk = rows[start : start + size]
    more = start + size < len(rows)
    return chunk, str(start + size) if more else ""


def _next_id(account: str) -> str:
    ids = [int(i) for i in _contacts(account).values_list("identifier", flat=True) if i.isdigit()]
    return str(max(ids, default=1000) + 1)


def _tag_json(segment: SandboxSegment) -> dict:
    return {
        "id": str(segment.remote_id),
        "name": segment.name,
        "description": segment.kind,
        "category": {"id": "1"},
        "create_time": CREATED,
        "update_time": CREATED,
    }


# --- views --------------------------------------------------------------------------------------


@require_GET
@gated
def userinfo(request, account):
    return json_response(
        {
            "email": f"owner@{account.account}.example.com",
            "sub": "12345",
            "id": "123456",
            "keap_id": f"owner@{account.account}.example.com",
            "given_name": "Sandbox",
            "family_name": "Owner",
            "is_admin": ADMINS.get(account.account, True),
            "tenant_id": account.account,
        }
    )


@require_GET
@gated
def contact_model(request, account):
    return json_response(
        {
            "custom_fields": list(_fields(account.account).values()),
            "optional_properties": ["custom_fields", "notes", "origin", "utm_parameters"],
        }
    )


@require_http_methods(["GET", "POST"])
@gated
def contacts(request, account):
    if request.method == "GET":
        return _list_contacts(request, account)
    return _create_contact(request, account)


def _list_contacts(request, account):
    rows = _contacts(account.account).order_by("id")
    expression = request.GET.get("filter", "")
    if expression:
        name, sep, value = expression.partition("==")
        if not sep or name != "email":
            return _error(400, f"Unsupported filter: {expression}", "Bad Request")
        rows = _by_email(account.account, value)
    paged = _page(request, list(rows))
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    fields = _fields(account.account)
    return json_response(
        {"contacts": [_contact_json(c, fields) for c in chunk], "next_page_token": token}
    )


def _create_contact(request, account):
    option = request.GET.get("duplicate_option")
    if option is not None and option not in DUPLICATE_OPTIONS:
        return _error(400, f"Invalid duplicate_option: {option}", "Bad Request")
    data = parse_json(request)
    if not isinstance(data, dict):
        return _error(400, "The request body must be a JSON object", "Bad Request")
    unknown = sorted(set(data) - REQUEST_PROPERTIES)
    if unknown:
        return _error(400, f"Unknown properties: {', '.join(unknown)}", "Bad Request")
    if not any(data.get(k) for k in ("email_addresses", "phone_numbers", "addresses")):
        return _error(
            400,
            "Contact must contain at least one item in email_addresses, phone_numbers, or "
            "addresses",
            "Bad Request",
        )
    for key, limit in MAX_LENGTHS.items():
        if isinstance(data.get(key), str) and len(data[key]) > limit:
            return _error(400, f"{key} must be at most {limit} characters", "Bad Request")
    email, reason = None, None
    for entry in data.get("email_addresses") or []:
        if not isinstance(entry, dict) or entry.get("field") not in ("EMAIL1", "EMAIL2", "EMAIL3"):
            return _error(400, "Each email address needs an email and a field", "Bad Request")
        address = entry.get("email")
        limit = 75 if entry["field"] == "EMAIL1" else 100
        if not store.looks_like_email(address) or len(address) > limit:
            return _error(400, f"Invalid email address: {address}", "Bad Request")
        if entry["field"] == "EMAIL1":
            email, reason = address, entry.get("opt_in_reason")
    fields = _fields(account.account)
    by_id = {meta["id"]: name for name, meta in fields.items()}
    custom = {}
    for entry in data.get("custom_fields") or []:
        name = by_id.get(str((entry or {}).get("id")))
        if name is None:
            return _error(400, f"Invalid custom field id: {(entry or {}).get('id')}", "Bad Request")
        custom[name] = entry.get("content")

    match = None
    if option and email:
        candidates = list(_by_email(account.account, email))
        if option != "Email":
            candidates = [
                c
                for c in candidates
                if c.attributes.get("given_name") == data.get("given_name")
                and c.attributes.get("family_name") == data.get("family_name")
            ]
        match = candidates[0] if candidates else None

    current = dict(match.attributes) if match else {}
    attributes = {k: v for k, v in current.items() if k not in fields}  # custom: replace-all
    if "custom_fields" not in data:
        attributes.update({k: v for k, v in current.items() if k in fields})
    attributes.update(custom)
    attributes.update({k: v for k, v in data.items() if k in SCALARS})
    if "email_addresses" in data:
        same = bool(email and current.get("email", "").lower() == email.lower())
        if email and not same:
            attributes["email_status"] = "SINGLE_OPT_IN" if reason else "NON_MARKETABLE"
        elif not email:
            attributes.pop("email_status", None)
        attributes["email"] = email
        if not email:
            attributes.pop("email")
    if "phone_numbers" in data:
        phone = next((p.get("number") for p in data["phone_numbers"] if isinstance(p, dict)), None)
        attributes["phone"] = phone
    identifier = match.identifier if match else _next_id(account.account)
    # Replace, not merge: what is left out above is gone, as in Keap.
    store.upsert(PLATFORM, account.account, {identifier: attributes}, known={})
    contact = _contacts(account.account).get(identifier=identifier)
    return json_response(_contact_json(contact, fields), status=200 if match else 201)


@require_http_methods(["GET", "DELETE"])
@gated
def contact(request, account, contact_id: str):
    row = _contacts(account.account).filter(identifier=contact_id).first()
    if row is None:
        return _error(404, f"Contact {contact_id} not found", "Not Found")
    if request.method == "DELETE":
        row.delete()
        return HttpResponse(status=204)
    return json_response(_contact_json(row, _fields(account.account)))


def _tags_of(account: str, row: SandboxContact) -> list[SandboxSegment]:
    tags = SandboxSegment.objects.filter(platform=PLATFORM, account=account)
    return [t for t in tags if t.members().filter(pk=row.pk).exists()]


@require_GET
@gated
def contact_tags(request, account, contact_id: str):
    row = _contacts(account.account).filter(identifier=contact_id).first()
    if row is None:
        return _error(404, f"Contact {contact_id} not found", "Not Found")
    paged = _page(request, _tags_of(account.account, row))
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response(
        {
            "tags": [{"tag": _tag_json(t), "applied_time": CREATED} for t in chunk],
            "next_page_token": token,
        }
    )


@require_GET
@gated
def tags(request, account):
    rows = list(SandboxSegment.objects.filter(platform=PLATFORM, account=account.account))
    paged = _page(request, rows)
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response({"tags": [_tag_json(t) for t in chunk], "next_page_token": token})


@require_GET
@gated
def tag_contacts(request, account, tag_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=tag_id
    ).first()
    if segment is None:
        return _error(404, f"Tag {tag_id} not found", "Not Found")
    paged = _page(request, list(segment.members().order_by("id")))
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response(
        {
            "contacts": [
                {
                    "id": c.identifier,
                    "email": c.attributes.get("email", ""),
                    "given_name": c.attributes.get("given_name", ""),
                    "family_name": c.attributes.get("family_name", ""),
                    "applied_time": CREATED,
                }
                for c in chunk
            ],
            "next_page_token": token,
        }
    )


def _status_json(row: SandboxContact) -> dict:
    status = row.attributes.get("email_status", "NON_MARKETABLE")
    return {
        "email": row.attributes["email"],
        "opted_in": status in MARKETABLE,
        "status": status,
        "create_time": CREATED,
    }


@require_http_methods(["GET", "PATCH"])
@gated
def email_status(request, account, email: str):
    rows = list(_by_email(account.account, email))
    if not rows:
        return _error(404, f"Email address {email} not found", "Not Found")
    if request.method == "GET":
        return json_response(_status_json(rows[0]))
    data = parse_json(request)
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("opted_in"), bool)
        or not data.get("reason")
    ):
        return _error(400, "opted_in (boolean) and reason are required", "Bad Request")
    for row in rows:
        status = row.attributes.get("email_status", "NON_MARKETABLE")
        if data["opted_in"] and status in REOPTABLE:
            status = "SINGLE_OPT_IN"
        elif not data["opted_in"] and status in MARKETABLE:
            status = "MANUAL"  # "Opt-Out: Manual"
        # Anything else (unsubscribed, bounced, complained …) stays as it is.
        row.attributes = {**row.attributes, "email_status": status}
        row.save(update_fields=["attributes", "updated_at"])
    return json_response(_status_json(rows[0]))


# --- accounts and demo data -----------------------------------------------------------------------


def seed_account(account) -> None:
    """Demo custom fields and tags (members follow the `interest` custom field)."""
    for name, (_, _, kind) in CUSTOM_FIELDS.items():
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )
    emulation.seed_segments(PLATFORM, account.account, kinds=("Interest tag", "Newsletter tag"))


def set_email_status(account: str, email: str, status: str) -> None:
    """Tests and demos: put an address in an opt-in state (as a reader or Keap would)."""
    for row in _by_email(account, email):
        row.attributes = {**row.attributes, "email_status": status}
        row.save(update_fields=["attributes", "updated_at"])


ACCOUNTS = (
    accounts.SandboxAccount(PLATFORM, "sandbox-keap-app", "global", {}, "SharpSend demo Keap app"),
    accounts.SandboxAccount(
        PLATFORM, "sandbox-keap-staff", "global", {}, "SharpSend demo Keap app (non-admin user)"
    ),
)

_V2 = "<str:host>/crm/rest/v2"
urlpatterns = [
    path(f"{_V2}/oauth/connect/userinfo", userinfo),
    path(f"{_V2}/contacts/model", contact_model),
    path(f"{_V2}/contacts", contacts),
    path(f"{_V2}/contacts/<str:contact_id>", contact),
    path(f"{_V2}/contacts/<str:contact_id>/tags", contact_tags),
    path(f"{_V2}/tags", tags),
    path(f"{_V2}/tags/<int:tag_id>/contacts", tag_contacts),
    path(f"{_V2}/emailAddresses/<str:email>/status", email_status),
]
