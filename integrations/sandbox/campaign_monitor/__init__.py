"""Campaign Monitor emulator (API v3.3): clients, a list with its custom fields and stats,
segments with counts, the synchronous subscriber import, one subscriber's details and
history, and campaigns (drafts whose content is fetched from their URLs, send, summary).

Served as /sandbox/campaign_monitor/api.createsend.com/api/v3.3/….

Auth is HTTP Basic with the API key as user name. The account key reaches every client; a
client key only its own client (and gets 401 on the account's client list). The import takes
1,000 subscribers at most; a partial failure is a 400 with Code 210 and ResultData, as the
real API answers. Subscribers marked suppressed in the sandbox stand for addresses on the
client's suppression list (Code 204).

The package: this declaration (accounts, demo data, routes, the account and its clients),
`auth` (the gate and its hooks), `webhooks` (list webhooks and what they post), `contacts`
(custom fields, the import, one subscriber), `lists` (lists created through the API, filled by
the import and emptied by delete: what a segment push makes), `segments` (the client's lists
and segments with counts) and `campaigns` (create, list, send, summary, a subscriber's campaign history).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts
from integrations.sandbox.campaign_monitor import (
    campaigns,
    contacts,
    lists,
    scheduling,
    segments,
    webhooks,
)
from integrations.sandbox.campaign_monitor.auth import (
    CLIENT_ID,
    EMULATOR,
    HOST,
    OTHER_CLIENT_ID,
    PLATFORM,
    RATES,
    list_id,
    segment_id,
)
from integrations.sandbox.campaign_monitor.contacts import MAX_SUBSCRIBERS, MAX_VALUE
from integrations.sandbox.campaign_monitor.scheduling import deliver_scheduled
from integrations.sandbox.emulation import json_response
from integrations.sandbox.models import SandboxFieldType, SandboxSegment

__all__ = [
    "deliver_scheduled",
    "ACCOUNTS",
    "CLIENT_ID",
    "DEMO_LIST_ID",
    "EMULATOR",
    "HOST",
    "MAX_SUBSCRIBERS",
    "MAX_VALUE",
    "OTHER_CLIENT_ID",
    "PLATFORM",
    "RATES",
    "WEBHOOKS",
    "list_id",
    "seed_account",
    "segment_id",
    "urlpatterns",
]

# --- account and clients ----------------------------------------------------------------------


@require_GET
@EMULATOR.endpoint()
def systemdate(request, account):
    return json_response({"SystemDate": "2024-01-01 10:00:00"})


@require_GET
@EMULATOR.endpoint(account_key=True)
def clients(request, account):
    return json_response(
        [
            {"ClientID": CLIENT_ID, "Name": "SharpSend Demo"},
            {"ClientID": OTHER_CLIENT_ID, "Name": "Other Brand"},
        ]
    )


# --- accounts and demo data -------------------------------------------------------------------

DEMO = (
    # remote id, name, kind, rule attribute, rule value
    (1, "SharpSend readers", "list", "", ""),
    (2, "Growth Investors", "segment", "interest", "growth"),
    (3, "Dividend Income", "segment", "interest", "dividends"),
)
DEMO_FIELDS = (("interest", "Text"), ("plan", "Text"), ("score", "Number"), ("renewal", "Date"))
DEMO_LIST_ID = list_id(1)
DEMO_FROM_EMAIL = "news@sharpsend.example.com"
DEMO_TIME_ZONE = "Australia/Sydney"  # the IANA name of scheduling.ZONE_NAME


def seed_account(account) -> None:
    """The demo list, its segments and custom fields."""
    for remote_id, name, kind, attribute, value in DEMO:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
            defaults={"name": name, "kind": kind, "rule_attribute": attribute, "rule_value": value},
        )
    for name, kind in DEMO_FIELDS:
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {
            "api_key": "sandbox-cm-account-key",
            "client_id": CLIENT_ID,
            "list_id": DEMO_LIST_ID,
            "from_email": DEMO_FROM_EMAIL,  # campaigns need a sender address
            "time_zone": DEMO_TIME_ZONE,  # scheduled sends: the client's zone (scheduling.py)
        },
        "SharpSend Demo",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {
            "api_key": "sandbox-cm-client-key",
            "client_id": CLIENT_ID,
            "list_id": DEMO_LIST_ID,
            "from_email": DEMO_FROM_EMAIL,
            "time_zone": DEMO_TIME_ZONE,
            "key_client": CLIENT_ID,
        },
        "SharpSend Demo (client key)",
        purpose="A client API key of the demo client (instead of the account key): connects "
        "and syncs the same list.",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-cm-account",
        "global",
        {"api_key": "sandbox-cm-other-client-key", "key_client": OTHER_CLIENT_ID},
        "Other Brand (client key)",
        purpose="A client API key of another client: with the demo Client ID and List ID the "
        "connection test refuses it as the client API key of another client.",
    ),
)

# How its list webhooks post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS
_HOOKS = "<str:host>/api/v3.3/lists/<str:list_ref>/webhooks"

urlpatterns = [
    path(f"{_HOOKS}.json", webhooks.webhooks),
    path(f"{_HOOKS}/<str:webhook_id>/<str:action>.json", webhooks.webhook),
    path(f"{_HOOKS}/<str:webhook_id>.json", webhooks.webhook),
    path("<str:host>/api/v3.3/systemdate.json", systemdate),
    path("<str:host>/api/v3.3/clients.json", clients),
    path("<str:host>/api/v3.3/clients/<str:client_id>/lists.json", segments.client_lists),
    path("<str:host>/api/v3.3/clients/<str:client_id>/segments.json", segments.client_segments),
    path("<str:host>/api/v3.3/clients/<str:client_id>/suppress.json", contacts.suppress),
    path("<str:host>/api/v3.3/lists/<str:client_id>.json", lists.create_list),
    path("<str:host>/api/v3.3/lists/<str:list_ref>/customfields.json", contacts.custom_fields),
    path("<str:host>/api/v3.3/lists/<str:list_ref>/stats.json", segments.list_stats),
    path("<str:host>/api/v3.3/segments/<str:segment_ref>/active.json", segments.segment_active),
    *(
        path(f"<str:host>/api/v3.3/lists/<str:list_ref>/{state}.json", segments.state_list(state))
        for state in segments.STATE_LISTS
    ),
    path(
        "<str:host>/api/v3.3/clients/<str:client_id>/listsforemail.json", contacts.lists_for_email
    ),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>/import.json", contacts.import_subscribers),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>/history.json", contacts.history),
    path("<str:host>/api/v3.3/subscribers/<str:list_ref>.json", contacts.subscriber),
    path("<str:host>/api/v3.3/campaigns/<str:ref>.json", campaigns.create_or_delete),
    path("<str:host>/api/v3.3/campaigns/<str:campaign_id>/send.json", campaigns.send),
    path("<str:host>/api/v3.3/campaigns/<str:campaign_id>/unschedule.json", scheduling.unschedule),
    path("<str:host>/api/v3.3/clients/<str:client_id>.json", scheduling.client_details),
    path(
        "<str:host>/api/v3.3/campaigns/<str:campaign_id>/sendpreview.json", campaigns.send_preview
    ),
    path("<str:host>/api/v3.3/campaigns/<str:campaign_id>/summary.json", campaigns.summary),
    path("<str:host>/api/v3.3/clients/<str:client_id>/drafts.json", campaigns.drafts),
    path("<str:host>/api/v3.3/clients/<str:client_id>/scheduled.json", campaigns.scheduled),
    path("<str:host>/api/v3.3/clients/<str:client_id>/campaigns.json", campaigns.sent),
]
