"""Crisp emulator: plugin connect, website, people profiles / data / subscription, suggestions.

Served as /sandbox/crisp/api.crisp.chat/v1/…. Plugin tokens authenticate with HTTP Basic
(identifier:key) plus `X-Crisp-Tier: plugin`; each token works only on the websites that
installed its plugin. The daily plugin quota is enforced (429, no Retry-After, as Crisp).
"""

from __future__ import annotations

import uuid

from django.urls import path

from integrations.sandbox import accounts, store
from integrations.sandbox.crisp.auth import EMULATOR, HOST, PLATFORM, QUOTA, plugin_account, website
from integrations.sandbox.crisp.contacts import (
    create_profile,
    people_data,
    profile,
    profiles,
    subscription,
    suggest_data,
)
from integrations.sandbox.crisp.segments import suggest_segments
from integrations.sandbox.crisp.webhooks import WEBHOOKS

__all__ = [
    "ACCOUNTS", "EMULATOR", "HOST", "PLATFORM", "QUOTA", "WEBHOOKS", "seed_account", "urlpatterns",
]  # fmt: skip


DEMO_PROFILES = (
    ("demo-growth@sandbox.example", "Gail Growth", ["growth investors"], {"interest": "growth"}),
    ("demo-income@sandbox.example", "Ivan Income", ["dividend income"], {"interest": "dividends"}),
)


def seed_account(account) -> None:
    """Two demo profiles, so the website has segments and data keys to suggest."""
    changes = {}
    for email, nickname, segments, data in DEMO_PROFILES:
        people_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"crisp:{account.account}:{email}"))
        changes[email] = {
            "people_id": people_id,
            "email": email,
            "person": {"nickname": nickname},
            "segments": segments,
            "data": data,
            "subscribed": True,
        }
    known = store.existing(PLATFORM, account.account, changes)
    store.upsert(PLATFORM, account.account, changes, known)


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-website-1",
        "global",
        {
            "identifier": "sandbox-crisp-plugin-identifier",
            "key": "sandbox-crisp-plugin-key",
            "website_id": "sbx-website-1",
        },
        "SharpSend Sandbox Website",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sbx-website-1",
        "global",
        {
            "identifier": "sandbox-crisp-readonly-identifier",
            "key": "sandbox-crisp-readonly-key",
            "website_id": "sbx-website-1",
        },
        "SharpSend Sandbox Website",
        read_only=True,
    ),
)

_W = "<str:host>/v1/website/<str:website_id>"
urlpatterns = [
    path("<str:host>/v1/plugin/connect/account", plugin_account),
    path(f"{_W}", website),
    path(f"{_W}/people/profiles/<int:page>", profiles),
    path(f"{_W}/people/profile", create_profile),
    path(f"{_W}/people/profile/<str:people_id>", profile),
    path(f"{_W}/people/data/<str:people_id>", people_data),
    path(f"{_W}/people/subscription/<str:people_id>", subscription),
    path(f"{_W}/people/suggest/segments/<int:page>", suggest_segments),
    path(f"{_W}/people/suggest/data/<int:page>", suggest_data),
]
