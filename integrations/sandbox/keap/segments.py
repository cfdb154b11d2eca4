"""The Keap emulator's tags (its segments) and the contacts holding each."""

from __future__ import annotations

from django.http import HttpResponse
from django.views.decorators.http import require_GET

from integrations.sandbox.emulation import json_response
from integrations.sandbox.keap.auth import PLATFORM, _error, gated
from integrations.sandbox.keap.state import CREATED, _page, _tag_json
from integrations.sandbox.models import SandboxSegment


@require_GET
@gated
def tags(request, account):
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
