"""Iterable emulator: lists and their sizes (static lists created and filled through the API
keep their members), user fields, users/bulkUpdate.

Served as /sandbox/iterable/<real host>/api/…, so the two data centers stay distinct.
"""

from __future__ import annotations

from django.urls import path

from integrations.sandbox import accounts
from integrations.sandbox.iterable.auth import EMULATOR, HOSTS, PLATFORM
from integrations.sandbox.iterable.contacts import bulk_update, get_fields
from integrations.sandbox.iterable.lists import subscribe, unsubscribe
from integrations.sandbox.iterable.privacy import get_by_email, user_by_email, user_by_id
from integrations.sandbox.iterable.segments import list_size, lists

__all__ = ["ACCOUNTS", "EMULATOR", "HOSTS", "PLATFORM", "seed_account", "urlpatterns"]


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
    path("<str:host>/api/lists/subscribe", subscribe),
    path("<str:host>/api/lists/unsubscribe", unsubscribe),
    path("<str:host>/api/users/getFields", get_fields),
    path("<str:host>/api/users/bulkUpdate", bulk_update),
    path("<str:host>/api/users/getByEmail", get_by_email),
    path("<str:host>/api/users/byUserId/<str:user_id>", user_by_id),
    path("<str:host>/api/users/<str:email>", user_by_email),
]
