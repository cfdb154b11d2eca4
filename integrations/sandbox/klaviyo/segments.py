"""Klaviyo lists and segments in the emulator, with their profile counts and their members.

A group's members (`GET /api/{lists|segments}/{id}/profiles`, get_profiles_for_list /
get_profiles_for_segment in specs/klaviyo/stable.json): profile resources as `GET /api/profiles`
serves them, sparse with `fields[profile]`, plus `joined_group_at` (the spec's schema requires
it in every member, so it is served whatever the fields asked), `page[size]` 1 to 100
(default 20), paged by `page[cursor]` through `links.next`; 75/s and 750/m each, scopes
profiles:read and lists:read or segments:read. A list's members are the profiles added to it
(or, for the seeded list, every profile); a segment's those its rule selects.
"""

from __future__ import annotations

from django.views.decorators.http import require_GET

from integrations.sandbox.klaviyo.auth import (
    EMULATOR,
    HOST,
    PLATFORM,
    api_response,
    error_response,
    page_size,
    paged,
)
from integrations.sandbox.klaviyo.contacts import profile_resource
from integrations.sandbox.models import SandboxSegment

MEMBERS_MAX_PAGE = 100  # page[size] maximum of get_profiles_for_list / _for_segment
JOINED = "2025-01-01T00:00:00+00:00"  # the sandbox does not record when a profile joined


def group_id(remote_id: int) -> str:
    return f"Sbx{remote_id:03d}"


def _group(account, kind: str, value: str) -> SandboxSegment | None:
    if not (value.startswith("Sbx") and value[3:].isdigit()):
        return None
    return SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, kind=kind, remote_id=int(value[3:])
    ).first()


def _group_resource(request, kind: str, segment: SandboxSegment, count: bool) -> dict:
    attributes = {
        "name": segment.name,
        "created": "2025-01-01T00:00:00+00:00",
        "updated": "2025-01-01T00:00:00+00:00",
    }
    if kind == "list":
        attributes["opt_in_process"] = "single_opt_in"
    else:
        attributes.update({"is_active": True, "is_processing": False, "is_starred": False})
    if count:
        attributes["profile_count"] = segment.members().count()
    url = request.build_absolute_uri(f"/sandbox/{PLATFORM}/{HOST}/api/{kind}s")
    return {
        "type": kind,
        "id": group_id(segment.remote_id),
        "attributes": attributes,
        "links": {"self": f"{url}/{group_id(segment.remote_id)}"},
    }


def groups_view(kind: str):
    @require_GET
    @EMULATOR.endpoint(scopes=(f"{kind}s:read",), endpoint=f"{kind}s")
    def view(request, account):
        size = page_size(request, 10)
        if size is None:
            return error_response(400, "invalid", "Invalid input.", "page[size] must be 1 to 10.",
                                  parameter="page[size]")  # fmt: skip
        rows = SandboxSegment.objects.filter(platform=PLATFORM, account=account.account, kind=kind)
        data = [_group_resource(request, kind, s, count=False) for s in rows.order_by("remote_id")]
        return paged(request, data, size)

    return view


def group_view(kind: str):
    def counting(request) -> bool:
        return request.GET.get(f"additional-fields[{kind}]") == "profile_count"

    @require_GET
    @EMULATOR.endpoint(
        scopes=(f"{kind}s:read",),
        endpoint=lambda request: f"{kind}_count" if counting(request) else f"{kind}s",
    )
    def view(request, account, group: str):
        segment = _group(account, kind, group)
        if segment is None:
            return error_response(404, "not_found", "Not found.", f"No {kind} with id {group}.")
        return api_response(
            {
                "data": _group_resource(request, kind, segment, count=counting(request)),
                "links": {"self": request.build_absolute_uri()},
            }
        )

    return view


def members_view(kind: str):
    @require_GET
    @EMULATOR.endpoint(scopes=("profiles:read", f"{kind}s:read"), endpoint=f"{kind}_profiles")
    def view(request, account, group: str):
        segment = _group(account, kind, group)
        if segment is None:
            return error_response(404, "not_found", "Not found.", f"No {kind} with id {group}.")
        size = page_size(request, MEMBERS_MAX_PAGE)
        if size is None:
            return error_response(400, "invalid", "Invalid input.",
                                  f"page[size] must be 1 to {MEMBERS_MAX_PAGE}.",
                                  parameter="page[size]")  # fmt: skip
        fields = request.GET.get("fields[profile]")
        wanted = set(fields.split(",")) if fields else None
        data = []
        for contact in segment.members().order_by("pk"):
            resource = profile_resource(request, contact, wanted)
            resource["attributes"]["joined_group_at"] = JOINED
            data.append(resource)
        return paged(request, data, size)

    return view
