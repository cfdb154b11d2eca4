"""Keap emulator: REST v2 contacts (upsert by email with duplicate_option), the contact model's
custom fields, email opt-in status, tags with their contacts (created, applied and removed
through the API for SharpSend's segment pushes), userinfo — behind the sandbox's
OAuth server (code exchange with the client in the form body, refresh with Basic, rotating
refresh tokens).

Served as /sandbox/keap/<api.keap.com | api.infusionsoft.com>/crm/rest/v2/…. Every answer
carries Keap's quota headers; past 1,500 calls a minute (or 150,000 a day) it answers 429
"Quota Exceeded" without Retry-After, as Keap does.

Contacts are stored under their numeric id (email is not unique in Keap). Their attributes
hold the standard properties at the top level, `email` (EMAIL1), `email_status` (the address's
opt-in state), `phone`, and custom field values under the field's `field_name`. Arrays sent in
a write replace what the contact had (Keap's replace-all rule): custom fields not sent are
cleared. Tags are SandboxSegments whose members follow a custom field's value.

The package: this declaration (OAuth, accounts, demo data, routes, userinfo), `auth` (the gate,
quotas and their headers), `state` (contacts, fields and tags as stored), `contacts` (the
contact model, upsert, one contact, opt-in status), `segments` (tags), `emails` (the app's
users, emails sent to contacts and their records with opens and clicks) and `webhooks` (v1 REST
Hooks, their verification handshake, and what they post).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts, emulation
from integrations.sandbox.emulation import json_response
from integrations.sandbox.keap import contacts, emails, segments, webhooks
from integrations.sandbox.keap.auth import (
    DAILY,
    EMULATOR,
    HOSTS,
    PLATFORM,
    THROTTLE,
    THROTTLED_BODY,
    gated,
)
from integrations.sandbox.keap.contacts import set_email_status
from integrations.sandbox.keap.state import (
    ADMINS,
    CUSTOM_FIELDS,
    GLOBAL_USER_ID,
    MARKETABLE,
    MAX_LENGTHS,
    MAX_PAGE,
    REOPTABLE,
    REQUEST_PROPERTIES,
    owner_email,
)
from integrations.sandbox.models import SandboxFieldType

__all__ = [
    "ACCOUNTS",
    "ADMINS",
    "CUSTOM_FIELDS",
    "DAILY",
    "EMULATOR",
    "HOSTS",
    "MARKETABLE",
    "MAX_LENGTHS",
    "MAX_PAGE",
    "OAUTH",
    "PLATFORM",
    "REOPTABLE",
    "REQUEST_PROPERTIES",
    "THROTTLE",
    "THROTTLED_BODY",
    "WEBHOOKS",
    "seed_account",
    "set_email_status",
    "urlpatterns",
]

OAUTH = {
    "exchange_auth": "body",
    "refresh_auth": "basic",
    "pkce": False,
    "rotates": True,
    "scope": "full|sandbox123.infusionsoft.com",
}


# --- the user --------------------------------------------------------------------------------------


@require_GET
@gated
def userinfo(request, account):
    return json_response(
        {
            "email": owner_email(account.account),
            "sub": "12345",
            "id": GLOBAL_USER_ID,
            "keap_id": owner_email(account.account),
            "given_name": "Sandbox",
            "family_name": "Owner",
            "is_admin": ADMINS.get(account.account, True),
            "tenant_id": account.account,
        }
    )


# --- accounts and demo data -----------------------------------------------------------------------


def seed_account(account) -> None:
    """Demo custom fields and tags (members follow the `interest` custom field)."""
    for name, (_, _, kind) in CUSTOM_FIELDS.items():
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )
    emulation.seed_segments(PLATFORM, account.account, kinds=("Interest tag", "Newsletter tag"))


ACCOUNTS = (
    accounts.SandboxAccount(PLATFORM, "sandbox-keap-app", "global", {}, "SharpSend demo Keap app"),
    accounts.SandboxAccount(
        PLATFORM, "sandbox-keap-staff", "global", {}, "SharpSend demo Keap app (non-admin user)"
    ),
)

# How its REST Hooks post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS
_V2 = "<str:host>/crm/rest/v2"
_V1 = "<str:host>/crm/rest/v1"
urlpatterns = [
    path(f"{_V1}/hooks/event_keys", webhooks.event_keys),
    path(f"{_V1}/hooks", webhooks.hooks),
    path(f"{_V1}/hooks/<str:key>/verify", webhooks.verify_hook),
    path(f"{_V2}/oauth/connect/userinfo", userinfo),
    path(f"{_V2}/contacts/model", contacts.contact_model),
    path(f"{_V2}/contacts", contacts.contacts),
    path(f"{_V2}/contacts/<str:contact_id>", contacts.contact),
    path(f"{_V2}/contacts/<str:contact_id>/tags", contacts.contact_tags),
    path(f"{_V2}/tags", segments.tags),
    path(f"{_V2}/tags/<int:tag_id>/contacts", segments.tag_contacts),
    path(f"{_V2}/tags/<int:tag_id>/contacts:applyTags", segments.apply_tags),
    path(f"{_V2}/tags/<int:tag_id>/contacts:removeTags", segments.remove_tags),
    path(f"{_V2}/emailAddresses/<str:email>/status", contacts.email_status),
    path(f"{_V2}/users", emails.users),
    path(f"{_V2}/emails:send", emails.send_email),
    path(f"{_V2}/emails", emails.sent_emails),
]
