"""Sync throughput: a full sync of N subscribers to the sandbox Customer.io over real HTTP, then
an unchanged re-sync, then a re-sync after 1 % of the subscribers changed. Prints records/s,
API calls and the sync process's peak RSS for each.

The seeded audience is dated a day back (an audience exists before it is synced), so the
re-syncs read what changed since the full sync, as they would in use.

    .venv/bin/python bench/sync_throughput.py --subscribers 100000

Each run uses its own SQLite file (under --workdir) and its own web server for the sandbox, so
the console's database is untouched. Each sync runs in a child process, so its peak RSS is its
own (os.wait4), not the seeding's.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import resource
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
INTEGRATION = "Customer.io (bench)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fresh_database(workdir: str, name: str) -> Path:
    """A new SQLite file for one bench run under `workdir` (any earlier one removed)."""
    folder = Path(workdir)
    folder.mkdir(parents=True, exist_ok=True)
    db = folder / f"{name}.sqlite3"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    return db


def bench_env(db: Path, base_url: str) -> dict:
    """The environment of a bench's processes: its own database, the sandbox at `base_url`."""
    return {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{db}",
        "SANDBOX_BASE_URL": base_url,
        "DEBUG": "false",
        "SANDBOX_ENABLED": "true",  # off unless DEBUG otherwise
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-not-a-secret-key-0123456789abcdef"),
        "SALT_KEY": os.environ.get("SALT_KEY", "bench-salt"),
    }


def migrated_bench(workdir: str, name: str) -> tuple[dict, int, str]:
    """A fresh, migrated bench database and a free port for its sandbox: (env, port, base URL)."""
    db = fresh_database(workdir, name)
    port = free_port()
    base_url = f"http://127.0.0.1:{port}/sandbox"
    env = bench_env(db, base_url)
    subprocess.run(
        [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"], env=env, check=True
    )
    return env, port, base_url


@contextlib.contextmanager
def sandbox_server(env: dict, port: int, threads: bool = False):
    """A web server serving the sandbox on `port` for the block, stopped after it.

    One thread unless `threads`: an emulator that calls the console back while it answers
    (Campaign Monitor fetching a send's content) needs a second one.
    """
    manage = [PYTHON, str(ROOT / "manage.py")]
    threading = [] if threads else ["--nothreading"]
    server = subprocess.Popen(
        [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", *threading],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        subprocess.run(
            [*manage, "wait_for_http", f"http://127.0.0.1:{port}/admin/login/"], env=env, check=True
        )
        yield server
    finally:
        server.terminate()
        server.wait()


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharpsend.settings")
    import django

    django.setup()


def seed(count: int, base_url: str) -> None:
    """Subscribers 1..count and the bench integration (demo mappings of the sandbox)."""
    django_setup()
    from django.utils import timezone

    from audience.demo import create_demo_audience
    from audience.models import Subscriber
    from integrations.models import FieldMapping, Integration
    from integrations.platforms.registry import get_platform
    from integrations.sandbox.accounts import demo_account

    create_demo_audience(count, batch_size=10_000)
    account = demo_account("customerio")
    integration, _ = Integration.objects.update_or_create(
        name=INTEGRATION,
        defaults={
            "platform": "customerio",
            "api_base_url": f"{base_url}/customerio",
            "region": account.region,
            "credentials": dict(account.credentials),
        },
    )
    integration.field_mappings.all().delete()
    FieldMapping.objects.bulk_create(
        FieldMapping(integration=integration, source=s, target=t, transform=tr, is_identifier=i)
        for s, t, tr, i in get_platform("customerio").suggested_mappings
    )
    FieldMapping.objects.create(
        integration=integration, source="attributes.interest", target="interest"
    )
    FieldMapping.objects.create(integration=integration, source="attributes.plan", target="plan")
    Subscriber.objects.update(updated_at=timezone.now() - timedelta(days=1))


def touch(percent: float) -> int:
    """Change the first name of every (100 / percent)th subscriber, as an import would (not
    the ids the demo audience makes unsubscribed)."""
    django_setup()
    from django.db.models import F, Value
    from django.db.models.functions import Concat
    from django.utils import timezone

    from audience.models import Subscriber

    step = round(100 / percent)
    changed = Subscriber.objects.annotate(m=F("id") % step).filter(m=step // 2)
    return changed.update(first_name=Concat("first_name", Value("!")), updated_at=timezone.now())


def _time_waits_for_answers() -> list[float]:
    """[seconds] the sync's own thread spends blocked waiting for the platform's answers:
    in the pipeline's wait for a batch in flight, or (a tree without the pipeline) in the HTTP
    call itself. What is left of the sync's time is the console's own work."""
    import threading

    import requests.adapters

    waited = [0.0]
    main = threading.main_thread()
    try:
        from integrations.services.sync_pipeline import SendPipeline as owner

        name = "result"
    except ImportError:
        owner, name = requests.adapters.HTTPAdapter, "send"
    real = getattr(owner, name)

    def timed(*args, **kwargs):
        if threading.current_thread() is not main:
            return real(*args, **kwargs)
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            waited[0] += time.perf_counter() - started

    setattr(owner, name, timed)
    return waited


def child_sync(mode: str, profile: str = "") -> None:
    """Run one sync in this process and print its figures as JSON.

    With `profile`, the sync's own thread is profiled by CPU time (time.thread_time), not wall
    time: on a shared machine a wall-clock profile charges other processes' turns to whatever
    function was running. A send in flight on the pipeline's thread is not in it.
    """
    django_setup()
    from integrations.models import Integration, SyncTrigger
    from integrations.services import sync

    integration = Integration.objects.get(name=INTEGRATION)
    waited = _time_waits_for_answers()
    profiler = cProfile.Profile(time.thread_time) if profile else None
    cpu_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    if profiler:
        profiler.enable()
    run, _ = sync.start_sync(integration, SyncTrigger.COMMAND, mode=mode)
    sync.execute_sync(run.pk)
    if profiler:
        profiler.disable()
        profiler.dump_stats(profile)
    elapsed = time.perf_counter() - started
    cpu_after = resource.getrusage(resource.RUSAGE_SELF)
    run.refresh_from_db()
    print(
        json.dumps(
            {
                "status": run.status,
                "error": run.error,
                "seen": run.seen,
                "sent": run.created + run.updated,
                "unchanged": run.unchanged,
                "failed": run.failed,
                "api_calls": run.api_calls,
                "seconds": elapsed,
                "waited_s": waited[0],
                # CPU of the sync alone (all its threads), without the process's start-up
                "sync_cpu_s": (cpu_after.ru_utime - cpu_before.ru_utime)
                + (cpu_after.ru_stime - cpu_before.ru_stime),
            }
        )
    )


def process_cpu(pid: int) -> float:
    """User + system CPU seconds a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(env: dict, mode: str, profile: str = "", server=None) -> dict:
    command = [PYTHON, __file__, "--child-sync", mode]
    if profile:  # the console's side only: the sandbox runs in the server process
        command += ["--profile", profile]
    server_before = process_cpu(server.pid) if server else 0.0
    load = os.getloadavg()[0]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    figures["cpu_s"] = usage.ru_utime + usage.ru_stime  # the sync process's own CPU time
    figures["sandbox_cpu_s"] = process_cpu(server.pid) - server_before if server else 0.0
    figures["load"] = load
    figures["records_per_s"] = figures["seen"] / figures["seconds"] if figures["seconds"] else 0
    own = figures["seconds"] - figures["waited_s"]
    figures["console_records_per_s"] = figures["seen"] / own if own > 0 else 0
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench")
    parser.add_argument(
        "--profile",
        metavar="FILE",
        default="",
        help="cProfile the full sync (its own thread, by CPU time) into FILE",
    )
    parser.add_argument(
        "--sandbox-db",
        choices=["own", "shared"],
        default="own",
        help="the sandbox server's database: its own SQLite file (default), or the console's "
        "(the figures before 2026-12-04)",
    )
    parser.add_argument("--child-sync", choices=["full", "changed"], help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--touch-only", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.touch_only:
        print(touch(args.touch_only))
        return
    if args.child_sync:
        child_sync(args.child_sync, args.profile)
        return
    if args.seed_only:
        seed(args.subscribers, args.seed_only)
        return

    env, port, base_url = migrated_bench(args.workdir, f"bench-{args.subscribers}")
    server_env = env
    if args.sandbox_db == "own":
        # The sandbox stands for a platform elsewhere: in the console's SQLite file its writes
        # and the console's took turns on the file's one write lock (SQLite's busy waits sleep
        # in steps of up to 100 ms), which no platform does to the console.
        server_env = bench_env(
            fresh_database(args.workdir, f"sandbox-{args.subscribers}"), base_url
        )
        subprocess.run(
            [PYTHON, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            env=server_env,
            check=True,
        )
    t0 = time.perf_counter()
    subprocess.run(
        [PYTHON, __file__, "--subscribers", str(args.subscribers), "--seed-only", base_url],
        env=env,
        check=True,
    )
    seeding = time.perf_counter() - t0
    with sandbox_server(server_env, port) as server:
        full = measure(env, "full", args.profile, server)
        unchanged = measure(env, "changed", server=server)
        subprocess.run([PYTHON, __file__, "--touch-only", "1"], env=env, check=True)
        one_percent = measure(env, "changed", server=server)
    print(f"subscribers: {args.subscribers:,} (seeded in {seeding:.1f} s)")
    runs = (("full sync", full), ("unchanged re-sync", unchanged), ("1 % changed", one_percent))
    for name, f in runs:
        print(
            f"{name:>18}: {f['status']}, {f['seen']:,} records in {f['seconds']:.2f} s = "
            f"{f['records_per_s']:,.0f} records/s; sent {f['sent']:,}, unchanged "
            f"{f['unchanged']:,}, failed {f['failed']:,}; {f['api_calls']} API calls; "
            f"peak RSS {f['peak_rss_mb']:.0f} MB"
        )
        print(
            f"{'':>18}  waiting for answers {f['waited_s']:.2f} s: the console's own side "
            f"{f['seconds'] - f['waited_s']:.2f} s = {f['console_records_per_s']:,.0f} records/s"
        )
        print(
            f"{'':>18}  CPU: the sync {f['sync_cpu_s']:.2f} s (its process with start-up "
            f"{f['cpu_s']:.2f} s), sandbox server "
            f"{f['sandbox_cpu_s']:.2f} s; load average at start {f['load']:.2f}"
        )
        if f["error"]:
            print(f"{'':>18}  error: {f['error']}")


if __name__ == "__main__":
    main()
