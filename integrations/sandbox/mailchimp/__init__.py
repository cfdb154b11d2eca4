"""Mailchimp emulator: API root, audiences, merge fields, batch subscribe, segments, members.

Served as /sandbox/mailchimp/<dc>.api.mailchimp.com/3.0/…, so data centres stay distinct: a
key is accepted only on the data centre its ending names. One audience per sandbox account.
Members are stored as SandboxContact rows keyed by lower-cased email, their attributes the
member's email_address, status, merge_fields and timestamp_signup.

The package: this declaration (accounts, demo data, routes, the API root), `auth` (the gate
and its hooks), `state` (members and merge fields as stored), `contacts` (the audience, batch
subscribe, merge fields), `members` (every member, and one), `segments` (segments and tags) and
`webhooks` (registering audience webhooks, and what they post).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts
from integrations.sandbox.emulation import json_response
from integrations.sandbox.mailchimp import (
    campaigns,
    contacts,
    members,
    reports,
    segments,
    webhooks,
)
from integrations.sandbox.mailchimp.auth import (
    EMULATOR,
    MAX_CONNECTIONS,
    PLATFORM,
    _in_flight,
    endpoint,
    problem,
)
from integrations.sandbox.mailchimp.campaigns import deliver_scheduled
from integrations.sandbox.mailchimp.contacts import MAX_MEMBERS, STATUSES
from integrations.sandbox.mailchimp.state import (
    DEMO_MERGE_FIELDS,
    _members,
    _subscribed,
    member_hash,
)
from integrations.sandbox.models import SandboxFieldType, SandboxSegment

__all__ = [
    "ACCOUNTS",
    "deliver_scheduled",
    "DEMO_MERGE_FIELDS",
    "EMULATOR",
    "MAX_CONNECTIONS",
    "MAX_MEMBERS",
    "PLATFORM",
    "STATUSES",
    "WEBHOOKS",
    "_in_flight",
    "member_hash",
    "problem",
    "seed_account",
    "urlpatterns",
]

# --- account ---------------------------------------------------------------------------------


@require_GET
@endpoint(audience=False)
def root(request, account):
    return json_response(
        {
            "account_id": f"{account.account}-id",
            "login_id": "1001",
            "account_name": account.name,
            "email": "owner@example.com",
            "role": "viewer" if account.read_only else "owner",
            "total_subscribers": _subscribed(_members(account)).count(),
        }
    )


@require_GET
@endpoint(audience=False)
def ping(request, account):
    return json_response({"health_status": "Everything's Chimpy!"})


# --- demo data -----------------------------------------------------------------------------


# The demo integration maps the readers' interest to the merge field its segments test.
DEMO_MAPPINGS = (("attributes.interest", "INTEREST"),)


def seed_account(account) -> None:
    """The demo audience's merge fields, a saved segment per interest and an all-readers tag."""
    for tag, (_, kind) in DEMO_MERGE_FIELDS.items():
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=tag, defaults={"type": kind}
        )
    demo = (
        ("Growth Investors", "saved", "merge_fields__INTEREST", "growth"),
        ("Dividend Income", "saved", "merge_fields__INTEREST", "dividends"),
        ("All readers", "static", "", ""),
    )
    for index, (name, kind, attribute, value) in enumerate(demo, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": kind,
                "rule_attribute": attribute,
                "rule_value": value,
            },
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us6",
        "us6",
        {"api_key": "sandbox0mailchimp0key0000000000aa-us6", "list_id": "sandbox6a"},
        "SharpSend demo audience",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us21",
        "us21",
        {"api_key": "sandbox0mailchimp0key0000000000bb-us21", "list_id": "sandbox21b"},
        "SharpSend second audience",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-audience-us6",
        "us6",
        {"api_key": "sandbox0mailchimp0viewer000000000cc-us6", "list_id": "sandbox6a"},
        "SharpSend demo audience",
        read_only=True,
    ),
)

# How its webhooks post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS

urlpatterns = [
    path("<str:host>/3.0/lists/<str:list_id>/webhooks", webhooks.webhooks),
    path("<str:host>/3.0/campaigns", campaigns.campaigns),
    path("<str:host>/3.0/campaigns/<str:campaign_id>", campaigns.campaign),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/content", campaigns.content),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/send-checklist", campaigns.send_checklist),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/actions/send", campaigns.send_now),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/actions/schedule", campaigns.schedule),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/actions/unschedule", campaigns.unschedule),
    path("<str:host>/3.0/campaigns/<str:campaign_id>/actions/test", campaigns.send_test),
    path("<str:host>/3.0/reports/<str:campaign_id>", reports.report),
    path("<str:host>/3.0/reports/<str:campaign_id>/sub-reports", reports.sub_reports),
    path("<str:host>/3.0/", root),
    path("<str:host>/3.0/ping", ping),
    path("<str:host>/3.0/lists/<str:list_id>", contacts.audience),
    path("<str:host>/3.0/lists/<str:list_id>/merge-fields", contacts.merge_fields),
    path("<str:host>/3.0/lists/<str:list_id>/segments", segments.segments),
    path("<str:host>/3.0/lists/<str:list_id>/segments/<int:segment_id>", segments.segment),
    path(
        "<str:host>/3.0/lists/<str:list_id>/segments/<int:segment_id>/members",
        segments.segment_members,
    ),
    path("<str:host>/3.0/lists/<str:list_id>/members", members.members),
    path("<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>", members.member),
    path(
        "<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/tags",
        members.member_tags,
    ),
    path(
        "<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/events",
        members.member_events,
    ),
    path(
        "<str:host>/3.0/lists/<str:list_id>/members/<str:subscriber_hash>/actions/delete-permanent",
        members.delete_permanent,
    ),
]
