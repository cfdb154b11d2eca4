"""The Campaign Monitor emulator's lists and segments: the client's, with stats and members,
and the list's subscribers state by state."""

from __future__ import annotations

from django.db.models import Q
from django.views.decorators.http import require_GET

from integrations.sandbox.campaign_monitor import lists
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
    created = lists.created_list(account, list_ref)
    if created is not None:
        return json_response(
            {
                "TotalActiveSubscribers": created.static_members.count(),
                "NewActiveSubscribersToday": 0,
                "TotalUnsubscribes": 0,
                "TotalDeleted": len(lists.deleted_members(created)),
                "TotalBounces": 0,
            }
        )
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
    # A segment is rules on the list's fields: its active subscribers are the list's active
    # ones (as the list's active.json holds them) that match the rules now.
    return _paged(request, _in_state(segment.members(), "active"))


# A subscriber's state in the list (stored as attributes.State) for each state list's path.
STATE_LISTS = {
    "active": "Active",
    "unconfirmed": "Unconfirmed",
    "unsubscribed": "Unsubscribed",
    "bounced": "Bounced",
    "deleted": "Deleted",
}


def state_list(state: str):
    """GET /lists/{listid}/<state>.json?page=&pagesize=&orderfield=&orderdirection= — the
    list's subscribers in that state (addresses on the suppression list are not members)."""

    @require_GET
    @EMULATOR.endpoint()
    def view(request, account, list_ref: str):
        created = lists.created_list(account, list_ref)
        if created is not None:  # a list made through the API: Active or Deleted members
            if state == "active":
                return _paged(request, created.static_members.all(), "Active")
            chosen = lists.deleted_members(created) if state == "deleted" else []
            rows = SandboxContact.objects.filter(pk__in=[row.pk for row in chosen])
            return _paged(request, rows, "Deleted")
        rows = SandboxContact.objects.filter(platform=PLATFORM, account=account.account)
        return _paged(request, _in_state(rows, state))

    view.__name__ = f"{state}_subscribers"
    return view


def _in_state(rows, state: str):
    """The demo list's subscribers among `rows` in that state list (addresses on the
    suppression list are not members; a subscriber stored without a State is active)."""
    wanted = Q(attributes__State=STATE_LISTS[state])
    if state == "active":
        wanted |= ~Q(attributes__has_key="State")
    return rows.filter(wanted, suppressed=False)


_ORDER = {"email": "identifier", "date": "created_at"}


def _paged(request, rows, state: str | None = None):
    """One page of subscribers in Campaign Monitor's paged envelope (pages from 1, pagesize
    10–1000, ordered by email or date; by name as email here)."""
    try:
        page = int(request.GET.get("page", 1))
        size = int(request.GET.get("pagesize", 1000))
    except ValueError:
        page, size = 0, 0
    if page < 1 or not 10 <= size <= 1000:
        return _error(1, "page must be 1 or more and pagesize 10 to 1000")
    field = request.GET.get("orderfield", "email")
    direction = request.GET.get("orderdirection", "asc")
    if field not in (*_ORDER, "name") or direction not in ("asc", "desc"):
        return _error(1, "orderfield must be email, name or date; orderdirection asc or desc")
    order = _ORDER.get(field, "identifier")
    rows = rows.order_by(order if direction == "asc" else f"-{order}", "pk")
    total = rows.count()
    chunk = list(rows[(page - 1) * size : page * size])
    return json_response(
        {
            "Results": [_subscriber_body(row, state) for row in chunk],
            "ResultsOrderedBy": field,
            "OrderDirection": direction,
            "PageNumber": page,
            "PageSize": size,
            "RecordsOnThisPage": len(chunk),
            "TotalNumberOfRecords": total,
            "NumberOfPages": (total + size - 1) // size,
        }
    )
