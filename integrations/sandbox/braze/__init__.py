"""Braze emulator: /users/track, custom attributes, segments and their sizes, user delete/export,
API-triggered campaigns and Canvases (campaigns.py: the workspace's own, fixed).

Served as /sandbox/braze/<instance REST host>/<real path>, so instances stay distinct: a key
used on another instance's host is answered 401, as Braze does. Keys carry permissions; an
endpoint the key may not use answers 403 "Access Denied". Users identified by email are stored
under the lower-cased address, users identified by external id as `external_id:<id>`. A stored
contact marked `suppressed` stands for an identifier Braze blocks ("blacklisted and
disallowed"): its objects come back as minor errors and nothing is written.
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts, emulation
from integrations.sandbox.braze import schedules
from integrations.sandbox.braze.auth import EMULATOR, HOSTS, PLATFORM, RATES
from integrations.sandbox.braze.campaigns import (
    CAMPAIGNS,
    CANVASES,
    campaigns_list,
    campaigns_trigger_send,
    canvas_list,
    canvas_trigger_send,
    send_id_create,
)
from integrations.sandbox.braze.contacts import (
    custom_attributes,
    email_status,
    users_delete,
    users_export_ids,
    users_track,
)
from integrations.sandbox.braze.schedules import deliver_scheduled
from integrations.sandbox.braze.segments import segment_id, segments_data_series, segments_list
from integrations.sandbox.braze.webhooks import WEBHOOKS

__all__ = [
    "deliver_scheduled",
    "ACCOUNTS", "CAMPAIGNS", "CANVASES", "EMULATOR", "HOSTS", "PLATFORM", "RATES", "WEBHOOKS",
    "seed_account", "segment_id", "urlpatterns",
]  # fmt: skip


def seed_account(account) -> None:
    """Demo segments for one emulated workspace (filter-based, analytics tracking on)."""
    emulation.seed_segments(PLATFORM, account.account, kinds=("filter", "filter"))


ACCOUNTS = (
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-us",
        "us-01",
        {"api_key": "sandbox-braze-rest-key-us01"},
        "SharpSend demo workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-eu",
        "eu-01",
        {"api_key": "sandbox-braze-rest-key-eu01"},
        "SharpSend EU workspace",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-mau-workspace",
        "us-03",
        {"api_key": "sandbox-braze-rest-key-mau", "objects_per_request": "50"},
        "SharpSend workspace on a MAU contract",
        purpose="A workspace on a Monthly Active Users contract (instance US-03): it takes at "
        "most 50 objects a request, so enter Objects per request 50; without it every batch "
        "is refused with “Max Input Length Exceeded”.",
    ),
    accounts.SandboxAccount(
        PLATFORM,
        "sandbox-braze-workspace-us",
        "us-01",
        {"api_key": "sandbox-braze-restricted-key-us01"},
        "SharpSend demo workspace",
        read_only=True,
    ),
)

urlpatterns = [
    path("<str:host>/users/track", users_track),
    path("<str:host>/users/delete", users_delete),
    path("<str:host>/users/export/ids", users_export_ids),
    path("<str:host>/email/status", email_status),
    path("<str:host>/custom_attributes", custom_attributes),
    path("<str:host>/segments/list", segments_list),
    path("<str:host>/segments/data_series", segments_data_series),
    path("<str:host>/campaigns/list", campaigns_list),
    path("<str:host>/canvas/list", canvas_list),
    path("<str:host>/sends/id/create", send_id_create),
    path("<str:host>/campaigns/trigger/send", campaigns_trigger_send),
    path("<str:host>/canvas/trigger/send", canvas_trigger_send),
    path("<str:host>/campaigns/trigger/schedule/create", schedules.campaigns_schedule_create),
    path("<str:host>/campaigns/trigger/schedule/delete", schedules.campaigns_schedule_delete),
    path("<str:host>/canvas/trigger/schedule/create", schedules.canvas_schedule_create),
    path("<str:host>/canvas/trigger/schedule/delete", schedules.canvas_schedule_delete),
]
