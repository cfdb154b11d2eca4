"""The Keap emulator's tags (its segments) and the contacts holding each; tags created through
the API, applied to and removed from contacts by id (swagger.yml createTag, applyTags,
removeTags).

- `POST /tags {"name", "description", "category"}` → 201 with the Tag; a name is required
  (Keap keeps 255 characters of it). Created tags are static: their contacts are the ones
  tagged. The demo tags follow a custom field's value and take no applied contacts here.
- `POST /tags/{id}/contacts:applyTags {"contact_ids": [...]}` → 200 `{"results": {id: status}}`:
  SUCCESS for a contact of the account (tagged already or not), CONTACT_DOES_NOT_EXIST for an
  id the account does not hold. The spec names no status values for this map; these are the
  ones its sequence maps (addContacts/removeContacts results) use.
- `POST /tags/{id}/contacts:removeTags` (same body) → 204; ids not tagged are ignored.
- An unknown tag: 404; a body without a list of unique string ids: 400.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.keap.auth import PLATFORM, _error, gated
from integrations.sandbox.keap.state import CREATED, _contacts, _page, _tag_json
from integrations.sandbox.models import SandboxSegment

TAG_NAME_MAX = 255
APPLIED = "SUCCESS"
NO_CONTACT = "CONTACT_DOES_NOT_EXIST"


@require_http_methods(["GET", "POST"])
@gated
def tags(request, account):
    if request.method == "POST":
        return _create_tag(request, account)
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


def _create_tag(request, account):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _error(400, "The request body must be a JSON object", "Bad Request")
    unknown = sorted(set(data) - {"name", "description", "category"})
    if unknown:
        return _error(400, f"Unknown properties: {', '.join(unknown)}", "Bad Request")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        return _error(400, "name is required", "Bad Request")
    if not isinstance(data.get("description", ""), str):
        return _error(400, "description must be a string", "Bad Request")
    field = SandboxSegment._meta.get_field("name").max_length
    created = SandboxSegment.create_static(
        PLATFORM, account.account, name.strip()[:TAG_NAME_MAX][:field], "tag"
    )
    return json_response(_tag_json(created), status=201)


def _tag(account, tag_id: int):
    return SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=tag_id
    ).first()


def _contact_ids(request):
    data = parse_json(request)
    ids = data.get("contact_ids") if isinstance(data, dict) else None
    if (
        not isinstance(ids, list)
        or not all(isinstance(i, str) for i in ids)
        or len(set(ids)) != len(ids)
    ):
        return _error(400, "contact_ids must be a list of unique contact ids", "Bad Request")
    return ids


def _tag_for_members(account, tag_id: int):
    segment = _tag(account, tag_id)
    if segment is None:
        return _error(404, f"Tag {tag_id} not found", "Not Found")
    if not segment.static:
        return _error(
            400, "This sandbox tag follows a custom field; it takes no applied contacts",
            "Bad Request",
        )  # fmt: skip
    return segment


@require_POST
@gated
def apply_tags(request, account, tag_id: int):
    segment = _tag_for_members(account, tag_id)
    if isinstance(segment, HttpResponse):
        return segment
    ids = _contact_ids(request)
    if isinstance(ids, HttpResponse):
        return ids
    held = {c.identifier: c for c in _contacts(account.account).filter(identifier__in=ids)}
    segment.static_members.add(*held.values())
    return json_response({"results": {i: APPLIED if i in held else NO_CONTACT for i in ids}})


@require_POST
@gated
def remove_tags(request, account, tag_id: int):
    segment = _tag_for_members(account, tag_id)
    if isinstance(segment, HttpResponse):
        return segment
    ids = _contact_ids(request)
    if isinstance(ids, HttpResponse):
        return ids
    segment.static_members.remove(*_contacts(account.account).filter(identifier__in=ids))
    return HttpResponse(status=204)
