"""Putting integration work on the django-q2 queue (after the current transaction commits)."""

from __future__ import annotations

from django.db import transaction
from django_q.tasks import async_task

from integrations.models import Integration, SyncMode, SyncRun
from integrations.platforms.types import Capability
from integrations.services.sync import start_sync


def enqueue(func: str, *args, **kwargs) -> None:
    """Queue `func(*args)` once the current transaction has committed."""
    transaction.on_commit(lambda: async_task(func, *args, **kwargs))


def enqueue_sync(
    integration: Integration, trigger: str, mode: str = SyncMode.CHANGED, dry_run: bool = False
) -> tuple[SyncRun, bool]:
    """Create a queued run and queue its task; (the active run, False) if one is under way."""
    run, created = start_sync(integration, trigger, mode=mode, dry_run=dry_run)
    if created:
        enqueue("integrations.tasks.run_sync", run.pk, group=f"sync-{integration.pk}")
    return run, created


def enqueue_test_connection(integration: Integration) -> None:
    enqueue("integrations.tasks.test_connection", integration.pk)


def enqueue_import_segments(integration: Integration) -> None:
    """Queue a segment import; UnsupportedCapability (with the reason) where there is none."""
    platform = integration.platform_class
    if not platform.supports(Capability.LIST_SEGMENTS):
        raise platform.unsupported(Capability.LIST_SEGMENTS)
    enqueue("integrations.tasks.import_segments", integration.pk)
