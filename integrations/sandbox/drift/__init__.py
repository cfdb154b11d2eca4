"""Drift emulator: token info with the grant's scopes, contact attributes, contacts looked up by
email, created and patched — behind the sandbox's OAuth server (client id and secret in the
form body for both the code exchange and refreshes; refresh tokens treated as rotating).

Served as /sandbox/drift/driftapi.com/…. Each sandbox account has the scopes its grant froze:
a call outside them answers 403. Drift publishes no rate limit; the emulator answers 429
(without Retry-After, which Drift does not document) past 12 calls a second, a little above the
client's own pace. Contacts are stored under their numeric id with Drift's attributes; email is
not unique, as in Drift, but creating a second contact with a known email is refused. Contact
changes are posted to the webhooks made on the app's Events page (drift/webhooks.py).
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts
from integrations.sandbox.drift.auth import EMULATOR, HOST, PLATFORM, RATE, SCOPES, token_info
from integrations.sandbox.drift.contacts import attributes, contact, contacts, visitor_identifies
from integrations.sandbox.drift.webhooks import WEBHOOKS
from integrations.sandbox.models import SandboxFieldType

__all__ = [
    "ACCOUNTS",
    "EMULATOR",
    "HOST",
    "OAUTH",
    "PLATFORM",
    "RATE",
    "SCOPES",
    "WEBHOOKS",
    "seed_account",
    "urlpatterns",
    "visitor_identifies",
]

OAUTH = {
    "exchange_auth": "body",
    "refresh_auth": "body",
    "pkce": False,
    "rotates": True,
    "extra": {"orgId": 2100001},
}


def seed_account(account) -> None:
    """Demo custom attributes (Drift has no segments or lists)."""
    for name, kind in (("plan", "STRING"), ("signup_date", "DATETIME")):
        SandboxFieldType.objects.update_or_create(
            platform=PLATFORM, account=account.account, name=name, defaults={"type": kind}
        )


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM, "sandbox-drift-org", "global", {}, "SharpSend demo Drift org"
    ),
    accounts.SandboxAccount(
        PLATFORM, "sandbox-drift-basic", "global", {}, "Drift org without all_contact_read"
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-drift-readonly",
        "global",
        {},
        "Drift org granted contact_read only",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/app/token_info", token_info),
    path("<str:host>/contacts/attributes", attributes),
    path("<str:host>/contacts", contacts),
    path("<str:host>/contacts/<int:contact_id>", contact),
]
