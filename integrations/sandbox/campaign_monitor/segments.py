"""The Campaign Monitor emulator's lists and segments: the client's, with stats and members."""

from __future__ import annotations

from django.views.decorators.http import require_GET

from integrations.sandbox.campaign_monitor.auth import (
    CLIENT_ID,
    EMULATOR,
    PLATFORM,
    _clients,
    _error,
    _rows,
    list_id,
    segment_id,
)
from integrations.sandbox.campaign_monitor.contacts import _subscriber_body
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxContact


@require_GET
@EMULATOR.endpoint()
def client_lists(request, account, client_id: str):
    return json_response(
        [
            {"ListID": list_id(s.remote_id), "Name": s.name}
            for s in _rows(account, "list", client_id)
        ]
    )


@require_GET
@EMULATOR.endpoint()
def client_segments(request, account, client_id: str):
    lists = _rows(account, "list", client_id)
    return json_response(
        [
            {
                "ListID": list_id(lists[0].remote_id) if lists else "",
                "SegmentID": segment_id(s.remote_id),
                "Title": s.name,
            }
            for s in _rows(account, "segment", client_id)
        ]
    )


@require_GET
@EMULATOR.endpoint()
def list_stats(request, account, list_ref: str):
    contacts = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
    states = [attrs.get("State") for attrs in contacts.values_list("attributes", flat=True)]
    return json_response(
        {
            "TotalActiveSubscribers": states.count("Active"),
            "NewActiveSubscribersToday": 0,
            "TotalUnsubscribes": states.count("Unsubscribed"),
            "TotalDeleted": states.count("Deleted"),
            "TotalBounces": states.count("Bounced"),
        }
    )


@require_GET
@EMULATOR.endpoint()
def segment_active(request, account, segment_ref: str):
    segment = next(
        (s for s in _rows(account, "segment") if segment_id(s.remote_id) == segment_ref), None
    )
    if segment is None or CLIENT_ID not in _clients(account):
        return _error(103, "Invalid SegmentID")
    try:
        page = int(request.GET.get("page", 1))
        size = int(request.GET.get("pagesize", 1000))
    except ValueError:
        page, size = 0, 0
    if page < 1 or not 10 <= size <= 1000:
        return _error(1, "page must be 1 or more and pagesize 10 to 1000")
    members = segment.members().filter(attributes__State="Active").order_by("identifier")
    total = members.count()
    rows = list(members[(page - 1) * size : page * size])
    return json_response(
        {
            "Results": [_subscriber_body(row) for row in rows],
            "ResultsOrderedBy": "email",
            "OrderDirection": "asc",
            "PageNumber": page,
            "PageSize": size,
            "RecordsOnThisPage": len(rows),
            "TotalNumberOfRecords": total,
            "NumberOfPages": (total + size - 1) // size,
        }
    )
