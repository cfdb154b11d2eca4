"""Faults: a full sync of N subscribers to the sandbox Customer.io over real HTTP while the
sandbox injects 20 % mixed faults (503, 429, timeouts, connection resets and truncated 200s,
before and after it stored the batch), then re-syncs until nothing is pending. With --kills K,
the q cluster running the sync is killed (SIGKILL, the whole process group) K times at random
moments; after each kill the housekeeping marks the run interrupted and queues its resume,
and a new cluster runs it.

    .venv/bin/python bench/faults.py --subscribers 100000
    .venv/bin/python bench/faults.py --subscribers 100000 --kills 10

Reports the runs and their statuses, lost subscribers (subscribed but not on the emulator),
duplicates on the emulator (one person stored twice), API calls by answer, and seconds.

Each run uses its own SQLite file (under --workdir) and its own web server for the sandbox
(bench/sync_throughput.py seeds it the same way), so the console's database is untouched.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.sync_throughput import INTEGRATION, django_setup, free_port  # noqa: E402

PYTHON = sys.executable
SLUG = "customerio"
# 20 % of requests in all: each fault's share.
FAULTS = {
    "error_rate": 0.04,  # 503
    "throttle_rate": 0.04,  # 429, Retry-After: 1
    "timeout_rate": 0.02,  # held past the client's timeout
    "reset_rate": 0.05,  # closed without an answer
    "truncate_rate": 0.05,  # a 200 with a JSON body cut short
}


def child_configure(timeout_seconds: float) -> None:
    django_setup()
    from integrations.sandbox.emulation import set_faults

    set_faults(SLUG, **FAULTS, fault_phase="either", timeout_seconds=timeout_seconds)


def child_sync(mode: str, batch_records: int) -> None:
    """One sync in this process (batches of `batch_records`); its figures as JSON."""
    django_setup()
    from integrations.models import Integration, SyncTrigger
    from integrations.platforms.registry import get_platform
    from integrations.services import sync

    cls = get_platform(SLUG)
    cls.limits = dataclasses.replace(cls.limits, batch_max_records=batch_records)
    integration = Integration.objects.get(name=INTEGRATION)
    run, _ = sync.start_sync(integration, SyncTrigger.COMMAND, mode=mode)
    sync.execute_sync(run.pk)
    print(json.dumps({"run": run.pk}))


def child_enqueue() -> None:
    django_setup()
    from integrations.models import Integration, SyncMode, SyncTrigger
    from integrations.services.queue import enqueue_sync

    enqueue_sync(Integration.objects.get(name=INTEGRATION), SyncTrigger.COMMAND, SyncMode.FULL)


def child_housekeeping() -> None:
    """What the one-minute housekeeping schedule does, at once."""
    django_setup()
    from integrations.services.queue import look_after_sync_runs

    print(json.dumps(dataclasses.asdict(look_after_sync_runs())))


def child_state() -> None:
    """The active run (status, cursor) and how many sync states are pending, as JSON."""
    django_setup()
    from integrations.models import ACTIVE_SYNC_STATUSES, Integration, SyncStateStatus

    integration = Integration.objects.get(name=INTEGRATION)
    active = integration.sync_runs.filter(status__in=ACTIVE_SYNC_STATUSES).first()
    print(
        json.dumps(
            {
                "active": active.status if active else "",
                "cursor": active.cursor if active else 0,
                "pending": integration.sync_states.filter(status=SyncStateStatus.PENDING).count(),
            }
        )
    )


def child_report() -> None:
    django_setup()
    from django.db.models import Count, Exists, OuterRef
    from django.db.models.fields.json import KT
    from django.db.models.functions import Lower

    from audience.models import Subscriber, SubscriberStatus
    from integrations.models import Integration, SyncState, SyncStateStatus
    from integrations.sandbox.models import SandboxContact

    integration = Integration.objects.get(name=INTEGRATION)
    contacts = SandboxContact.objects.filter(platform=SLUG)
    synced = SyncState.objects.filter(
        integration=integration, subscriber=OuterRef("pk"), status=SyncStateStatus.SYNCED
    )
    stored = set(contacts.values_list("identifier", flat=True))
    subscribed = Subscriber.objects.filter(status=SubscriberStatus.SUBSCRIBED)
    expected = {email.lower() for email in subscribed.values_list("email", flat=True)}
    # The emulator keys people by identifier (unique per account): a person stored twice
    # would be two identifiers for one email (e.g. an id and an email).
    twice = (
        contacts.annotate(address=Lower(KT("attributes__email")))
        .values("address")
        .annotate(rows=Count("id"))
        .filter(rows__gt=1)
    )
    identifiers_twice = (
        contacts.values("account", "identifier").annotate(rows=Count("id")).filter(rows__gt=1)
    )
    calls = integration.api_calls.values("status_code", "ok", "error_kind").annotate(n=Count("id"))
    runs = [
        {
            "pk": r.pk,
            "trigger": r.trigger,
            "mode": r.mode,
            "status": r.status,
            "seen": r.seen,
            "sent": r.created + r.updated,
            "failed": r.failed,
            "unknown": r.unknown,
            "throttled": r.throttled,
            "api_calls": r.api_calls,
        }
        for r in integration.sync_runs.order_by("pk")
    ]
    print(
        json.dumps(
            {
                "subscribed": len(expected),
                "stored": len(stored),
                "lost": len(expected - stored),
                "duplicates": twice.count() + identifiers_twice.count(),
                "pending": integration.sync_states.filter(status=SyncStateStatus.PENDING).count(),
                "never_synced": subscribed.filter(~Exists(synced)).count(),
                "runs": runs,
                "calls": sorted(calls, key=lambda c: (c["status_code"] or 0, c["error_kind"])),
            }
        )
    )


def run_child(env: dict, *args: str) -> dict:
    out = subprocess.run(
        [PYTHON, __file__, *args], env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    lines = out.strip().splitlines()
    return json.loads(lines[-1]) if lines else {}


class Cluster:
    """A q cluster in its own process group, killed whole."""

    def __init__(self, env: dict):
        self.env, self.proc = env, None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [PYTHON, str(ROOT / "manage.py"), "qcluster"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def with_kills(env: dict, db: Path, kills: int, stale: int, rng: random.Random) -> int:
    """A full sync run by the q cluster, killed `kills` times mid-sync; the kills made.

    Each kill comes at a random moment (0–1.5 s) after the run got past the checkpoint where
    the last kill found it, so every resumed run makes some progress before it dies too.
    """
    cluster = Cluster(env)
    run_child(env, "--child", "enqueue")
    cluster.start()
    done, last_cursor = 0, 0  # the first kill too comes past the first checkpoint
    try:
        while done < kills:
            if not wait_for_progress(db, last_cursor):
                break  # the run finished first
            time.sleep(rng.uniform(0.0, 1.5))
            cluster.kill()
            done += 1
            last_cursor = active_run(db)[1]
            time.sleep(stale + 1)  # the killed run's heartbeat goes stale
            run_child(env, "--child", "housekeeping")
            cluster.start()
        while active_run(db)[0]:
            time.sleep(0.5)
    finally:
        cluster.kill()
    return done


def active_run(db: Path) -> tuple[str, int]:
    """(status, cursor) of the active run, read straight from the bench's SQLite file."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=20) as connection:
        row = connection.execute(
            "SELECT status, cursor FROM integrations_syncrun "
            "WHERE status IN ('queued', 'running') ORDER BY id DESC LIMIT 1"
        ).fetchone()
    return (row[0], row[1]) if row else ("", 0)


def wait_for_progress(db: Path, past: int) -> bool:
    """Wait until the active run is running past cursor `past`; False once none is active."""
    while True:
        status, cursor = active_run(db)
        if not status:
            return False
        if status == "running" and cursor > past:
            return True
        time.sleep(0.1)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--kills", type=int, default=0)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench-faults")
    parser.add_argument("--batch-records", type=int, default=500, help="records per request")
    parser.add_argument("--attempts", type=int, default=2, help="PLATFORM_MAX_ATTEMPTS")
    parser.add_argument("--timeout", type=float, default=2.0, help="PLATFORM_HTTP_TIMEOUT")
    parser.add_argument("--max-resyncs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=16, help="seed of the kill moments")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--child-sync", help=argparse.SUPPRESS)
    args, _ = parser.parse_known_args()
    if args.child_sync:
        return child_sync(args.child_sync, args.batch_records)
    if args.child:
        return {
            "configure": lambda: child_configure(args.timeout + 0.5),
            "housekeeping": child_housekeeping,
            "state": child_state,
            "report": child_report,
            "enqueue": child_enqueue,
        }[args.child]()

    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"faults-{args.subscribers}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/sandbox"
    stale = 15
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SANDBOX_BASE_URL": base_url,
        "DEBUG": "false",
        "SANDBOX_ENABLED": "true",
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-not-a-secret-key-0123456789abcdef"),
        "SALT_KEY": os.environ.get("SALT_KEY", "bench-salt"),
        "PLATFORM_HTTP_TIMEOUT": str(args.timeout),
        "PLATFORM_MAX_ATTEMPTS": str(args.attempts),
        "SYNC_STALE_AFTER_SECONDS": str(stale),
        "Q_WORKERS": "1",
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    seeder = ROOT / "bench" / "sync_throughput.py"
    subprocess.run(
        [PYTHON, str(seeder), "--subscribers", str(args.subscribers), "--seed-only", base_url],
        env=env,
        check=True,
    )
    run_child(env, "--child", "configure", "--timeout", str(args.timeout))
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    started = time.perf_counter()
    kills = 0
    try:
        subprocess.run(
            [*manage, "wait_for_http", f"http://127.0.0.1:{port}/admin/login/"], env=env, check=True
        )
        started = time.perf_counter()
        batch = ("--batch-records", str(args.batch_records))
        if args.kills:
            kills = with_kills(env, db, args.kills, stale, random.Random(args.seed))
        else:
            run_child(env, "--child-sync", "full", *batch)
        resyncs = 0
        while run_child(env, "--child", "state")["pending"] and resyncs < args.max_resyncs:
            run_child(env, "--child-sync", "changed", *batch)
            resyncs += 1
        seconds = time.perf_counter() - started
        report = run_child(env, "--child", "report")
    finally:
        server.terminate()
        server.wait()
    print_report(args, report, seconds, kills)


def print_report(args, report: dict, seconds: float, kills: int) -> None:
    names = {"error_rate": "503", "throttle_rate": "429"}
    shares = ", ".join(
        f"{names.get(k, k.removesuffix('_rate'))} {v:.0%}" for k, v in FAULTS.items()
    )
    print(
        f"subscribers: {args.subscribers:,}; faults: {shares} (resets and truncations half "
        f"before, half after the batch is stored); {args.attempts} attempts a request, "
        f"{args.batch_records} records a request, client timeout {args.timeout} s"
    )
    if args.kills:
        print(
            f"kill -9 of the q cluster: {kills} of {args.kills} asked (the cluster's runs send "
            "the platform's own batches: 2,000 records for Customer.io)"
        )
    print(f"runs: {len(report['runs'])}")
    for run in report["runs"]:
        print(
            f"  #{run['pk']} {run['trigger']}/{run['mode']}: {run['status']}, seen "
            f"{run['seen']:,}, sent {run['sent']:,}, failed {run['failed']:,} (unknown "
            f"{run['unknown']:,}, throttled {run['throttled']:,}), {run['api_calls']} API calls"
        )
    print(
        f"subscribed: {report['subscribed']:,}; on the emulator: {report['stored']:,}; "
        f"lost: {report['lost']:,}; duplicates on the emulator: {report['duplicates']}; "
        f"pending: {report['pending']}; not synced: {report['never_synced']}"
    )
    total = sum(c["n"] for c in report["calls"])
    answers = "; ".join(
        f"{c['status_code'] or 'no answer'} {'ok' if c['ok'] else c['error_kind']}: {c['n']}"
        for c in report["calls"]
    )
    print(f"API calls: {total} ({answers})")
    print(f"seconds: {seconds:.1f} (from the first sync to the last)")


if __name__ == "__main__":
    main()
