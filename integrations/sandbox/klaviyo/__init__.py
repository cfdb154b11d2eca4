"""Klaviyo emulator: accounts, the bulk profile import job (asynchronous), lists and segments
with profile counts and their members (lists created through the API keep theirs), profiles,
data privacy deletion.

Served as /sandbox/klaviyo/a.klaviyo.com/api/…. Every request needs the `revision` header and
`Authorization: Klaviyo-API-Key <key>`; each key has scopes (the read-only key has only the
`:read` ones) and a missing scope answers 403. Bodies are JSON:API.

Import jobs run on the emulator's clock: queued for their first second, processing for the
next, then complete, at which point their profiles are written and their import errors known
(a client polling on the fake clock of the e2e tests sees the same states). Profiles are stored
under the lower-cased email (or `external_id:<id>` / `phone_number:<n>`), with standard
attributes at the top level and custom properties under "properties", merged key by key as
Klaviyo merges them. A stored contact marked `suppressed` stands for a profile Klaviyo holds
back: its import fails with a "suppressed" import error (a sandbox convention: Klaviyo does not
publish its list of import error codes).
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts, emulation
from integrations.sandbox.klaviyo import campaigns, events, reports, webhooks
from integrations.sandbox.klaviyo.auth import (
    EMULATOR,
    HOST,
    PLATFORM,
    RATES,
    REVISION,
    accounts_view,
)
from integrations.sandbox.klaviyo.contacts import (
    deletion_jobs,
    profile_id,
    profiles,
    suppression_jobs,
)
from integrations.sandbox.klaviyo.jobs import (
    bulk_import_job,
    bulk_import_jobs,
    import_errors,
    reset_jobs,
)
from integrations.sandbox.klaviyo.lists import list_profiles, lists_view
from integrations.sandbox.klaviyo.segments import group_id, group_view, groups_view, members_view
from integrations.sandbox.models import SandboxSegment

__all__ = [
    "ACCOUNTS", "EMULATOR", "HOST", "PLATFORM", "RATES", "REVISION", "WEBHOOKS", "group_id",
    "profile_id", "reset_jobs", "seed_account", "urlpatterns",
]  # fmt: skip


def seed_account(account) -> None:
    """Demo groups: two segments defined on the `interest` property, one list of everyone."""
    for index, (name, _, attribute, value) in enumerate(emulation.DEMO_SEGMENTS, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": "segment" if attribute else "list",
                "rule_attribute": f"properties__{attribute}" if attribute else "",
                "rule_value": value,
            },
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-klaviyo-account",
        "global",
        {"private_api_key": "pk_sandbox-klaviyo-private-key"},
        "SharpSend demo account",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-klaviyo-account",
        "global",
        {"private_api_key": "pk_sandbox-klaviyo-readonly-key"},
        "SharpSend demo account",
        read_only=True,
    ),
)

# How its system webhooks post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS

urlpatterns = [
    path("<str:host>/api/webhooks", webhooks.webhooks),
    path("<str:host>/api/metrics", reports.metrics),
    path("<str:host>/api/campaign-values-reports", reports.campaign_values_reports),
    path("<str:host>/api/webhook-topics", webhooks.topics),
    path("<str:host>/api/accounts", accounts_view),
    path("<str:host>/api/campaigns", campaigns.campaigns),
    path("<str:host>/api/campaigns/<str:campaign_id>", campaigns.campaign),
    path(
        "<str:host>/api/campaigns/<str:campaign_id>/relationships/campaign-messages",
        campaigns.campaign_messages,
    ),
    path("<str:host>/api/templates", campaigns.templates),
    path("<str:host>/api/campaign-message-assign-template", campaigns.assign_template),
    path("<str:host>/api/campaign-send-jobs", campaigns.send_jobs),
    path("<str:host>/api/profile-bulk-import-jobs", bulk_import_jobs),
    path("<str:host>/api/event-bulk-create-jobs", events.event_bulk_create_jobs),
    path("<str:host>/api/profile-bulk-import-jobs/<str:job_id>", bulk_import_job),
    path("<str:host>/api/profile-bulk-import-jobs/<str:job_id>/import-errors", import_errors),
    path("<str:host>/api/lists", lists_view),
    path("<str:host>/api/lists/<str:group>", group_view("list")),
    path("<str:host>/api/lists/<str:group>/relationships/profiles", list_profiles),
    path("<str:host>/api/lists/<str:group>/profiles", members_view("list")),
    path("<str:host>/api/segments", groups_view("segment")),
    path("<str:host>/api/segments/<str:group>", group_view("segment")),
    path("<str:host>/api/segments/<str:group>/profiles", members_view("segment")),
    path("<str:host>/api/profiles", profiles),
    path("<str:host>/api/data-privacy-deletion-jobs", deletion_jobs),
    path("<str:host>/api/profile-suppression-bulk-create-jobs", suppression_jobs),
]
