"""Front emulator: /me, contacts by id or email alias, contact custom fields, contact lists.

Served as /sandbox/front/api2.frontapp.com/<real path>. Bearer auth with an API token (the
company's rate bucket) or an access token from the sandbox's OAuth server (the partner
bucket). A restricted token lacks contacts:write and is refused writes with 403. Application
webhooks, made on the app's settings page, post what happens to contacts' messages
(front/webhooks.py).
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts
from integrations.sandbox.emulation import DEMO_SEGMENTS
from integrations.sandbox.front.auth import EMULATOR, HOST, OAUTH_RATE, PLATFORM, TOKEN_RATE, me
from integrations.sandbox.front.contacts import (
    contact,
    contact_conversations,
    contacts,
    custom_fields,
)
from integrations.sandbox.front.segments import contact_list_contacts, contact_lists
from integrations.sandbox.front.webhooks import WEBHOOKS, contact_writes_in, message_bounces
from integrations.sandbox.models import SandboxFieldType, SandboxSegment

__all__ = [
    "ACCOUNTS", "EMULATOR", "HOST", "OAUTH", "OAUTH_RATE", "PLATFORM", "TOKEN_RATE", "WEBHOOKS",
    "contact_writes_in", "message_bounces", "seed_account", "urlpatterns",
]  # fmt: skip

OAUTH = {"exchange_auth": "basic", "refresh_auth": "basic", "pkce": False, "rotates": False}
# Demo contact custom fields (name → Front type).
DEMO_FIELDS = {"interest": "string", "plan": "enum", "Renewal": "datetime", "Seats": "number"}


def seed_account(account) -> None:
    """Demo contact custom fields and contact lists (members follow the `interest` field)."""
    for name, kind in DEMO_FIELDS.items():
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )
    for index, (name, _, attribute, value) in enumerate(DEMO_SEGMENTS, start=1):
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=index,
            defaults={
                "name": name,
                "kind": "contact list",
                "rule_attribute": f"custom_fields__{attribute}" if attribute else "",
                "rule_value": value,
            },
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-company",
        "global",
        {"api_token": "sandbox-front-api-token"},
        "SharpSend Sandbox Company",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-company",
        "global",
        {"api_token": "sandbox-front-readonly-token"},
        "SharpSend Sandbox Company",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/me", me),
    path("<str:host>/contacts", contacts),
    path("<str:host>/contacts/custom_fields", custom_fields),
    path("<str:host>/contacts/<str:contact_id>/conversations", contact_conversations),
    path("<str:host>/contacts/<str:contact_id>", contact),
    path("<str:host>/contact_lists", contact_lists),
    path("<str:host>/contact_lists/<str:list_id>/contacts", contact_list_contacts),
]
