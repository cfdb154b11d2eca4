"""The webhook receiver at load: signed events posted by concurrent senders (processes) to
gunicorn (several worker processes) and processed by a q cluster beside it, on SQLite, or on
PostgreSQL + Redis when DATABASE_URL and REDIS_URL are set. Prints the events accepted per
second, the p50/p99 latency of the answers, how long the processing took to catch up, and what
was lost: every accepted event must end as one WebhookEvent processed once and one
EngagementEvent, and the redeliveries mixed in must add nothing. And the CPU seconds per 1,000
events of each part (the stable figure on a shared machine), with the rate 2 free cores would
give at that cost.

    .venv/bin/python bench/webhooks.py --events 6000 --senders 8 --workers 4
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sharpsend_bench_webhooks \\
        REDIS_URL=redis://127.0.0.1:6379/13 .venv/bin/python bench/webhooks.py --events 6000

The events are Customer.io reporting webhooks (one event a request, signed HMAC-SHA256 by the
sandbox's signer as Customer.io signs them), so events/s is requests/s. `--redeliver` posts
that share of them a second time, byte for byte, as a platform's retry does. SQLite runs on its
own file under --workdir (like the other benches); a PostgreSQL database given is flushed first.
The senders sign their events before the clock starts and post them over plain sockets, so
that they take little of the cores the server is measured on.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_throughput import (  # noqa: E402
    PYTHON,
    ROOT,
    bench_env,
    django_setup,
    free_port,
    migrated_bench,
)

INTEGRATION = "Customer.io (webhook bench)"
SECRET = "bench-webhook-signing-key-not-a-secret"
TARGETS = {"events_per_s": 1000, "p99_ms": 50, "lost": 0}


# --- set-up (child processes with Django) ------------------------------------------------------


def seed(readers: int) -> None:
    """The readers and the integration; prints its webhook path (JSON)."""
    django_setup()
    from django_q.brokers import get_broker

    from audience.models import Subscriber
    from integrations.models import Integration
    from integrations.services.webhooks import webhook_path

    get_broker().purge_queue()  # tasks of an earlier run name rows of another database
    Subscriber.objects.bulk_create(
        (Subscriber(email=f"bench-reader-{i}@example.com") for i in range(readers)),
        batch_size=5000,
    )
    integration = Integration.objects.create(
        name=INTEGRATION,
        platform="customerio",
        region="us",
        credentials={
            "site_id": "bench-site",
            "track_api_key": "bench-track-key",
            "app_api_key": "bench-app-key",
            "webhook_signing_key": SECRET,
        },
    )
    print(json.dumps({"path": webhook_path(integration)}))


def with_conn_max_age(url: str, seconds: int) -> str:
    """The database URL keeping connections `seconds` (django-environ's conn_max_age)."""
    if not seconds or "conn_max_age=" in url:
        return url
    return url + ("&" if "?" in url else "?") + f"conn_max_age={seconds}"


def database_env(args) -> tuple[dict, int]:
    """The bench's processes' environment on a fresh database, and a free port."""
    given = os.environ.get("DATABASE_URL", "")
    if not given:
        env, port, _ = migrated_bench(args.workdir, "webhooks")
        env["DATABASE_URL"] = with_conn_max_age(env["DATABASE_URL"], args.conn_max_age)
        return env, port
    port = free_port()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)  # the logs go there
    env = bench_env(Path(args.workdir) / "unused.sqlite3", f"http://127.0.0.1:{port}/sandbox")
    env["DATABASE_URL"] = with_conn_max_age(given, args.conn_max_age)
    manage = [PYTHON, str(ROOT / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    subprocess.run([*manage, "flush", "--noinput", "-v", "0"], env=env, check=True)
    return env, port


# --- senders (plain processes: no Django) --------------------------------------------------------


def _event(index: int, readers: int, run: str) -> bytes:
    return json.dumps(
        {
            "event_id": f"{run}-{index:08d}",
            "object_type": "email",
            "metric": ("delivered", "opened", "clicked")[index % 3],
            "timestamp": int(time.time()),
            "data": {
                "identifiers": {
                    "id": str(index % readers),
                    "email": f"bench-reader-{index % readers}@example.com",
                },
                "customer_id": str(index % readers),
                "delivery_id": f"{run}-d{index}",
                "newsletter_id": 1,
            },
        },
        separators=(",", ":"),
    ).encode()


def _request(host: str, path: str, body: bytes, headers: dict) -> bytes:
    """One POST as bytes on the wire (HTTP/1.1, the connection kept alive)."""
    lines = [f"POST {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class Connection:
    """A keep-alive HTTP/1.1 connection reading just the status and Content-Length of an
    answer: a sender cheap enough not to take the cores the server is measured on
    (requests costs about 1 CPU ms a post)."""

    def __init__(self, host: str, port: int):
        self.address = (host, port)
        self.sock = None

    def post(self, request: bytes) -> int:
        """The answer's status (0 when the connection failed)."""
        import socket

        try:
            if self.sock is None:
                self.sock = socket.create_connection(self.address, timeout=30)
                self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("closed by the server")
                data += chunk
            head, _, rest = data.partition(b"\r\n\r\n")
            lines = head.decode("latin-1").lower().split("\r\n")
            fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
            length = int(fields.get("content-length", "0"))
            while len(rest) < length:
                chunk = self.sock.recv(65536)
                if not chunk:
                    raise OSError("closed by the server")
                rest += chunk
            if fields.get("connection", "").strip() == "close":
                self.close()
            return int(lines[0].split()[1])
        except OSError:
            self.close()
            return 0

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def send(job: tuple, ready, go, results) -> None:
    """One sender: sign its events first (the signatures stay valid for minutes), post the
    first `warmup` of them, wait for the others, then post the rest in turn; puts (latency ms,
    status, a redelivery) for each measured post, the warm-up's statuses and the CPU seconds
    the sender used while measured on `results`."""
    sys.path.insert(0, str(ROOT))
    from integrations.sandbox import webhooks as signing

    host, port, path, indices, readers, run, redeliver_every, warmup = job
    requests = []
    for index in indices:
        body = _event(index, readers, run)
        signed = signing.sign("customerio", body, SECRET, time.time())
        request = _request(host, path, body, {"Content-Type": "application/json", **signed.headers})
        repeats = 2 if redeliver_every and index % redeliver_every == 0 else 1
        requests += [(request, attempt > 0) for attempt in range(repeats)]
    connection = Connection(host, port)
    warm = [connection.post(request) for request, _ in requests[:warmup]]
    ready.wait()
    go.wait()
    cpu = time.process_time()
    out = []
    for request, again in requests[warmup:]:
        started = time.perf_counter()
        status = connection.post(request)
        out.append(((time.perf_counter() - started) * 1000, status, again))
    cpu = time.process_time() - cpu
    connection.close()
    results.put(
        (
            out,
            [(status, again) for status, (_, again) in zip(warm, requests[:warmup], strict=True)],
            cpu,
        )
    )


def per_1000(cpu: float, events: list) -> float:
    return round(1000 * cpu / len(events), 3) if events else 0.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


# --- the run -----------------------------------------------------------------------------------


def start(name: str, command: list[str], env: dict, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(command, env=env, cwd=ROOT, stdout=handle, stderr=handle,
                            start_new_session=True)  # fmt: skip


def session_cpu(session: int) -> float:
    """CPU seconds (user + system) used so far by a session (a child started with
    start_new_session: gunicorn and its workers, or the q cluster and its own): its live
    processes' own, and that of the ended ones their parents reaped (django-q recycles its
    workers every few hundred tasks)."""
    total, tick = 0, os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the process ended meanwhile
            continue
        if int(fields[3]) == session:  # fields after the name: state ppid pgrp session ...
            total += sum(int(n) for n in fields[11:15])  # utime stime cutime cstime
    return total / tick


def database_backends_cpu(url: str) -> dict[int, float]:
    """CPU seconds used so far by each PostgreSQL backend serving the bench's database (the
    web workers' and the q cluster's connections: PostgreSQL's share of the work, which the
    processes above do not include); {} on SQLite, which runs inside them."""
    if not url.startswith("postgres"):
        return {}
    import psycopg

    with psycopg.connect(url.split("?", 1)[0], autocommit=True) as connection:
        pids = [row[0] for row in connection.execute(
            "SELECT pid FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )]  # fmt: skip
    tick, cpu = os.sysconf("SC_CLK_TCK"), {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile, or on another machine
            continue
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    return cpu


def counts() -> dict:
    from django.db.models import Count, Sum

    from audience.models import EngagementEvent
    from integrations.models import Integration, WebhookEvent

    integration = Integration.objects.get(name=INTEGRATION)
    inbox = WebhookEvent.objects.filter(integration=integration)
    states = dict(inbox.values("state").annotate(n=Count("id")).values_list("state", "n"))
    return {
        "webhook_events": inbox.count(),
        "states": states,
        "redeliveries": inbox.aggregate(n=Sum("redeliveries"))["n"] or 0,
        "attempts_over_one": inbox.filter(attempts__gt=1).count(),
        "engagement_events": EngagementEvent.objects.filter(integration=integration).count(),
        "distinct_engagement": EngagementEvent.objects.filter(integration=integration)
        .values("dedupe_key").distinct().count(),
    }  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--senders", type=int, default=8, help="concurrent sender processes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=1, help="threads per gunicorn worker")
    parser.add_argument(
        "--worker-class",
        default="sync",
        help="gunicorn's: sync (a connection a request, as behind a proxy; no GIL shared) or "
        "gthread (--threads, connections kept alive)",
    )
    parser.add_argument("--app", default="sharpsend.wsgi:application", help="the WSGI app")
    parser.add_argument(
        "--warmup", type=int, default=25, help="posts a sender makes before the measuring"
    )
    parser.add_argument("--q-workers", type=int, default=2, help="q cluster workers")
    parser.add_argument("--readers", type=int, default=2_000)
    parser.add_argument(
        "--conn-max-age",
        type=int,
        default=60,
        help="seconds the web workers keep their database connection (0: one a request)",
    )
    parser.add_argument("--redeliver", type=float, default=0.02, help="share posted twice")
    parser.add_argument(
        "--process-after",
        action="store_true",
        help="start the q cluster only once the sending is over (the receiver measured alone)",
    )
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench")
    parser.add_argument("--seed-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.seed_only:
        seed(args.readers)
        return

    env, port = database_env(args)
    seeded = subprocess.run([PYTHON, __file__, "--seed-only", "--readers", str(args.readers)],
                            env=env, check=True, capture_output=True, text=True)  # fmt: skip
    path = json.loads(seeded.stdout.strip().splitlines()[-1])["path"]
    logs = Path(args.workdir)
    web = start("web", [PYTHON, "-m", "gunicorn", args.app, f"--workers={args.workers}",
                        f"--worker-class={args.worker_class}", f"--threads={args.threads}",
                        f"--bind=127.0.0.1:{port}", "--timeout=120", "--keep-alive=5"],
                env, logs / "web.log")  # fmt: skip
    cluster_command = [PYTHON, str(ROOT / "manage.py"), "qcluster"]
    cluster_env = {**env, "Q_WORKERS": str(args.q_workers)}
    cluster = None
    if not args.process_after:
        cluster = start("q", cluster_command, cluster_env, logs / "qcluster.log")
    try:
        subprocess.run([PYTHON, str(ROOT / "manage.py"), "wait_for_http",
                        f"http://127.0.0.1:{port}/admin/login/"], env=env, check=True)  # fmt: skip
        run = uuid.uuid4().hex[:8]
        every = round(1 / args.redeliver) if args.redeliver else 0
        jobs = [("127.0.0.1", port, path, range(n, args.events, args.senders), args.readers,
                 run, every, args.warmup) for n in range(args.senders)]  # fmt: skip
        spawn = multiprocessing.get_context("spawn")
        ready, go, queue = (
            spawn.Barrier(args.senders + 1),
            spawn.Barrier(args.senders + 1),
            spawn.Queue(),
        )
        senders = [spawn.Process(target=send, args=(job, ready, go, queue)) for job in jobs]
        for sender in senders:
            sender.start()
        ready.wait(timeout=600)  # every sender signed its events and posted its warm-up
        web_cpu = session_cpu(web.pid)
        cluster_cpu = session_cpu(cluster.pid) if cluster is not None else 0.0
        database_cpu = database_backends_cpu(env["DATABASE_URL"])
        go.wait()
        started = time.perf_counter()
        parts = [queue.get(timeout=1800) for _ in senders]
        sending = time.perf_counter() - started
        web_cpu = session_cpu(web.pid) - web_cpu
        ended = database_backends_cpu(env["DATABASE_URL"])
        database_cpu = sum(cpu - database_cpu.get(pid, 0.0) for pid, cpu in ended.items())
        for sender in senders:
            sender.join()
        results = [r for part, _, _ in parts for r in part]
        warmed = [r for _, part, _ in parts for r in part]
        senders_cpu = sum(cpu for _, _, cpu in parts)
        if cluster is None:
            cluster = start("q", cluster_command, cluster_env, logs / "qcluster.log")

        for key, value in env.items():  # this process now reads the bench's database
            os.environ[key] = value
        django_setup()
        measured = [r for r in results if r[1] == 200 and not r[2]]
        accepted = measured + [r for r in warmed if r[0] == 200 and not r[1]]
        deadline, figures = time.monotonic() + args.drain_timeout, {}
        while time.monotonic() < deadline:
            figures = counts()
            pending = sum(figures["states"].get(s, 0) for s in ("received", "verified"))
            if figures["webhook_events"] >= len(accepted) and not pending:
                break
            time.sleep(0.5)  # polling the database for the cluster's progress
        drained = time.perf_counter() - started - sending
        cluster_cpu = session_cpu(cluster.pid) - cluster_cpu
    finally:
        children = [child for child in (web, cluster) if child is not None]
        for child in children:
            child.terminate()
        for child in children:
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()

    latencies = [r[0] for r in results]
    server_cpu = web_cpu + cluster_cpu + database_cpu
    processed = figures.get("states", {}).get("processed", 0)
    lost = len(accepted) - min(processed, figures.get("engagement_events", 0))
    report = {
        "database": "postgresql"
        if os.environ.get("DATABASE_URL", "").startswith("postgres")
        else "sqlite",
        "broker": "redis" if env.get("REDIS_URL") else "orm",
        "events": args.events,
        "senders": args.senders,
        "gunicorn_workers": args.workers,
        "worker_class": args.worker_class,
        "threads": args.threads,
        "app": args.app,
        "q_workers": args.q_workers,
        "conn_max_age": args.conn_max_age,
        "processing": "after sending" if args.process_after else "while sending",
        "posts": len(results),
        "warmup_posts": len(warmed),
        "accepted": len(accepted),
        "redeliveries_posted": sum(1 for r in results if r[2]),
        "refused_or_failed": sum(1 for r in results if r[1] != 200),
        "sending_s": round(sending, 2),
        "events_per_s": round(len(measured) / sending, 1) if sending else 0,
        "p50_ms": round(percentile(latencies, 0.50), 1),
        "p99_ms": round(percentile(latencies, 0.99), 1),
        "drain_after_sending_s": round(drained, 1),
        "lost": lost,
        # CPU seconds per 1,000 events accepted while measured (less sensitive to the load
        # than the rates): gunicorn's processes during the sending (after the warm-up); the
        # q cluster from then until it caught up (its idle polling included, and its start
        # with --process-after); the senders' own posting (signed beforehand).
        "web_cpu_s_per_1000": per_1000(web_cpu, measured),
        "processing_cpu_s_per_1000": per_1000(cluster_cpu, measured),
        "senders_cpu_s_per_1000": per_1000(senders_cpu, measured),
        # PostgreSQL's backends for the bench's database during the sending (web and drain).
        "database_cpu_s_per_1000": per_1000(database_cpu, measured),
        # What 2 cores with nothing else on them would take at the servers' CPU cost (web,
        # processing, PostgreSQL; not the senders, which are the platforms elsewhere).
        "events_per_s_on_2_free_cores": round(2 * len(measured) / server_cpu)
        if measured and server_cpu
        else 0,
        **figures,
    }
    print(json.dumps(report, indent=2))
    misses = []
    if report["events_per_s"] < TARGETS["events_per_s"]:
        misses.append(f"{report['events_per_s']:.0f} events/s < {TARGETS['events_per_s']}")
    if report["p99_ms"] > TARGETS["p99_ms"]:
        misses.append(f"p99 {report['p99_ms']} ms > {TARGETS['p99_ms']} ms")
    if lost or figures.get("engagement_events") != figures.get("distinct_engagement"):
        misses.append(f"lost {lost}, engagement rows {figures.get('engagement_events')}")
    print("targets met" if not misses else "targets missed: " + "; ".join(misses))


if __name__ == "__main__":
    main()
