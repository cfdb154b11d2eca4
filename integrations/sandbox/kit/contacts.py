"""Kit subscribers: custom fields, the upsert by email, lookup, unsubscribe, the bulk refusal."""

from __future__ import annotations

from django.db import transaction
from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import store
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.kit.auth import EMULATOR, OAUTH_ONLY, PLATFORM, endpoint, errors
from integrations.sandbox.kit.state import (
    field_rows,
    paginate,
    subscriber_row,
    subscriber_rows,
    subscriber_view,
)
from integrations.sandbox.models import SandboxContact

MAX_FIELDS = 140
STATES = ("active", "cancelled", "bounced", "complained", "inactive")


@require_GET
@endpoint
def custom_fields(request, account):
    items = [
        {"id": f.pk, "name": f"ck_field_{f.pk}_{f.name}", "key": f.name, "label": f.type}
        for f in field_rows(account)
    ]
    page, pagination = paginate(items, request)
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
    rows = subscriber_rows(account).filter(suppressed=False).order_by("pk")
    email = request.GET.get("email_address")
    if email:
        rows = rows.filter(identifier=email.lower())
    status = request.GET.get("status", "active")
    if status not in (*STATES, "all"):
        return errors(422, f"Status must be one of {', '.join(STATES)} or all")
    if status != "all":
        rows = rows.filter(attributes__state=status)
    # Each with its custom field values, keyed by the field's key (Kit's list answers so).
    page, pagination = paginate([subscriber_view(c) for c in rows], request)
    return json_response({"subscribers": page, "pagination": pagination})


@endpoint
def _upsert(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return errors(422, "The request body is not valid JSON")
    email = data.get("email_address")
    if not store.looks_like_email(email):
        return errors(422, "Email address is invalid")
    state = data.get("state")
    if state is not None and state not in STATES:
        return errors(422, f"State must be one of {', '.join(STATES)}")
    fields = data.get("fields") or {}
    if not isinstance(fields, dict):
        return errors(422, "Fields must be an object")
    if len(fields) > MAX_FIELDS:
        return errors(422, f"A maximum of {MAX_FIELDS} custom fields can be set at a time")
    known = {f.name for f in field_rows(account)}
    unknown = sorted(set(fields) - known)
    if unknown:
        return errors(422, f"Custom field '{unknown[0]}' does not exist")
    if any(v is not None and not isinstance(v, str) for v in fields.values()):
        return errors(422, "Custom field values must be strings")
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
    return json_response({"subscriber": subscriber_view(contact)}, status=201 if created else 200)


@require_GET
@endpoint
def subscriber(request, account, subscriber_id: int):
    contact = subscriber_row(account, subscriber_id)
    if contact is None:
        return errors(404, "Not Found")
    return json_response({"subscriber": subscriber_view(contact)})


@csrf_exempt
@require_POST
@endpoint
def unsubscribe(request, account, subscriber_id: int):
    contact = subscriber_row(account, subscriber_id)
    if contact is None:
        return errors(404, "Not Found")
    contact.attributes = {**contact.attributes, "state": "cancelled"}
    contact.save(update_fields=["attributes", "updated_at"])
    return HttpResponse(status=204)


@csrf_exempt
@require_POST
@EMULATOR.endpoint(oauth_only=True)
def bulk_subscribers(request, account):
    """OAuth only: the gate refuses an API key (or nothing) before this view."""
    return errors(401, OAUTH_ONLY)  # pragma: no cover - the gate answers first
