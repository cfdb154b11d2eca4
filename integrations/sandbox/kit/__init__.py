"""Kit (API v4) emulator: account, custom fields, subscribers (upsert, lookup, unsubscribe),
tags with counts, segments, and the OAuth-only bulk endpoint refusing API keys.

Served as /sandbox/kit/api.kit.com/v4/…. Subscribers are SandboxContact rows keyed by
lower-cased email; their attributes are Kit's subscriber object (id = the row's pk).
"""

from __future__ import annotations

from django.urls import path
from django.views.decorators.http import require_GET

from integrations.sandbox import accounts
from integrations.sandbox.emulation import json_response
from integrations.sandbox.kit import broadcasts, webhooks
from integrations.sandbox.kit.auth import EMULATOR, HOSTS, PLATFORM, RATE, endpoint
from integrations.sandbox.kit.broadcasts import deliver_scheduled
from integrations.sandbox.kit.contacts import (
    bulk_subscribers,
    custom_fields,
    subscriber,
    subscribers,
    unsubscribe,
)
from integrations.sandbox.kit.segments import segments, subscriber_tags, tag_subscribers, tags
from integrations.sandbox.models import SandboxFieldType, SandboxSegment

__all__ = [
    "ACCOUNTS", "EMULATOR", "deliver_scheduled", "HOSTS", "PLATFORM", "RATE", "WEBHOOKS", "seed_account", "urlpatterns",
]  # fmt: skip

# How its webhook endpoints post (integrations/sandbox/outbound.py).
WEBHOOKS = webhooks.WEBHOOKS

# The demo account's custom fields: key → label.
DEMO_FIELDS = {"last_name": "Last name", "interest": "Interest", "plan": "Plan"}


@require_GET
@endpoint
def account_view(request, account):
    return json_response(
        {
            "user": {"email": "creator@example.com"},
            "account": {
                "id": 5,
                "name": account.name,
                "plan_type": "creator",
                "primary_email_address": "creator@example.com",
                "created_at": "2023-02-17T11:43:55Z",
            },
        }
    )


def seed_account(account) -> None:
    """Custom fields, two tags (by interest) and one segment (everyone)."""
    for key, label in DEMO_FIELDS.items():
        SandboxFieldType.objects.get_or_create(
            platform=PLATFORM, account=account.account, name=key, defaults={"type": label}
        )
    demo = (
        (1, "Growth Investors", "tag", "fields__interest", "growth"),
        (2, "Dividend Income", "tag", "fields__interest", "dividends"),
        (3, "All readers", "segment", "", ""),
    )
    for remote_id, name, kind, attribute, value in demo:
        SandboxSegment.objects.update_or_create(
            platform=PLATFORM,
            account=account.account,
            remote_id=remote_id,
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
        "sandbox-kit-creator",
        "global",
        {"api_key": "sandbox-kit-v4-api-key"},
        "SharpSend demo creator",
    ),
)

urlpatterns = [
    path("<str:host>/v4/broadcasts", broadcasts.broadcasts),
    path("<str:host>/v4/broadcasts/<int:broadcast_id>", broadcasts.broadcast),
    path("<str:host>/v4/broadcasts/<int:broadcast_id>/stats", broadcasts.stats),
    path("<str:host>/v4/account", account_view),
    path("<str:host>/v4/custom_fields", custom_fields),
    path("<str:host>/v4/subscribers", subscribers),
    path("<str:host>/v4/subscribers/<int:subscriber_id>", subscriber),
    path("<str:host>/v4/subscribers/<int:subscriber_id>/tags", subscriber_tags),
    path("<str:host>/v4/subscribers/<int:subscriber_id>/unsubscribe", unsubscribe),
    path("<str:host>/v4/tags", tags),
    path("<str:host>/v4/tags/<int:tag_id>/subscribers", tag_subscribers),
    path("<str:host>/v4/segments", segments),
    path("<str:host>/v4/bulk/subscribers", bulk_subscribers),
    path("<str:host>/v4/webhook_endpoints", webhooks.webhook_endpoints),
    path("<str:host>/v4/webhook_endpoints/<int:endpoint_id>", webhooks.webhook_endpoint),
]
