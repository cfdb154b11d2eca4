"""Front contact lists in the emulator, and their members."""

from __future__ import annotations

from integrations.sandbox.front.auth import EMULATOR, PLATFORM, error_response, page
from integrations.sandbox.front.contacts import render
from integrations.sandbox.models import SandboxSegment


@EMULATOR.endpoint(methods=("GET",))
def contact_lists(request, caller):
    rows = SandboxSegment.objects.filter(platform=PLATFORM, account=caller.name)
    items = [
        {
            "_links": {"self": f"https://sandbox.api.frontapp.com/contact_lists/grp_{s.remote_id}"},
            "id": f"grp_{s.remote_id}",
            "name": s.name,
            "is_private": False,
        }
        for s in rows
    ]
    return page(request, items, caller, "/contact_lists")


@EMULATOR.endpoint(methods=("GET",))
def contact_list_contacts(request, caller, list_id):
    number = list_id.removeprefix("grp_")
    segment = None
    if number.isdigit():
        segment = SandboxSegment.objects.filter(
            platform=PLATFORM, account=caller.name, remote_id=int(number)
        ).first()
    if segment is None:
        return error_response(404, "Not found", "Unknown contact list")
    members = [render(r) for r in segment.members().order_by("identifier")]
    return page(request, members, caller, f"/contact_lists/{list_id}/contacts")
