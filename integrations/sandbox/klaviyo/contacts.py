"""Klaviyo profiles in the emulator: the profile list (with its filter), data privacy
deletion jobs, and profile suppression jobs (do not sell / suppress)."""

from __future__ import annotations

import re
import uuid

from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import parse_json
from integrations.sandbox.klaviyo.auth import (
    EMULATOR,
    HOST,
    PLATFORM,
    api_response,
    error_response,
    page_size,
    paged,
)
from integrations.sandbox.models import SandboxContact, SandboxSuppression

_FILTER = re.compile(r'^equals\((email|external_id|phone_number|id),"((?:[^"\\]|\\.)*)"\)$')
_ANY_EMAIL = re.compile(r'^any\(email,\[((?:"(?:[^"\\]|\\.)*",?)*)\]\)$')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
ADDITIONAL_FIELDS = {"subscriptions", "predictive_analytics"}


def profile_id(contact: SandboxContact) -> str:
    return f"01SBX{contact.pk:021d}"


def _subscriptions(contact: SandboxContact) -> dict:
    """The profile's `subscriptions` (additional-fields[profile]=subscriptions): as stored
    under that key (tests and demos seed consent there; nothing the API writes sets it), else
    no consent recorded, or a USER_SUPPRESSED suppression for a suppressed contact."""
    stored = contact.attributes.get("subscriptions")
    if isinstance(stored, dict):
        return stored
    suppression = (
        [{"reason": "USER_SUPPRESSED", "timestamp": "2024-01-01T00:00:00+00:00"}]
        if contact.suppressed
        else []
    )
    marketing = {
        "can_receive_email_marketing": not contact.suppressed,
        "consent": "UNSUBSCRIBED" if contact.suppressed else "NEVER_SUBSCRIBED",
        "consent_timestamp": None,
        "suppression": suppression,
        "list_suppressions": [],
    }
    return {"email": {"marketing": marketing}}


def profile_resource(
    request, contact: SandboxContact, fields: set[str] | None, subscriptions: bool = False
) -> dict:
    attributes = {k: v for k, v in contact.attributes.items() if k != "subscriptions"}
    attributes.setdefault("properties", {})
    if fields:
        attributes = {k: v for k, v in attributes.items() if k in fields}
    if subscriptions:
        attributes["subscriptions"] = _subscriptions(contact)
    url = request.build_absolute_uri(f"/sandbox/{PLATFORM}/{HOST}/api/profiles")
    return {
        "type": "profile",
        "id": profile_id(contact),
        "attributes": attributes,
        "links": {"self": f"{url}/{profile_id(contact)}"},
    }


def _unescape(value: str) -> str:
    return re.sub(r"\\(.)", r"\1", value)


def _filtered(rows, raw_filter: str):
    """The profiles `filter` selects: equals(field,"v") or any(email,["a","b"] (≤ 100));
    None when the filter is not one of those."""
    any_email = _ANY_EMAIL.match(raw_filter)
    if any_email is not None:
        values = [_unescape(v).lower() for v in _QUOTED.findall(any_email.group(1))]
        return rows.filter(identifier__in=values) if len(values) <= 100 else None
    match = _FILTER.match(raw_filter)
    if match is None:
        return None
    field, value = match.group(1), _unescape(match.group(2))
    if field == "id":
        pk = value.removeprefix("01SBX")
        return rows.filter(pk=int(pk)) if pk.isdigit() else rows.none()
    identity = value.lower() if field == "email" else f"{field}:{value}"
    return rows.filter(identifier=identity)


def contact_for_profile_id(account, value: str) -> SandboxContact | None:
    pk = value.removeprefix("01SBX")
    if not value.startswith("01SBX") or not pk.isdigit():
        return None
    return SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, pk=int(pk)
    ).first()


@require_GET
@EMULATOR.endpoint(scopes=("profiles:read",), endpoint="profiles")
def profiles(request, account):
    size = page_size(request, 100)
    if size is None:
        return error_response(400, "invalid", "Invalid input.", "page[size] must be 1 to 100.",
                              parameter="page[size]")  # fmt: skip
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    raw_filter = request.GET.get("filter")
    if raw_filter:
        rows = _filtered(rows, raw_filter)
        if rows is None:
            return error_response(400, "invalid", "Invalid input.", f"Invalid filter: {raw_filter}",
                                  parameter="filter")  # fmt: skip
    fields = request.GET.get("fields[profile]")
    wanted = set(fields.split(",")) if fields else None
    extra = [v for v in request.GET.get("additional-fields[profile]", "").split(",") if v]
    if set(extra) - ADDITIONAL_FIELDS:
        return error_response(400, "invalid", "Invalid input.",
                              f"Invalid additional field: {','.join(extra)}",
                              parameter="additional-fields[profile]")  # fmt: skip
    data = [
        profile_resource(request, c, wanted, "subscriptions" in extra) for c in rows.order_by("pk")
    ]
    return paged(request, data, size)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, scopes=("data-privacy:write",), endpoint="data_privacy")
def deletion_jobs(request, account):
    data = parse_json(request)
    job = data.get("data") if isinstance(data, dict) else None
    profile = (((job or {}).get("attributes") or {}).get("profile") or {}).get("data")
    if (
        not isinstance(job, dict)
        or job.get("type") != "data-privacy-deletion-job"
        or not isinstance(profile, dict)
        or profile.get("type") != "profile"
    ):
        return error_response(
            400,
            "invalid",
            "Invalid input.",
            "A data-privacy-deletion-job with a profile is required.",
        )
    attributes = profile.get("attributes") or {}
    given = [f for f in ("email", "phone_number") if attributes.get(f)]
    if profile.get("id"):
        given.append("id")
    if len(given) != 1:
        return error_response(400, "invalid", "Invalid input.",
                              "Exactly one of email, phone_number or id is required.")  # fmt: skip
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    if given == ["id"]:
        pk = str(profile["id"]).removeprefix("01SBX")
        rows = rows.filter(pk=int(pk)) if pk.isdigit() else rows.none()
    elif given == ["email"]:
        rows = rows.filter(identifier=str(attributes["email"]).lower())
    else:
        rows = rows.filter(identifier=f"phone_number:{attributes['phone_number']}")
    rows.delete()
    return api_response(None, status=202)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(write=True, scopes=("subscriptions:write",), endpoint="suppressions")
def suppression_jobs(request, account):
    """POST /api/profile-suppression-bulk-create-jobs: up to 100 emails suppressed from email
    marketing (SandboxSuppression; the profiles stay, and a send skips them). Klaviyo creates
    a profile it does not hold and suppresses it; the emulator keeps only the address. 202
    with the job, already complete (the emulator does it at once)."""
    data = parse_json(request)
    job = data.get("data") if isinstance(data, dict) else None
    attributes = (job or {}).get("attributes") if isinstance(job, dict) else None
    profiles = (((attributes or {}).get("profiles") or {}).get("data")) if attributes else None
    if (
        not isinstance(job, dict)
        or job.get("type") != "profile-suppression-bulk-create-job"
        or not isinstance(profiles, list)
        or not profiles
    ):
        return error_response(
            400,
            "invalid",
            "Invalid input.",
            "A profile-suppression-bulk-create-job with profiles is required.",
        )
    if len(profiles) > 100:
        return error_response(400, "invalid", "Invalid input.", "At most 100 profiles per job.")
    emails = []
    for profile in profiles:
        email = (
            ((profile or {}).get("attributes") or {}).get("email")
            if isinstance(profile, dict)
            else None
        )
        if (
            not isinstance(profile, dict)
            or profile.get("type") != "profile"
            or not (isinstance(email, str) and store.looks_like_email(email))
        ):
            return error_response(
                400, "invalid", "Invalid input.", "Each profile needs a valid email."
            )
        emails.append(email)
    added = SandboxSuppression.add(PLATFORM, account.account, emails)
    now = timezone.now().isoformat()
    resource = {
        "type": "profile-suppression-bulk-create-job",
        "id": f"sbx-suppress-{uuid.uuid4().hex[:16]}",
        "attributes": {
            "status": "complete",
            "created_at": now,
            "total_count": len(added),
            "completed_count": len(added),
            "completed_at": now,
        },
    }
    return api_response({"data": resource}, status=202)
