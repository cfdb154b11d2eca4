"""Several workers on the production parts: gunicorn (3 workers) and two q clusters, one
PostgreSQL, one Redis (issue 16, item 8).

Skipped unless SCALE_TEST=1, the database is PostgreSQL and REDIS_URL is set (`.ci/run` runs
it after the PostgreSQL + Redis suite). Everything runs in real processes against the test
database pytest-django created:

- gunicorn with 3 worker processes serves the console, sandbox emulators included;
- two `manage.py qcluster` processes (3 workers each) take tasks from one Redis queue. A
  cluster takes tasks ahead of its free workers: with fewer workers than runs, a run can wait
  there behind the others while the other cluster idles, and the pair would not overlap.

The audience is 50,000 subscribers, seeded in bulk. Three integrations sync at once:

- Customer.io, a full sync of all 50,000 (25 batches of 2,000: the big one);
- two Kit integrations on the same sandbox API key. Kit takes one request a subscriber and
  counts 120 a minute per API key, so 50,000 would take seven hours: the pair has synced the
  audience before (a complete changed-only run of each, with its snapshot, is on record) and
  60 subscribers changed since, so each Kit run sends those 60 (+ one custom-field listing).
  Together that is 122 calls on one budget: over a minute's worth, about a minute if the two
  share the budget as Kit counts it, half that if each had its own (then 240 a minute).

Each run is enqueued from two threads at the same moment (two enqueues of one integration:
the database's one-active-run constraint lets one create a run), and each run's task is
delivered twice (as an at-least-once broker or the housekeeping re-queue may): the two clusters
may both pick it up, only one may run it.

Checked at the end: every run succeeded (none lost, stuck or interrupted) and no second run was
created; every task finished; every subscriber is in sync with each integration (no failed
record) and was sent in exactly the calls expected (no batch or request sent twice); the
emulator holds every Customer.io person, each written exactly once (its row was never updated
after it was created), and every changed Kit subscriber was created by one Kit integration and
updated by the other; 0 x 429; the two Kit runs overlapped, and yet no 59 s of the shared
key's calls hold more than 120 of them. The Kit emulator counts its window in each gunicorn
worker's memory, so with 3 workers it would let through more than Kit would: the spacing of
the calls (from the console's API call records) is what shows the limit was kept, not the
absence of 429s alone.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django.utils import timezone

from audience.models import Subscriber, SubscriberStatus
from integrations.models import (
    ApiCall,
    Integration,
    SyncMode,
    SyncRecord,
    SyncRun,
    SyncState,
    SyncStateStatus,
    SyncStatus,
    SyncTrigger,
)
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxContact
from integrations.services import changes, queue
from sharpsend.supervisor import Supervisor, wait_for_http
from tests.processes import free_port, process_env

ROOT = Path(__file__).resolve().parents[2]
AUDIENCE = 50_000
KIT_CHANGED = 60
KIT_RATE = (120, 60.0)  # Kit: requests per minute per API key
WAIT_SECONDS = 240

pytestmark = [
    pytest.mark.scale,
    pytest.mark.skipif(os.environ.get("SCALE_TEST") != "1", reason="set SCALE_TEST=1"),
    pytest.mark.skipif(
        settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
        reason="several workers need PostgreSQL (DATABASE_URL=postgres://…)",
    ),
    pytest.mark.skipif(not settings.REDIS_URL, reason="several workers need Redis (REDIS_URL)"),
    pytest.mark.django_db(transaction=True),
]


def _seed_audience() -> list[int]:
    """50,000 subscribed readers dated a day back; the last KIT_CHANGED changed just now."""
    Subscriber.objects.bulk_create(
        (
            Subscriber(
                email=f"reader{i:05d}@example.com",
                first_name=f"First{i}",
                last_name=f"Reader{i}",
                status=SubscriberStatus.SUBSCRIBED,
                attributes={"interest": ("growth", "dividends")[i % 2]},
            )
            for i in range(AUDIENCE)
        ),
        batch_size=5_000,
    )
    Subscriber.objects.update(updated_at=timezone.now() - timedelta(days=1))
    changed = list(Subscriber.objects.order_by("-id").values_list("id", flat=True)[:KIT_CHANGED])
    Subscriber.objects.filter(id__in=changed).update(
        first_name="Changed", updated_at=timezone.now()
    )
    return sorted(changed)


def _synced_before(integration: Integration) -> SyncRun:
    """The record of a complete changed-only run an hour ago, as one would leave it."""
    earlier = timezone.now() - timedelta(hours=1)
    return SyncRun.objects.create(
        integration=integration,
        trigger=SyncTrigger.SCHEDULE,
        mode=SyncMode.CHANGED,
        status=SyncStatus.SUCCEEDED,
        mapping_digest=changes.mapping_digest(integration),
        snapshot_at=earlier,
        started_at=earlier,
        finished_at=earlier,
    )


def _enqueue_twice_at_once(integrations: list[Integration]) -> list[tuple[SyncRun, bool]]:
    """Two threads (two database connections) enqueue every integration's sync together."""
    barrier = threading.Barrier(2 * len(integrations))
    answers: list[tuple[SyncRun, bool]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def enqueue(integration: Integration) -> None:
        try:
            barrier.wait(timeout=30)
            answer = queue.enqueue_sync(integration, SyncTrigger.MANUAL)
            with lock:
                answers.append(answer)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=enqueue, args=(integration,))
        for integration in integrations
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return answers


def _tail(path: Path, lines: int = 40) -> str:
    return (
        "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""
    )


def test_two_clusters_and_three_web_workers_lose_nothing(make_integration, tmp_path):
    from django_q.brokers import get_broker
    from django_q.models import Task
    from django_q.tasks import async_task

    started = time.monotonic()
    port = free_port()
    sandbox = f"http://127.0.0.1:{port}/sandbox"
    kit_subscribers = _seed_audience()
    registry.seed("kit")  # Kit's custom fields (last_name is one)
    customerio = make_integration(
        "customerio", base_url=f"{sandbox}/customerio", name="Customer.io (50k)"
    )
    kits = [make_integration("kit", base_url=f"{sandbox}/kit", name=f"Kit {n}") for n in ("A", "B")]
    assert kits[0].client().rate_scope() == kits[1].client().rate_scope()
    earlier = {kit.pk: _synced_before(kit).pk for kit in kits}
    seeded_in = time.monotonic() - started

    get_broker().purge_queue()  # tasks left from an earlier run name rows of another database
    env = process_env(SANDBOX_BASE_URL=sandbox, SANDBOX_ENABLED="true", Q_WORKERS="3")
    logs = {name: tmp_path / f"{name}.log" for name in ("web", "cluster-1", "cluster-2")}
    supervisor = Supervisor(stop_timeout=15, log=print)
    commands = {
        "web": [
            sys.executable,
            "-m",
            "gunicorn",
            "sharpsend.wsgi:application",
            "--workers=3",
            f"--bind=127.0.0.1:{port}",
            "--timeout=120",
        ],
        "cluster-1": [sys.executable, str(ROOT / "manage.py"), "qcluster"],
        "cluster-2": [sys.executable, str(ROOT / "manage.py"), "qcluster"],
    }
    files = []
    try:
        for name, command in commands.items():
            files.append(logs[name].open("w"))
            supervisor.children[name] = subprocess.Popen(
                command,
                env=env,
                cwd=ROOT,
                stdout=files[-1],
                stderr=files[-1],
                start_new_session=True,
            )
            if name == "web":
                assert wait_for_http(f"http://127.0.0.1:{port}/admin/login/", 60), _tail(
                    logs["web"]
                )

        everyone = [customerio, *kits]
        answers = _enqueue_twice_at_once(everyone)
        created = [run for run, made in answers if made]
        assert sorted(run.integration_id for run in created) == sorted(i.pk for i in everyone)
        assert sorted(run.pk for run, _ in answers) == sorted(2 * [run.pk for run in created])
        for run in created:  # the task of every run delivered a second time
            async_task("integrations.tasks.run_sync", run.pk, group=f"sync-{run.integration_id}")

        deadline = time.monotonic() + WAIT_SECONDS
        runs = SyncRun.objects.filter(pk__in=[run.pk for run in created])
        while time.monotonic() < deadline:
            exited = [n for n, child in supervisor.children.items() if child.poll() is not None]
            assert not exited, f"{exited} stopped:\n" + "\n".join(_tail(logs[n]) for n in exited)
            finished = not runs.filter(status__in=(SyncStatus.QUEUED, SyncStatus.RUNNING)).exists()
            if finished and Task.objects.filter(func="integrations.tasks.run_sync").count() == 6:
                break
            time.sleep(1)  # polling the database for the clusters' progress
        elapsed = time.monotonic() - started
    finally:
        supervisor.stop()
        for file in files:
            file.close()

    runs = {run.integration_id: run for run in runs}
    report = {i.name: (runs[i.pk].status, runs[i.pk].error) for i in everyone}
    assert all(run.status == SyncStatus.SUCCEEDED for run in runs.values()), (
        report,
        _tail(logs["cluster-1"]),
        _tail(logs["cluster-2"]),
    )
    # No run lost, stuck or created twice: one new run per integration, besides Kit's earlier.
    for integration in everyone:
        assert set(integration.sync_runs.values_list("pk", flat=True)) == {
            runs[integration.pk].pk,
            *([earlier[integration.pk]] if integration.pk in earlier else []),
        }
    tasks = Task.objects.filter(func="integrations.tasks.run_sync")
    assert tasks.count() == 6 and all(task.success for task in tasks), [t.result for t in tasks]

    big = runs[customerio.pk]
    assert (big.total, big.seen, big.created + big.updated, big.failed) == (
        AUDIENCE,
        AUDIENCE,
        AUDIENCE,
        0,
    )
    for kit in kits:
        run = runs[kit.pk]
        assert (run.total, run.seen, run.created + run.updated, run.failed, run.throttled) == (
            KIT_CHANGED,
            KIT_CHANGED,
            KIT_CHANGED,
            0,
            0,
        )
    # Every subscriber in sync with each integration, and every request sent once: 25
    # batches to Customer.io, one call a changed subscriber to Kit for each of the pair.
    for integration, expected in ((customerio, AUDIENCE), *((kit, KIT_CHANGED) for kit in kits)):
        states = SyncState.objects.filter(integration=integration)
        assert states.count() == states.filter(status=SyncStateStatus.SYNCED).count() == expected
        assert not SyncRecord.objects.filter(run=runs[integration.pk]).exists()  # no failure
    for kit in kits:
        synced = SyncState.objects.filter(integration=kit).values_list("subscriber_id", flat=True)
        assert sorted(synced) == kit_subscribers
    big_batches = AUDIENCE // customerio.client().limits.batch_max_records
    writes = ApiCall.objects.filter(method="POST")
    assert writes.filter(integration=customerio).count() == big_batches
    for kit in kits:
        assert writes.filter(integration=kit, path="/v4/subscribers").count() == KIT_CHANGED

    # The emulator: every Customer.io person, each written once (never updated after it was
    # created); each changed Kit subscriber created by one of the pair and updated by the
    # other (Kit answers 201 and 200), none more often.
    people = SandboxContact.objects.filter(
        platform="customerio", account=accounts.demo_account("customerio").account
    )
    assert people.count() == AUDIENCE
    rewritten = [c for c in people.values_list("created_at", "updated_at") if c[0] != c[1]]
    assert rewritten == []
    kit_account = accounts.demo_account("kit").account
    assert SandboxContact.objects.filter(platform="kit", account=kit_account).count() == (
        KIT_CHANGED
    )
    answers = Counter(
        writes.filter(integration__in=kits, path="/v4/subscribers").values_list(
            "status_code", flat=True
        )
    )
    assert answers == {201: KIT_CHANGED, 200: KIT_CHANGED}

    # The shared key's budget: no 429, and never more than 120 calls in 59 s (a second for
    # the time between taking a slot and sending), though the pair ran at the same time.
    assert ApiCall.objects.filter(status_code=429).count() == 0
    a, b = (runs[kit.pk] for kit in kits)
    assert a.started_at < b.finished_at and b.started_at < a.finished_at, "they overlapped"
    kit_calls = ApiCall.objects.filter(integration__in=kits)
    sent_at = sorted(
        at.timestamp() - latency / 1000 for at, latency in kit_calls.values_list("at", "latency_ms")
    )
    count, per = KIT_RATE
    # The sends, and a custom-field listing before them (the cache may share one listing).
    assert 2 * KIT_CHANGED < len(sent_at) <= 2 * (KIT_CHANGED + 1) and len(sent_at) > count
    closest = min(sent_at[i + count] - sent_at[i] for i in range(len(sent_at) - count))
    assert closest >= per - 1.0, f"{count + 1} calls within {closest:.1f} s"
    print(
        f"\nscale: {elapsed:.0f} s in all (seeding {seeded_in:.0f} s); Customer.io "
        f"{AUDIENCE} in {big.duration_text}, {big_batches} batches; Kit pair "
        f"{len(sent_at)} calls over {sent_at[-1] - sent_at[0]:.1f} s ({a.duration_text}, "
        f"{b.duration_text}), closest {count + 1} calls {closest:.1f} s apart; 0 x 429"
    )
