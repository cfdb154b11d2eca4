"""Iterable emulator: lists and their sizes (static lists created and filled through the API
keep their members), user fields, users/bulkUpdate, email templates, campaigns (blasts made
from a template, the project's triggered campaigns) and journeys.

Served as /sandbox/iterable/<real host>/api/…, so the two data centers stay distinct.
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts
from integrations.sandbox.iterable.auth import EMULATOR, HOSTS, PLATFORM
from integrations.sandbox.iterable.campaigns import (
    JOURNEYS,
    TRIGGERED,
    campaign,
    campaigns,
    cancel,
    create,
    deliver_scheduled,
    journeys,
    schedule,
    send_now,
    trigger,
    trigger_workflow,
)
from integrations.sandbox.iterable.contacts import bulk_update, get_fields
from integrations.sandbox.iterable.events import track_bulk
from integrations.sandbox.iterable.lists import subscribe, unsubscribe
from integrations.sandbox.iterable.privacy import get_by_email, user_by_email, user_by_id
from integrations.sandbox.iterable.segments import get_users, list_size, lists
from integrations.sandbox.iterable.templates import (
    bulk_delete,
    by_client_template_id,
    email_proof,
    upsert_email,
)
from integrations.sandbox.iterable.webhooks import WEBHOOKS

__all__ = [
    "ACCOUNTS", "EMULATOR", "deliver_scheduled", "HOSTS", "JOURNEYS", "PLATFORM", "TRIGGERED", "WEBHOOKS",
    "seed_account", "urlpatterns",
]  # fmt: skip


def seed_account(account) -> None:
    """Demo lists for one emulated project."""
    from integrations.sandbox.emulation import seed_segments

    seed_segments(PLATFORM, account.account, kinds=("Dynamic", "Standard"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-us",
        "us",
        {"api_key": "sandbox-iterable-server-key-us"},
        "SharpSend demo project",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-eu",
        "eu",
        {"api_key": "sandbox-iterable-server-key-eu"},
        "SharpSend EU project",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-project-us",
        "us",
        {"api_key": "sandbox-iterable-readonly-key-us"},
        "SharpSend demo project",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/api/lists", lists),
    path("<str:host>/api/lists/<int:list_id>/size", list_size),
    path("<str:host>/api/lists/getUsers", get_users),
    path("<str:host>/api/lists/subscribe", subscribe),
    path("<str:host>/api/lists/unsubscribe", unsubscribe),
    path("<str:host>/api/users/getFields", get_fields),
    path("<str:host>/api/users/bulkUpdate", bulk_update),
    path("<str:host>/api/events/trackBulk", track_bulk),
    path("<str:host>/api/users/getByEmail", get_by_email),
    path("<str:host>/api/users/byUserId/<str:user_id>", user_by_id),
    path("<str:host>/api/users/<str:email>", user_by_email),
    path("<str:host>/api/templates/email/upsert", upsert_email),
    path("<str:host>/api/templates/getByClientTemplateId", by_client_template_id),
    path("<str:host>/api/templates/email/proof", email_proof),
    path("<str:host>/api/templates/bulkDelete", bulk_delete),
    path("<str:host>/api/campaigns", campaigns),
    path("<str:host>/api/campaigns/create", create),
    path("<str:host>/api/campaigns/cancel", cancel),
    path("<str:host>/api/campaigns/trigger", trigger),
    path("<str:host>/api/campaigns/<int:campaign_id>", campaign),
    path("<str:host>/api/campaigns/<int:campaign_id>/send", send_now),
    path("<str:host>/api/campaigns/<int:campaign_id>/schedule", schedule),
    path("<str:host>/api/journeys", journeys),
    path("<str:host>/api/workflows/triggerWorkflow", trigger_workflow),
]
