"""End-to-end helpers: subscribers, runs, and one timeline for the clients and the sandbox.

The e2e tests talk to the sandbox over real HTTP (live_server). `e2e_clock` makes them fast
and deterministic without sleeping: the clients' rate limiter and retry backoff sleep on the
fake clock, and the emulators' rate windows read the same fake clock, so both sides see the
same time pass (a client that spaces its calls as the platform asks is not throttled, and a
Retry-After that was waited out is over for the emulator too).
"""

from __future__ import annotations

import dataclasses
import types

import pytest

from audience.models import Subscriber, SubscriberStatus
from integrations.models import SyncRun
from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, emulation, registry, store
from integrations.services import sync

INTERESTS = ("growth", "dividends", "")


@pytest.fixture
def e2e_clock(fake_clock, monkeypatch, settings):
    """The fake clock for clients and emulators alike; fast retries."""
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=fake_clock.now, sleep=fake_clock.sleep)
    )
    settings.PLATFORM_MAX_ATTEMPTS = 3
    settings.PLATFORM_BACKOFF_BASE = 0.01
    settings.PLATFORM_BACKOFF_MAX = 0.05
    settings.PLATFORM_HTTP_TIMEOUT = 15.0
    return fake_clock


@pytest.fixture
def make_subscribers(db):
    """make_subscribers(30, unsubscribed=(7, 19)) → the rows, in id order.

    Subscriber i is reader<i>@example.com, First<i> Reader<i>, with custom attribute
    `interest` cycling through growth, dividends and none.
    """

    def make(count: int = 30, unsubscribed=(7, 19)) -> list[Subscriber]:
        rows = []
        for i in range(count):
            interest = INTERESTS[i % len(INTERESTS)]
            rows.append(
                Subscriber.objects.create(
                    email=f"Reader{i:02d}@Example.com",
                    first_name=f"First{i}",
                    last_name=f"Reader{i}",
                    status=SubscriberStatus.UNSUBSCRIBED
                    if i in unsubscribed
                    else SubscriberStatus.SUBSCRIBED,
                    attributes={"interest": interest} if interest else {},
                )
            )
        return rows

    return make


@pytest.fixture
def run_sync():
    """run_sync(integration) → the finished run (started and executed like the command does)."""

    def run(integration, mode: str = "changed") -> SyncRun:
        started, created = sync.start_sync(integration, "command", mode=mode)
        assert created, "another run was active"
        sync.execute_sync(started.pk)
        started.refresh_from_db()
        integration.refresh_from_db()
        return started

    return run


@pytest.fixture
def small_batches(monkeypatch):
    """small_batches("iterable", 5): the client sends (and checkpoints) 5 records a batch."""

    def shrink(slug: str, size: int) -> None:
        cls = get_platform(slug)
        monkeypatch.setattr(cls, "limits", dataclasses.replace(cls.limits, batch_max_records=size))

    return shrink


@pytest.fixture
def revoke_after_first_write(monkeypatch):
    """arm(platform, **credentials): the sandbox revokes those credentials once it has stored
    its next write (a key revoked in the middle of a sync). Returns a function that restores
    them."""

    def arm(platform: str, **credentials):
        original_accounts_for, original_upsert = accounts.accounts_for, store.upsert

        def revoked(account) -> bool:
            return account.platform == platform and all(
                account.credentials.get(k) == v for k, v in credentials.items()
            )

        def accounts_for_without_revoked(slug: str):
            return [a for a in original_accounts_for(slug) if not revoked(a)]

        def upsert_then_revoke(*args, **kwargs):
            original_upsert(*args, **kwargs)
            monkeypatch.setattr(accounts, "accounts_for", accounts_for_without_revoked)

        def restore() -> None:
            monkeypatch.setattr(accounts, "accounts_for", original_accounts_for)
            monkeypatch.setattr(store, "upsert", original_upsert)

        monkeypatch.setattr(store, "upsert", upsert_then_revoke)
        return restore

    return arm


@pytest.fixture
def base_url(live_server, request):
    """The sandbox URL of the platform the test module is about (its SLUG)."""
    return f"{live_server.url}/sandbox/{request.module.SLUG}"


@pytest.fixture
def integration(make_integration, base_url, e2e_clock, request):
    """The module's platform connected to its sandbox, with the module's MAPPINGS."""
    module = request.module
    return make_integration(
        module.SLUG, base_url=base_url, mappings=getattr(module, "MAPPINGS", None)
    )


@pytest.fixture
def case_integration(case, make_integration, oauth_integration, live_server, e2e_clock):
    """A PlatformCase's platform (tests/e2e/platform_cases.py; the test's `case` parameter)
    connected to its sandbox with the case's mappings."""
    if case.reset:
        case.reset()
    if case.seed:
        registry.seed(case.slug)
    connect = oauth_integration if case.oauth else make_integration
    integration = connect(
        case.slug,
        base_url=f"{live_server.url}/sandbox/{case.slug}",
        mappings=case.integration_mappings(),
        **case.fields,
    )
    yield integration
    if case.reset:
        case.reset()
