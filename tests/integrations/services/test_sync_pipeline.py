"""A sync's batches pipelined, one in flight (services/sync_pipeline.py): the next chunk is read
and the previous one recorded while a batch is at the platform, and yet the checkpoint only
covers batches the platform answered. Over real HTTP against the sandbox Customer.io."""

from __future__ import annotations

import dataclasses
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from audience.models import Subscriber
from integrations import metering, ratelimit
from integrations.models import ApiCall, SyncMode, SyncRun, SyncStatus, SyncTrigger
from integrations.platforms.customerio import CustomerIoClient
from integrations.sandbox.models import SandboxContact
from integrations.services import sync
from integrations.services.sync_pipeline import PipelineClosed, SendPipeline

pytestmark = pytest.mark.django_db(transaction=True)


class WorkerDied(BaseException):
    """Stands for the process being killed: nothing in the service may catch it."""


@pytest.fixture
def audience():
    return Subscriber.objects.bulk_create(
        Subscriber(email=f"reader{i:03}@example.com", first_name=f"R{i}") for i in range(30)
    )


@pytest.fixture
def small_batches(monkeypatch):
    """Customer.io in chunks of 10, so 30 readers make three batches."""
    limits = dataclasses.replace(CustomerIoClient.limits, batch_max_records=10)
    monkeypatch.setattr(CustomerIoClient, "limits", limits)


@pytest.fixture
def cio(make_integration, sandbox_url):
    return make_integration("customerio", base_url=f"{sandbox_url}/customerio")


@pytest.fixture
def events(monkeypatch):
    """What happened, in order: ("sent", n) / ("answered", n) for batch n from the thread that
    sends it, ("recorded", cursor) when a chunk's checkpoint is written."""
    log: list[tuple[str, int]] = []
    real_upsert, real_record = CustomerIoClient.upsert_contacts, sync._Runner._record
    batches = {"n": 0}

    def upsert(self, records, update_existing):
        batches["n"] += 1
        number = batches["n"]
        log.append(("sent", number))
        results = real_upsert(self, records, update_existing)
        log.append(("answered", number))
        return results

    def record(self, chunk, results, last_id, calls=None):
        real_record(self, chunk, results, last_id, calls)
        log.append(("recorded", last_id))

    monkeypatch.setattr(CustomerIoClient, "upsert_contacts", upsert)
    monkeypatch.setattr(sync._Runner, "_record", record)
    return log


def run_full(integration) -> SyncRun:
    run, created = sync.start_sync(integration, SyncTrigger.COMMAND, mode=SyncMode.FULL)
    assert created
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    return run


def test_the_next_batch_goes_out_before_the_last_is_recorded_but_never_before_its_answer(
    cio, audience, small_batches, events
):
    run = run_full(cio)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.seen, run.created, run.api_calls) == (30, 30, 3)
    ids = [s.id for s in Subscriber.objects.order_by("id")]
    tenth, twentieth, last = ids[9], ids[19], ids[29]
    assert events == [
        ("sent", 1),
        ("answered", 1),
        ("sent", 2),  # on its way while batch 1 is recorded
        ("recorded", tenth),
        ("answered", 2),
        ("sent", 3),
        ("recorded", twentieth),
        ("answered", 3),
        ("recorded", last),
    ]
    assert SandboxContact.objects.filter(platform="customerio").count() == 30


def test_the_sending_thread_leaves_the_database_to_the_run(
    cio, audience, small_batches, monkeypatch
):
    """The rate limiter and the meter run on the run's own thread, whichever thread sends."""
    threads = []
    real_acquire, real_record_call = ratelimit.acquire, metering.record_call
    sending_threads = set()
    real_upsert = CustomerIoClient.upsert_contacts

    def upsert(self, records, update_existing):
        sending_threads.add(threading.get_ident())
        return real_upsert(self, records, update_existing)

    def acquire(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_acquire(*args, **kwargs)

    def record_call(*args, **kwargs):
        threads.append(threading.get_ident())
        return real_record_call(*args, **kwargs)

    monkeypatch.setattr(CustomerIoClient, "upsert_contacts", upsert)
    monkeypatch.setattr(ratelimit, "acquire", acquire)
    monkeypatch.setattr(metering, "record_call", record_call)
    run = run_full(cio)
    assert run.status == SyncStatus.SUCCEEDED
    assert sending_threads and threading.get_ident() not in sending_threads
    assert len(threads) == 6  # three slots taken and three calls metered …
    assert set(threads) == {threading.get_ident()}  # … all on the test's (the run's) thread
    assert ApiCall.objects.filter(integration=cio, feature="sync").count() == 3


def test_a_death_while_the_next_chunk_is_read_ahead_keeps_the_checkpoint_at_the_answered_batch(
    cio, audience, small_batches, monkeypatch
):
    """Batch 2 dies at the platform while chunk 3 has been read and mapped: the run's cursor
    and counts are batch 1's, and the resumed run sends batches 2 and 3, each reader once."""
    real_upsert = CustomerIoClient.upsert_contacts
    calls = {"n": 0}
    sent = []

    def dies_on_second_batch(self, records, update_existing):
        calls["n"] += 1
        if calls["n"] == 2:
            raise WorkerDied()
        sent.extend(r.identifier for r in records)
        return real_upsert(self, records, update_existing)

    monkeypatch.setattr(CustomerIoClient, "upsert_contacts", dies_on_second_batch)
    crashed, _ = sync.start_sync(cio, SyncTrigger.SCHEDULE, mode=SyncMode.FULL)
    with pytest.raises(WorkerDied):
        sync.execute_sync(crashed.pk)
    crashed.refresh_from_db()
    ids = [s.id for s in Subscriber.objects.order_by("id")]
    # Chunk 3 was read and mapped before batch 2's answer, yet nothing of it is counted.
    assert (crashed.cursor, crashed.seen, crashed.created) == (ids[9], 10, 10)
    SyncRun.objects.filter(pk=crashed.pk).update(heartbeat_at=None, status=SyncStatus.INTERRUPTED)
    resumed, created = sync.start_sync(cio, SyncTrigger.MANUAL)
    assert created and resumed.cursor == ids[9]
    sync.execute_sync(resumed.pk)
    resumed.refresh_from_db()
    assert (resumed.status, resumed.seen, resumed.created) == (SyncStatus.SUCCEEDED, 20, 20)
    assert sorted(sent) == sorted(f"reader{i:03}@example.com" for i in range(30))


def test_a_refused_key_stops_the_run_before_another_batch_goes_out(
    cio, audience, small_batches, events
):
    cio.credentials = {**cio.credentials, "track_api_key": "wrong-key-not-a-secret"}
    cio.save()
    run = run_full(cio)
    assert run.status == SyncStatus.FAILED
    assert [e for e in events if e[0] == "sent"] == [("sent", 1)]
    assert run.api_calls == 1 and run.cursor == Subscriber.objects.order_by("id")[9].id
    assert not SandboxContact.objects.filter(platform="customerio").exists()


class _Client:
    """Just what a pipeline touches on a client."""

    def __init__(self, runtime):
        self.runtime, self.job_listener, self._tokens = runtime, None, None


class _Runtime:
    def __init__(self):
        self.threads = []

    def acquire(self, key, rate, max_wait, *, priority=False):
        self.threads.append(threading.get_ident())
        if key == "refused":
            raise ValueError("no slot")
        return 0.0

    def record_call(self, integration, **call):
        self.threads.append(threading.get_ident())


def test_a_pipeline_hands_the_helpers_calls_and_their_errors_to_the_run_thread():
    runtime = _Runtime()
    client = _Client(runtime)
    pipeline = SendPipeline(client)
    relayed = client.runtime
    assert relayed is not runtime

    def send(key):
        relayed.acquire(key, None, None)
        relayed.record_call(None, path="/x")
        return key

    assert pipeline.result(pipeline.submit(lambda: send("ok"))) == "ok"
    with pytest.raises(ValueError, match="no slot"):  # raised on the run's thread, then there
        pipeline.result(pipeline.submit(lambda: send("refused")))
    assert set(runtime.threads) == {threading.get_ident()} and len(runtime.threads) == 3
    pipeline.close()
    assert client.runtime is runtime  # the client is given back as it was
    with pytest.raises(PipelineClosed):  # a late call from another thread fails, never hangs
        with ThreadPoolExecutor(1) as late:
            late.submit(lambda: pipeline.relay(runtime.record_call, None)).result(timeout=5)


def test_a_pipeline_takes_one_batch_at_a_time():
    client = _Client(_Runtime())
    pipeline = SendPipeline(client)
    gate = threading.Event()
    relayed = client.runtime

    def send():
        relayed.acquire("ok", None, None)  # the slot: from here the request is on its way
        return gate.wait(timeout=5)

    first = pipeline.submit(send)  # returns while the send is still waiting
    with pytest.raises(RuntimeError, match="already in flight"):
        pipeline.submit(lambda: None)
    gate.set()
    assert pipeline.result(first) is True
    pipeline.close()


def test_a_page_reads_what_django_would_convert(cio, audience):
    """Dates, times, attributes and the state's flag are read as text / integers and decoded
    by the sync itself: the same values Django's own converters give."""
    from django.db.models import FilteredRelation, Q
    from django.utils import timezone

    from integrations.models import SyncState
    from integrations.services.mapping import compile_mapper

    Subscriber.objects.filter(email="reader001@example.com").update(
        attributes={"plan": "pro", "seats": 3}, last_opened_at=timezone.now()
    )
    first = Subscriber.objects.order_by("id").first()
    SyncState.objects.create(
        integration=cio, subscriber=first, payload_hash="x", status="synced",
        last_outcome="created", ever_synced=True,
    )  # fmt: skip
    columns = (*compile_mapper(cio).columns, "attributes", "last_opened_at")
    columns = tuple(dict.fromkeys(columns))
    runner = sync._Runner(SyncRun(integration=cio, mode=SyncMode.FULL))
    rows = runner._rows(columns, 0, 100)
    expected = list(
        Subscriber.objects.order_by("id")
        .annotate(state=FilteredRelation("sync_states", condition=Q(sync_states__integration=cio)))
        .values_list(*columns, "state__payload_hash", "state__status", "state__ever_synced")
    )
    assert len(rows) == 30
    for row, want in zip(rows, expected, strict=True):
        *values, flag = row
        *wanted, wanted_flag = want
        assert values == wanted
        assert bool(flag) is bool(wanted_flag)
    assert rows[0][-1] == 1 and rows[1][-1] is None
    assert rows[1][columns.index("attributes")] == {"plan": "pro", "seats": 3}
    assert rows[1][columns.index("last_opened_at")].tzinfo is not None


def test_a_reader_suppressed_while_their_chunk_waits_to_be_sent_is_not_sent(
    cio, audience, small_batches, monkeypatch
):
    """Chunk 2 is read while batch 1 is at the platform; a deletion request for one of its
    readers arrives before chunk 2 goes out: that reader is never sent."""
    from audience.suppression import suppress

    real_prepare = sync._Runner._prepare
    prepared = {"n": 0}

    def prepare(self, rows, mapper):
        chunk = real_prepare(self, rows, mapper)
        prepared["n"] += 1
        if prepared["n"] == 2:  # chunk 2, read ahead while batch 1 is in flight
            assert "reader015@example.com" in {r.identifier for r in chunk.to_send}
            suppress("reader015@example.com")
        return chunk

    monkeypatch.setattr(sync._Runner, "_prepare", prepare)
    run = run_full(cio)
    assert run.status == SyncStatus.SUCCEEDED
    assert (run.seen, run.created, run.excluded) == (29, 29, 1)
    stored = set(SandboxContact.objects.values_list("identifier", flat=True))
    assert len(stored) == 29 and "reader015@example.com" not in stored
