"""The Mailchimp emulator's one member: the member (read, and its status changed), its tags and
events, permanent deletion."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.state import _member_view, _members, member_hash
from integrations.sandbox.models import SandboxSegment


def _find_member(account, subscriber_hash: str):
    for contact in _members(account).filter(suppressed=False):
        if member_hash(contact.identifier) == subscriber_hash:
            return contact
    return None


def _not_found() -> HttpResponse:
    return problem(404, "Resource Not Found", "The requested resource could not be found.")


@csrf_exempt
def member(request, host: str, list_id: str, subscriber_hash: str):
    """GET the member, or PATCH it (only `status` is emulated: a "do not sell / suppress"
    request sets it to unsubscribed, and sends skip anyone not subscribed)."""
    if request.method == "PATCH":
        return _change_member(request, host=host, list_id=list_id, subscriber_hash=subscriber_hash)
    return _read_member(request, host=host, list_id=list_id, subscriber_hash=subscriber_hash)


@require_GET
@endpoint()
def _read_member(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    return json_response(_member_view(account, contact.attributes))


# Mailchimp's statuses a PATCH may set; `subscribed` for a member who left needs their own
# confirmation (fact sheet §3), so the emulator refuses it as Mailchimp does.
_PATCHABLE = {"unsubscribed", "pending", "subscribed"}


@endpoint(write=True)
def _change_member(request, account, subscriber_hash: str):
    contact = _find_member(account, subscriber_hash)
    if contact is None:
        return _not_found()
    body = parse_json(request)
    status = (body or {}).get("status") if isinstance(body, dict) else None
    if status not in _PATCHABLE:
        return problem(
            400, "Invalid Resource", "status must be unsubscribed, pending or subscribed."
        )
    current = contact.attributes.get("status")
    if status == "subscribed" and current in ("unsubscribed", "cleaned"):
        return problem(
            400,
            "Member In Compliance State",
            f"{contact.identifier} is in a compliance state due to unsubscribe, bounce, or "
            "compliance review and cannot be subscribed.",
        )
    contact.attributes = {**contact.attributes, "status": status}
    contact.save(update_fields=["attributes", "updated_at"])
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


@require_GET
@endpoint()
def members(request, account):
    """GET /lists/{id}/members?count=&offset=&fields= — every member (any status), oldest
    first, `count` at most 1000; `fields` trims the answer as Mailchimp's does (dot notation:
    members.email_address, total_items …)."""
    try:
        count = min(int(request.GET.get("count", 10)), 1000)
        offset = int(request.GET.get("offset", 0))
    except ValueError:
        return problem(400, "Invalid Resource", "count and offset must be integers.")
    if count < 1 or offset < 0:
        return problem(400, "Invalid Resource", "count must be 1 or more and offset 0 or more.")
    rows = _members(account).filter(suppressed=False).order_by("pk")
    page = [_member_view(account, c.attributes) for c in rows[offset : offset + count]]
    answer = {"members": page, "list_id": account.credentials["list_id"]}
    answer["total_items"] = rows.count()
    return json_response(_trimmed(answer, request.GET.get("fields", "")))


def _trimmed(answer: dict, fields: str) -> dict:
    """Only the `fields` asked for (Mailchimp's `fields=` parameter), or all of them."""
    wanted = [f.strip() for f in fields.split(",") if f.strip()]
    if not wanted:
        return answer
    member_keys = {f.split(".", 1)[1] for f in wanted if f.startswith("members.")}
    trimmed = {k: v for k, v in answer.items() if k in wanted and k != "members"}
    if member_keys:
        trimmed["members"] = [
            {k: v for k, v in member.items() if k in member_keys} for member in answer["members"]
        ]
    return trimmed
