"""The Campaign Monitor emulator's lists created through the API (what a segment push makes):
`POST /lists/{clientid}.json` creates one for the demo client and answers its ListID as a JSON
string; the import fills it, `DELETE /subscribers/{listid}.json?email=` moves a member to the
list's Deleted state, and the list's stats, state lists and the client's lists show it.

The emulator's people are account-wide (one SandboxContact an address): a created list's
Active members are its `static_members`; the lists an address is Deleted from are kept in its
attributes under `_deleted_from` (hidden from the subscriber's custom fields). An import
without Resubscribe leaves a Deleted member Deleted (counted as existing, as the real import
does: no failure is reported). An address imported into a created list only is also a person
of the demo list here (a simplification: the real API keeps each list's subscribers apart).
"""

from __future__ import annotations

from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from integrations.sandbox import store
from integrations.sandbox.campaign_monitor.auth import (
    CLIENT_ID,
    EMULATOR,
    PLATFORM,
    _error,
    list_id,
)
from integrations.sandbox.emulation import json_response, parse_json
from integrations.sandbox.models import SandboxContact, SandboxSegment

DELETED_FROM = "_deleted_from"
UNSUBSCRIBE_SETTINGS = ("AllClientLists", "OnlyThisList")


@csrf_exempt
@require_POST
@EMULATOR.endpoint()
def create_list(request, account, client_id: str):
    data = parse_json(request)
    if not isinstance(data, dict):
        return _error(400, "Failed to deserialize your request.")
    title = data.get("Title")
    if not isinstance(title, str) or not title.strip():
        return _error(251, "List title is required")  # sandbox code: the fact sheet has none
    if data.get("UnsubscribeSetting", "AllClientLists") not in UNSUBSCRIBE_SETTINGS:
        return _error(1, "UnsubscribeSetting must be AllClientLists or OnlyThisList")
    if not isinstance(data.get("ConfirmedOptIn", False), bool):
        return _error(1, "ConfirmedOptIn must be true or false")
    if client_id != CLIENT_ID:
        return _error(102, "Invalid ClientID")  # the other client holds nothing here
    created = SandboxSegment.create_static(PLATFORM, account.account, title.strip(), "list")
    return json_response(list_id(created.remote_id), status=201)


def created_list(account, list_ref: str) -> SandboxSegment | None:
    """The list created through the API that `list_ref` names (None for the demo list)."""
    for row in SandboxSegment.objects.filter(
        platform=PLATFORM, account=account.account, static=True
    ):
        if list_id(row.remote_id) == list_ref:
            return row
    return None


def deleted_from(contact: SandboxContact, segment: SandboxSegment) -> bool:
    return list_id(segment.remote_id) in (contact.attributes or {}).get(DELETED_FROM, [])


def deleted_members(segment: SandboxSegment) -> list[SandboxContact]:
    rows = SandboxContact.objects.filter(platform=PLATFORM, account=segment.account)
    return [row for row in rows.order_by("identifier") if deleted_from(row, segment)]


def state_of(contact: SandboxContact, segment: SandboxSegment) -> str | None:
    if segment.static_members.filter(pk=contact.pk).exists():
        return "Active"
    return "Deleted" if deleted_from(contact, segment) else None


def import_into(account, segment: SandboxSegment, changes: dict, resubscribe: bool):
    """Import checked subscribers (address → attributes) into a created list; the failures
    (suppressed addresses), and (existing, new) counts."""
    known = store.existing(PLATFORM, account.account, changes)
    failures = []
    for key, contact in known.items():
        if contact.suppressed:
            failures.append({"EmailAddress": key, "Code": 204, "Message": "In Suppression List"})
    wanted = [key for key in changes if not (key in known and known[key].suppressed)]
    # Only people the account has no record of are created: the list's import does not
    # change what the demo list holds of the others.
    store.upsert(PLATFORM, account.account, {k: changes[k] for k in wanted if k not in known}, {})
    contacts = SandboxContact.objects.filter(
        platform=PLATFORM, account=account.account, identifier__in=wanted
    )
    members = set(segment.static_members.values_list("pk", flat=True))
    existing, new, adding = 0, 0, []
    for contact in contacts:
        if contact.pk in members:
            existing += 1
        elif deleted_from(contact, segment):
            existing += 1
            if resubscribe:
                _forget_deleted(contact, segment)
                adding.append(contact)
        else:
            new += 1
            adding.append(contact)
    segment.static_members.add(*adding)
    return failures, existing, new


def delete_member(contact: SandboxContact, segment: SandboxSegment) -> bool:
    """Move a member to the list's Deleted state; False when the list never held them."""
    if segment.static_members.filter(pk=contact.pk).exists():
        segment.static_members.remove(contact)
        mark = list(contact.attributes.get(DELETED_FROM, []))
        contact.attributes = {
            **contact.attributes,
            DELETED_FROM: [*mark, list_id(segment.remote_id)],
        }
        contact.save(update_fields=["attributes", "updated_at"])
        return True
    return deleted_from(contact, segment)


def _forget_deleted(contact: SandboxContact, segment: SandboxSegment) -> None:
    ref = list_id(segment.remote_id)
    left = [r for r in contact.attributes.get(DELETED_FROM, []) if r != ref]
    contact.attributes = {**contact.attributes, DELETED_FROM: left}
    contact.save(update_fields=["attributes", "updated_at"])
