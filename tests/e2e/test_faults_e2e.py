"""Faults of the connection, seen by the real client over real HTTP: a request held past the
client's timeout, a connection closed without an answer, a 200 whose JSON body is cut short,
before the sandbox stored the batch and after. Each is retried; nothing is lost, nothing is
stored twice, and a cut-short 200 is never counted as written."""

from __future__ import annotations

import random

import pytest
import requests

from integrations.models import ApiCall, SyncStateStatus, SyncStatus
from integrations.sandbox import emulation
from integrations.sandbox.models import SandboxContact
from tests.e2e.support import stored_contacts, sync_states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "customerio"
ACCOUNT = "sandbox-site-us"
COUNT = 20


@pytest.fixture
def short_timeouts(e2e_clock, settings):
    """The client waits 0.3 s for an answer; a timed-out request is held 0.6 s."""
    settings.PLATFORM_HTTP_TIMEOUT = 0.3
    return settings


@pytest.fixture
def fault_header(monkeypatch):
    """fault_header("reset:after", times=1): the next `times` batch writes carry
    X-Sandbox-Fault with that value (the client never sends it itself)."""
    original = requests.Session.send

    def arm(value: str, times: int = 1):
        remaining = {"left": times}

        def send(session, prepared, **kwargs):
            if "/api/v2/batch" in prepared.url and remaining["left"] > 0:
                remaining["left"] -= 1
                prepared.headers[emulation.FAULT_HEADER] = value
            return original(session, prepared, **kwargs)

        monkeypatch.setattr(requests.Session, "send", send)

    return arm


def batch_calls(integration):
    return ApiCall.objects.filter(integration=integration, path="/api/v2/batch").order_by("pk")


def assert_nothing_lost(integration, run):
    contacts = stored_contacts(SLUG, ACCOUNT)
    assert len(contacts) == COUNT
    assert {c["email"] for c in contacts.values()} == {
        f"reader{i:02d}@example.com" for i in range(COUNT)
    }
    assert SandboxContact.objects.filter(platform=SLUG).count() == COUNT  # none twice
    assert set(sync_states(integration).values()) == {SyncStateStatus.SYNCED}
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert (run.seen, run.created + run.updated, run.failed) == (COUNT, COUNT, 0)


@pytest.mark.parametrize(
    ("fault", "status", "stored_first"),
    [
        ("timeout", None, False),
        ("timeout:after", None, True),
        ("reset", None, False),
        ("reset:after", None, True),
        ("truncate", 200, False),
        ("truncate:after", 200, True),
        ("503", 503, False),
        ("429", 429, False),
    ],
)
def test_a_fault_on_one_batch_is_retried_and_nothing_is_lost(
    integration,
    make_subscribers,
    run_sync,
    small_batches,
    short_timeouts,
    fault_header,
    fault,
    status,
    stored_first,
):
    make_subscribers(COUNT, unsubscribed=())
    small_batches(SLUG, 5)
    emulation.set_faults(SLUG, timeout_seconds=0.6)
    fault_header(fault)
    run = run_sync(integration)
    assert_nothing_lost(integration, run)
    calls = list(batch_calls(integration))
    assert len(calls) == 5  # four batches, the first one sent twice
    first, retry = calls[0], calls[1]
    kind = "rate_limited" if fault == "429" else "transient"
    assert (first.status_code, first.ok, first.error_kind) == (status, False, kind)
    assert retry.ok and retry.status_code == 200
    assert run.api_calls >= 5


def test_requests_sees_each_fault_as_it_happens_in_the_real_world(live_server, short_timeouts):
    """What requests itself reports, without the client's retries: a read timeout, a closed
    connection, and a 200 whose body does not decode."""
    url = f"{live_server.url}/sandbox/{SLUG}/track.customer.io/api/v2/batch"
    auth = ("sandbox-site-us", "sandbox-track-key-us")
    body = b'{"batch": []}'
    emulation.set_faults(SLUG, timeout_seconds=0.6)

    def post(fault: str = ""):
        headers = {emulation.FAULT_HEADER: fault} if fault else {}
        return requests.post(url, data=body, auth=auth, headers=headers, timeout=0.3)

    assert post().status_code == 200
    with pytest.raises(requests.Timeout):
        post("timeout")
    for phase in ("reset", "reset:after"):
        with pytest.raises(requests.ConnectionError):
            post(phase)
    cut = post("truncate")
    assert (cut.status_code, cut.headers["Content-Type"]) == (200, "application/json")
    with pytest.raises(ValueError):
        cut.json()
    assert post("503").status_code == 503
    assert post("429").status_code == 429
    assert post("nonsense").status_code == 200  # an unknown fault is no fault


def test_a_cut_short_200_is_not_counted_as_written(
    integration, make_subscribers, run_sync, small_batches, short_timeouts, fault_header, settings
):
    # Every attempt of the first batch is cut short before it is stored: that batch fails
    # (unknown outcome, pending), the others are written; the next run sends it again.
    settings.PLATFORM_MAX_ATTEMPTS = 2
    make_subscribers(COUNT, unsubscribed=())
    small_batches(SLUG, 5)
    fault_header("truncate", times=2)
    run = run_sync(integration)
    assert run.status == SyncStatus.PARTIAL
    assert (run.created + run.updated, run.failed) == (COUNT - 5, 5)
    assert len(stored_contacts(SLUG, ACCOUNT)) == COUNT - 5
    pending = [s for s in sync_states(integration).values() if s == SyncStateStatus.PENDING]
    assert len(pending) == 5
    record = run.records.filter(outcome="unknown").first()
    assert record is not None and "cut short" in record.message
    after = run_sync(integration)
    assert after.status == SyncStatus.SUCCEEDED
    assert len(stored_contacts(SLUG, ACCOUNT)) == COUNT
    assert set(sync_states(integration).values()) == {SyncStateStatus.SYNCED}


def test_mixed_configured_faults_lose_nothing_and_store_nothing_twice(
    integration, make_subscribers, run_sync, small_batches, short_timeouts, monkeypatch
):
    monkeypatch.setattr(emulation, "random", random.Random(16))
    make_subscribers(COUNT, unsubscribed=())
    small_batches(SLUG, 2)
    emulation.set_faults(
        SLUG,
        error_rate=0.1,
        reset_rate=0.15,
        truncate_rate=0.15,
        timeout_rate=0.05,
        timeout_seconds=0.6,
        fault_phase="either",
    )
    runs = [run_sync(integration)]
    while runs[-1].status != SyncStatus.SUCCEEDED and len(runs) < 6:
        runs.append(run_sync(integration))
    assert runs[-1].status == SyncStatus.SUCCEEDED
    for run in runs:  # honest: a run with failed records is not a success
        assert (run.status == SyncStatus.SUCCEEDED) == (run.failed == 0), run.status
    contacts = stored_contacts(SLUG, ACCOUNT)
    assert len(contacts) == COUNT
    assert SandboxContact.objects.filter(platform=SLUG).count() == COUNT
    assert set(sync_states(integration).values()) == {SyncStateStatus.SYNCED}
    failed = batch_calls(integration).filter(ok=False)
    assert failed.filter(status_code=None).exists()  # resets / timeouts happened
    assert failed.filter(status_code=200).exists()  # truncations happened
