"""Klaviyo lists created and filled through the API in the emulator (static membership).

`POST /api/lists` creates a list (201, the list resource); `POST` / `DELETE
/api/lists/{id}/relationships/profiles` add and remove profiles by id, at most 1,000 a call,
answering 204; membership only. Rates as the spec says: create 10/s·150/m, members 10/s·150/m.
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt

from integrations.sandbox.emulation import parse_json
from integrations.sandbox.klaviyo.auth import EMULATOR, PLATFORM, api_response, error_response
from integrations.sandbox.klaviyo.contacts import contact_for_profile_id
from integrations.sandbox.klaviyo.segments import _group, _group_resource, groups_view
from integrations.sandbox.models import SandboxSegment

MAX_MEMBERS = 1000
_list_groups = groups_view("list")


@csrf_exempt
def lists_view(request, host):
    """GET pages the lists; POST creates one."""
    if request.method == "POST":
        return _create_list(request, host)
    return _list_groups(request, host)


@EMULATOR.endpoint(methods=("POST",), write=True, scopes=("lists:write",), endpoint="list_create")
def _create_list(request, account):
    data = parse_json(request)
    resource = data.get("data") if isinstance(data, dict) else None
    attributes = (resource or {}).get("attributes") if isinstance(resource, dict) else None
    name = (attributes or {}).get("name") if isinstance(attributes, dict) else None
    if (resource or {}).get("type") != "list" or not isinstance(name, str) or not name.strip():
        return error_response(400, "invalid", "Invalid input.", "data.attributes.name is required.",
                              pointer="/data/attributes/name")  # fmt: skip
    created = SandboxSegment.create_static(PLATFORM, account.account, name.strip(), "list")
    return api_response({"data": _group_resource(request, "list", created, count=False)}, 201)


@csrf_exempt
@EMULATOR.endpoint(
    methods=("POST", "DELETE"),
    write=True,
    scopes=("lists:write", "profiles:write"),
    endpoint="list_members",
)
def list_profiles(request, account, group: str):
    segment = _group(account, "list", group)
    if segment is None:
        return error_response(
            404, "not_found", "Not found.", f"A list with id {group} does not exist."
        )
    data = parse_json(request)
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        return error_response(400, "invalid", "Invalid input.", "data must be a list of profiles.")
    if len(items) > MAX_MEMBERS:
        return error_response(400, "invalid", "Invalid input.",
                              f"At most {MAX_MEMBERS} profiles per request.")  # fmt: skip
    contacts = []
    for index, item in enumerate(items):
        contact = None
        if isinstance(item, dict) and item.get("type") == "profile":
            contact = contact_for_profile_id(account, str(item.get("id") or ""))
        if contact is None:
            return error_response(404, "not_found", "Not found.", "Profile not found.",
                                  pointer=f"/data/{index}/id")  # fmt: skip
        contacts.append(contact)
    if not segment.static:
        return error_response(400, "invalid", "Invalid input.",
                              "This sandbox list is defined by a rule; it takes no members.")  # fmt: skip
    if request.method == "POST":
        segment.static_members.add(*contacts)
    else:
        segment.static_members.remove(*contacts)
    return api_response(None, 204)
