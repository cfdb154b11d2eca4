"""Mailchimp tags (static segments) created and filled through the API in the emulator.

`POST /3.0/lists/{list_id}/segments` `{"name", "static_segment": []}` creates one;
`POST /3.0/lists/{list_id}/segments/{id}` `{"members_to_add"|"members_to_remove": [emails]}`
(≤ 500 each) changes its members, answering members_added / members_removed and errors. An
email not in the audience is ignored, as Mailchimp does.
"""

from __future__ import annotations

from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.mailchimp.auth import PLATFORM, endpoint, problem
from integrations.sandbox.mailchimp.state import _member_view, _members
from integrations.sandbox.models import SandboxSegment

MAX_CHANGES = 500


def _invalid(detail: str):
    return problem(400, "Invalid Resource", detail)


@endpoint(write=True)
def create_tag(request, account):
    from integrations.sandbox.mailchimp.segments import _segment_view

    data = parse_json(request)
    if not isinstance(data, dict) or not isinstance(data.get("name"), str) or not data["name"]:
        return _invalid("name is required.")
    if "options" in data:
        return _invalid("The sandbox creates static segments (tags) only.")
    if data.get("static_segment") != []:
        return _invalid("static_segment must be [] (the sandbox creates empty tags).")
    created = SandboxSegment.create_static(PLATFORM, account.account, data["name"], "static")
    return json_response(_segment_view(account, created))


@endpoint(write=True)
def change_members(request, account, segment_id: int):
    segment = SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, remote_id=segment_id
    ).first()
    if segment is None:
        return problem(404, "Resource Not Found", "The requested resource could not be found.")
    data = parse_json(request)
    adds = data.get("members_to_add", []) if isinstance(data, dict) else None
    removes = data.get("members_to_remove", []) if isinstance(data, dict) else None
    if not isinstance(adds, list) or not isinstance(removes, list):
        return _invalid("members_to_add and members_to_remove are lists of emails.")
    if len(adds) > MAX_CHANGES or len(removes) > MAX_CHANGES:
        return _invalid(f"At most {MAX_CHANGES} members to add and to remove.")
    if not segment.static:
        return _invalid("Only static segments (tags) take members.")
    known = {c.identifier: c for c in _members(account).filter(
        identifier__in=[str(e).lower() for e in adds + removes])}  # fmt: skip
    added = [known[str(e).lower()] for e in adds if str(e).lower() in known]
    removed = [known[str(e).lower()] for e in removes if str(e).lower() in known]
    segment.static_members.add(*added)
    segment.static_members.remove(*removed)
    return json_response(
        {
            "members_added": [_member_view(account, c.attributes) for c in added],
            "members_removed": [_member_view(account, c.attributes) for c in removed],
            "errors": [],
            "total_added": len(added),
            "total_removed": len(removed),
            "error_count": 0,
        }
    )
