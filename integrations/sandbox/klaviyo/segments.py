"""Klaviyo lists and segments in the emulator, with their profile counts."""

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
from integrations.sandbox.models import SandboxSegment


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
