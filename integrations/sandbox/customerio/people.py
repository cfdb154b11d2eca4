"""One person through the App API (an access request's reads): attributes, segments, messages.

`GET /v1/customers/{customer_id}/attributes|segments|messages?id_type=id|email|cio_id` (spec
getPersonAttributes, getPersonSegments, getPersonMessages): 404 for a person the workspace does
not hold. The emulator keeps no per-person message log: a person's messages are the
API-triggered broadcasts recorded for the workspace that reached them.
"""

from __future__ import annotations

from django.views.decorators.http import require_GET

from integrations.sandbox.customerio.auth import APP, PLATFORM
from integrations.sandbox.customerio.broadcasts import _recipients
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxContact, SandboxSegment, SandboxSend

MESSAGES_PER_PAGE = 50


def _person(account, customer_id: str, id_type: str) -> SandboxContact | None:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    if id_type == "email":
        return rows.filter(identifier=customer_id.lower()).first() or next(
            (r for r in rows if str(r.attributes.get("email", "")).lower() == customer_id.lower()),
            None,
        )
    if id_type == "cio_id":
        pk = customer_id.removeprefix("a")
        return rows.filter(pk=int(pk)).first() if pk.isdigit() else None
    return rows.filter(identifier=f"id:{customer_id}").first()


def _found(view):
    """The view for a person named by the path and `id_type`, or Customer.io's 404/400."""

    def wrapped(request, account, customer_id: str):
        id_type = request.GET.get("id_type") or "id"
        if id_type not in ("id", "email", "cio_id"):
            return json_response({"meta": {"error": "id_type must be id, email or cio_id"}}, 400)
        person = _person(account, customer_id, id_type)
        if person is None or person.suppressed:
            return json_response({"meta": {"error": "The customer_id does not exist."}}, 404)
        return view(request, account, person)

    wrapped.__name__ = view.__name__
    return wrapped


def _identifiers(person: SandboxContact) -> dict:
    kind, _, value = person.identifier.partition(":")
    email = person.identifier if "@" in person.identifier else person.attributes.get("email")
    return {
        "email": email,
        "id": value if kind == "id" else person.attributes.get("id"),
        "cio_id": f"a{person.pk:07d}",
    }


def _segments_of(account, person: SandboxContact) -> list[SandboxSegment]:
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account)
    return [s for s in rows.order_by("remote_id") if s.members().filter(pk=person.pk).exists()]


@require_GET
@APP.endpoint()
@_found
def attributes(request, account, person: SandboxContact):
    identifiers = _identifiers(person)
    values = {k: str(v) for k, v in person.attributes.items() if v is not None}
    values.update({k: str(v) for k, v in identifiers.items() if v})
    return json_response(
        {
            "customer": {
                "id": identifiers["id"] or identifiers["email"],
                "identifiers": identifiers,
                "attributes": values,
                "timestamps": {"cio_id": int(person.created_at.timestamp())},
                "unsubscribed": str(person.attributes.get("unsubscribed")).lower() == "true",
                "devices": [],
            }
        }
    )


@require_GET
@APP.endpoint()
@_found
def segments(request, account, person: SandboxContact):
    return json_response(
        {
            "segments": [
                {"id": s.remote_id, "name": s.name, "description": ""}
                for s in _segments_of(account, person)
            ]
        }
    )


@require_GET
@APP.endpoint()
@_found
def messages(request, account, person: SandboxContact):
    """Pages of MESSAGES_PER_PAGE, `next` the offset of the following page ("" at the end)."""
    sends = SandboxSend.objects.filter(platform=PLATFORM, account=account.account, sends__gt=0)
    rows = [
        s for s in sends.order_by("pk") if person.identifier in set(_recipients(account, s.body))
    ]
    start = request.GET.get("start") or "0"
    offset = int(start) if start.isdigit() else 0
    page = rows[offset : offset + MESSAGES_PER_PAGE]
    following = offset + MESSAGES_PER_PAGE
    return json_response(
        {
            "messages": [
                {
                    "id": f"sbx-{s.pk}-{person.pk}",
                    "customer_id": _identifiers(person)["id"] or "",
                    "broadcast_id": int(s.remote_id) if str(s.remote_id).isdigit() else None,
                    "recipient": _identifiers(person)["email"] or "",
                    "subject": s.name,
                    "type": "email",
                    "created": int(s.sent_at.timestamp()) if s.sent_at else None,
                    "metrics": {"sent": int(s.sent_at.timestamp())} if s.sent_at else {},
                    "forgotten": False,
                }
                for s in page
            ],
            "next": str(following) if following < len(rows) else "",
        }
    )
