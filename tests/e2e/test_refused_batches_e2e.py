"""A run whose every batch is refused whole (an endpoint answering 404) fails fast and honestly."""

from __future__ import annotations

import types

import pytest

from integrations.models import ApiCall, IntegrationStatus, SyncStateStatus, SyncStatus
from integrations.sandbox import emulation
from tests.e2e.support import sync_states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "customerio"


@pytest.mark.parametrize("status", [404, 400])
def test_batches_all_refused_whole_stop_the_run_and_flag_the_integration(
    integration, make_subscribers, run_sync, small_batches, settings, status
):
    settings.SYNC_MAX_CONSECUTIVE_BATCH_FAILURES = 3
    make_subscribers(60, unsubscribed=())
    small_batches(SLUG, 2)  # 30 batches if nothing stopped the run
    emulation.set_faults(SLUG, error_rate=1.0, error_status=status)

    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert "Stopped after 3 batches in a row were refused whole by Customer.io" in run.error
    assert "settings (endpoint, list or account)" in run.error
    assert ApiCall.objects.filter(integration=integration, status_code=status).count() == 3
    assert run.seen == 6 and run.failed == 6
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "refused whole" in integration.last_error
    # Nothing is lost: every record sent stays pending, and the run after the fix sends all.
    assert set(sync_states(integration).values()) == {SyncStateStatus.PENDING}
    emulation.set_faults(SLUG, error_rate=0.0)
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED and after.created == 60


def test_batches_refused_whole_between_good_ones_do_not_stop_the_run(
    integration, make_subscribers, run_sync, small_batches, settings, monkeypatch
):
    settings.SYNC_MAX_CONSECUTIVE_BATCH_FAILURES = 2
    make_subscribers(10, unsubscribed=())
    small_batches(SLUG, 2)
    draws = iter([0.0, 0.99] * 10)  # every other request is answered 400
    monkeypatch.setattr(emulation, "random", types.SimpleNamespace(random=lambda: next(draws)))
    emulation.set_faults(SLUG, error_rate=0.5, error_status=400)
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL, run.error
    assert (run.created, run.failed) == (4, 6)
