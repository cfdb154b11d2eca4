"""The Keap emulator's emails: the app's users, `emails:send` to contacts, and the sent-email
records (with opens and clicks from the sandbox's seeded engagement).

Real shapes (../shared/platforms/keap.md §5, §7, §13; swagger.yml `EmailSendRequest`,
`ListUsersPaginatedResponse`, `ListEmailsSentResponse`): `POST /emails:send {"contacts": [ids],
"subject", "html_content" | "plain_content" (Base64), exactly one of "user_id" or
"from_address", "address_field", "attachments" (≤10)}` answers 202 with no body; errors are
`{"code", "message", "status", "details"}`. A contact receives it when it exists, has an
address and is marketable (Keap sends no marketing email to a non-marketable address, §3); the
emulator skips the others, unknown ids included. Each call is a SandboxSend of kind "email",
its decoded content and the contact ids it reached kept in `content`.
"""

from __future__ import annotations

import base64
import binascii
import secrets
from datetime import UTC

from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox import engagement
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.keap.auth import PLATFORM, _error, gated
from integrations.sandbox.keap.state import (
    ADMINS,
    APP_USER_ID,
    GLOBAL_USER_ID,
    MARKETABLE,
    _contacts,
    _page,
    owner_email,
)
from integrations.sandbox.models import SandboxSend

KIND = "email"
SEND_PROPERTIES = {
    "contacts", "subject", "attachments", "user_id", "from_address", "html_content",
    "plain_content", "address_field",
}  # fmt: skip
MAX_ATTACHMENTS = 10


def _bad(message: str) -> HttpResponse:
    return _error(400, message, "Bad Request")


def _user(account: str) -> dict:
    """The app's one user: the person who authorized the connection."""
    return {
        "id": APP_USER_ID,
        "global_user_id": GLOBAL_USER_ID,
        "given_name": "Sandbox",
        "family_name": "Owner",
        "admin": ADMINS.get(account, True),
        "status": "ACTIVE",
        "email_addresses": [{"email": owner_email(account), "field": "EMAIL1"}],
    }


@require_GET
@gated
def users(request, account):
    found = [_user(account.account)]
    expression = request.GET.get("filter", "")
    if expression:
        name, sep, value = expression.partition("==")
        if not sep or name != "email":
            return _bad(f"Unsupported filter: {expression}")
        found = [u for u in found if u["email_addresses"][0]["email"].lower() == value.lower()]
    paged = _page(request, found)
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response({"users": chunk, "next_page_token": token})


def _decoded(data: dict, key: str) -> str | None:
    try:
        return base64.b64decode(data.get(key) or "", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, TypeError):
        return None


def _refusal(account, data) -> HttpResponse | None:
    if not isinstance(data, dict):
        return _bad("The request body must be a JSON object")
    unknown = sorted(set(data) - SEND_PROPERTIES)
    if unknown:
        return _bad(f"Unknown properties: {', '.join(unknown)}")
    contacts = data.get("contacts")
    if (
        not contacts
        or not isinstance(contacts, list)
        or not all(isinstance(c, str) for c in contacts)
    ):
        return _bad("contacts must be a non-empty array of contact ids")
    if not isinstance(data.get("subject"), str) or not data["subject"].strip():
        return _bad("subject is required")
    if ("user_id" in data) == ("from_address" in data):
        return _bad("Exactly one of user_id or from_address is required")
    if "user_id" in data and str(data["user_id"]) != APP_USER_ID:
        return _bad(f"Invalid user_id: {data['user_id']}")
    if "from_address" in data and data["from_address"] != owner_email(account.account):
        return _bad(f"from_address is not an authenticated sender: {data['from_address']}")
    for key in ("html_content", "plain_content"):
        if key in data and _decoded(data, key) is None:
            return _bad(f"{key} must be Base64-encoded text")
    if len(data.get("attachments") or []) > MAX_ATTACHMENTS:
        return _bad(f"At most {MAX_ATTACHMENTS} attachments")
    return None


@require_POST
@gated
def send_email(request, account):
    data = parse_json(request)
    refused = _refusal(account, data)
    if refused is not None:
        return refused
    rows = _contacts(account.account).filter(identifier__in=set(data["contacts"]))
    delivered = sorted(
        (c.identifier for c in rows
         if c.attributes.get("email") and c.attributes.get("email_status") in MARKETABLE),
        key=int,
    )  # fmt: skip
    SandboxSend.objects.create(
        platform=PLATFORM,
        account=account.account,
        kind=KIND,
        remote_id=secrets.token_hex(8),
        name=data["subject"][:300],
        status="sent",
        body={k: v for k, v in data.items() if k not in ("html_content", "plain_content")},
        content={
            "html": _decoded(data, "html_content"),
            "plain": _decoded(data, "plain_content"),
            "delivered": delivered,
        },
        recipients=len(delivered),
        sends=1,
        sent_at=timezone.now(),
    )
    return HttpResponse(status=202)


def _iso(at) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _records(account, contact) -> list[dict]:
    """The sent-email records of one contact, with what they did by now."""
    email = contact.attributes.get("email", "")
    now, found = timezone.now(), []
    sends = SandboxSend.objects.filter(platform=PLATFORM, account=account.account, kind=KIND)
    for send in sends.order_by("sent_at", "pk"):
        if contact.identifier not in (send.content.get("delivered") or []):
            continue
        key = f"{PLATFORM}:{account.account}:{send.remote_id}"
        times = {}
        for event in engagement.reader_events(key, email, send.name, send.sent_at):
            if event.at <= now:
                times.setdefault(event.kind, _iso(event.at))
        found.append(
            {
                "id": f"{send.remote_id}-{contact.identifier}",
                "subject": send.name,
                "contact_id": contact.identifier,
                "sent_to_address": email,
                "sent_from_address": owner_email(account.account),
                "sent_time": _iso(send.sent_at),
                "received_time": times.get("delivered"),
                "opened_time": times.get("opened"),
                "clicked_time": times.get("clicked"),
                "original_provider": "INFUSIONSOFT",
            }
        )
    return found


@require_GET
@gated
def sent_emails(request, account):
    expression = request.GET.get("filter", "")
    name, sep, value = expression.partition("==")
    if not sep or name not in ("contact_id", "email"):
        return _bad("filter contact_id== or email== is required here")
    rows = _contacts(account.account)
    rows = rows.filter(identifier=value) if name == "contact_id" else rows.filter(
        attributes__email__iexact=value
    )  # fmt: skip
    records = [record for contact in rows.order_by("id") for record in _records(account, contact)]
    paged = _page(request, records)
    if isinstance(paged, HttpResponse):
        return paged
    chunk, token = paged
    return json_response({"emails": chunk, "next_page_token": token})
