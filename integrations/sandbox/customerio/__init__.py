"""Customer.io emulator: the Track API (region, v2 batch, manual segment membership) and the App
API (workspaces, segments, manual segments created empty, API-triggered broadcasts, one
person's attributes, segments and messages).

Served as /sandbox/customerio/<real host>/<real path>, so regions stay distinct.
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts
from integrations.sandbox.customerio import people
from integrations.sandbox.customerio.account import region, workspaces
from integrations.sandbox.customerio.auth import APP, APP_HOSTS, PLATFORM, TRACK, TRACK_HOSTS
from integrations.sandbox.customerio.broadcasts import broadcast_metrics, broadcasts, trigger
from integrations.sandbox.customerio.contacts import batch
from integrations.sandbox.customerio.manual import add_customers, remove_customers
from integrations.sandbox.customerio.segments import (
    segment_customer_count,
    segment_membership,
    segments,
)
from integrations.sandbox.customerio.webhooks import (
    WEBHOOKS,
    reporting_webhook,
    reporting_webhooks,
)

__all__ = [
    "ACCOUNTS",
    "APP",
    "APP_HOSTS",
    "PLATFORM",
    "TRACK",
    "TRACK_HOSTS",
    "WEBHOOKS",
    "seed_account",
    "urlpatterns",
]


def seed_account(account) -> None:
    """Demo segments for one emulated workspace."""
    from integrations.sandbox.emulation import seed_segments

    seed_segments(PLATFORM, account.account, kinds=("dynamic", "manual"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-site-us",
        "us",
        {
            "site_id": "sandbox-site-us",
            "track_api_key": "sandbox-track-key-us",
            "app_api_key": "sandbox-app-key-us",
        },
        "SharpSend demo workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-site-eu",
        "eu",
        {
            "site_id": "sandbox-site-eu",
            "track_api_key": "sandbox-track-key-eu",
            "app_api_key": "sandbox-app-key-eu",
        },
        "SharpSend EU workspace",
    ),
)

urlpatterns = [
    path("<str:host>/api/v1/accounts/region", region),
    path("<str:host>/api/v2/batch", batch),
    path("<str:host>/v1/workspaces", workspaces),
    path("<str:host>/v1/segments", segments),
    path("<str:host>/v1/customers/<str:customer_id>/attributes", people.attributes),
    path("<str:host>/v1/customers/<str:customer_id>/segments", people.segments),
    path("<str:host>/v1/customers/<str:customer_id>/messages", people.messages),
    path("<str:host>/v1/segments/<int:segment_id>/customer_count", segment_customer_count),
    path("<str:host>/v1/segments/<int:segment_id>/membership", segment_membership),
    path("<str:host>/v1/broadcasts", broadcasts),
    path("<str:host>/v1/broadcasts/<int:broadcast_id>/metrics", broadcast_metrics),
    path("<str:host>/v1/campaigns/<int:broadcast_id>/triggers", trigger),
    path("<str:host>/api/v1/segments/<int:segment_id>/add_customers", add_customers),
    path("<str:host>/api/v1/segments/<int:segment_id>/remove_customers", remove_customers),
    path("<str:host>/v1/reporting_webhooks", reporting_webhooks),
    path("<str:host>/v1/reporting_webhooks/<int:webhook_id>", reporting_webhook),
]
