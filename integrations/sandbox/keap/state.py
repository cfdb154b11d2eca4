"""What the Keap emulator's endpoints share: opt-in states, the request's properties, the demo
custom fields, contacts and tags as stored, and paging."""

from __future__ import annotations

from datetime import UTC

from django.http import HttpResponse

from integrations.sandbox.keap.auth import PLATFORM, _error
from integrations.sandbox.models import SandboxContact, SandboxFieldType, SandboxSegment

MAX_PAGE = 1000
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
# What listContacts' `fields` may name (swagger.yml).
LISTABLE = REQUEST_PROPERTIES | {
    "id", "create_time", "update_time", "links", "notes", "score_value", "tag_ids",
    "account_id", "created_by", "groups", "last_updated_by",
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
CREATED = "2024-01-10T08:00:00Z"
# Whether the user who authorized each account is a Keap admin (userinfo's is_admin).
ADMINS = {"sandbox-keap-app": True, "sandbox-keap-staff": False}
# The authorizing user: their global id (userinfo's `id`) and their id in the Keap app (the
# `user_id` emails:send takes).
GLOBAL_USER_ID = "123456"
APP_USER_ID = "1"


def owner_email(account: str) -> str:
    return f"owner@{account}.example.com"


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
        # The demo tags describe their kind; created ones are not stored with what was sent.
        "description": "" if segment.static else segment.kind,
        "category": {"id": "1"},
        "create_time": CREATED,
        "update_time": CREATED,
    }
