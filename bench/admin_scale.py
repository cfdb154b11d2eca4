"""Admin at scale: every changelist's queries and time with N subscribers and N sync records.

    .venv/bin/python bench/admin_scale.py --rows 1000000

Seeds a throwaway SQLite database (under --workdir): N demo subscribers, one integration with
one run holding N not-accepted records (the run's error log), N API calls and sync states.
The seeded database is kept and reused by the next run with the same --rows (migrations are
applied to it first, so a new index is built on it); --fresh seeds it again. Then asks each admin changelist, plain and with its usual filters and a search, as a
superuser through Django's test client: the number of SQL queries and the median of 3 timings.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "sharpsend.settings")
    import django

    django.setup()


def seed(rows: int) -> None:
    django_setup()
    from django.contrib.auth.models import User
    from django.db import connection, transaction

    if User.objects.filter(username="bench").exists():  # seeded by an earlier run
        print("reusing the seeded database")
        return
    with transaction.atomic():  # all or nothing: the bench user, made last, marks it seeded
        seed_rows(rows)
        User.objects.create_superuser("bench", "bench@example.com", "bench-password-not-secret")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # what autovacuum soon does after the inserts
            cursor.execute("VACUUM ANALYZE")


def seed_rows(rows: int) -> None:
    from django.db import connection, transaction
    from django.utils import timezone

    from audience.demo import create_demo_audience
    from integrations.models import ApiCall, Integration, SyncRecord, SyncRun, SyncState

    create_demo_audience(rows, batch_size=10_000)
    integration = Integration.objects.create(platform="customerio", name="Customer.io (bench)")
    run = SyncRun.objects.create(integration=integration, trigger="manual", status="partial")
    started = timezone.now()
    now = connection.ops.adapt_datetimefield_value(started)

    def at(i: int):  # one call every 10 ms, the last one now
        return connection.ops.adapt_datetimefield_value(started - timedelta(milliseconds=10 * i))

    table = connection.ops.quote_name
    ids = list(range(1, rows + 1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table(SyncRecord._meta.db_table)} (run_id, subscriber_id, email, "
            "action, outcome, code, message, hint) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (run.pk, i, f"reader{i}@example.com", "", "rejected_data", "invalid",
                 f"field {i % 7} is invalid", "Fix it")
                for i in ids
            ],
        )  # fmt: skip
        cursor.executemany(
            f"INSERT INTO {table(SyncState._meta.db_table)} (integration_id, subscriber_id, "
            "payload_hash, status, last_outcome, ever_synced, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [(integration.pk, i, "x" * 32, "pending", "rejected_data", False, now) for i in ids],
        )
        cursor.executemany(
            f"INSERT INTO {table(ApiCall._meta.db_table)} (integration_id, surface, feature, "
            "method, path, status_code, ok, error_kind, latency_ms, bytes_sent, bytes_received, "
            "at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (integration.pk, "track", "sync", "POST", "/api/v2/batch", 200 if i % 10 else 429,
                 bool(i % 10), "" if i % 10 else "rate_limited", 12.5, 1000, 100, at(i))
                for i in ids
            ],
        )  # fmt: skip


PAGES = (
    ("subscribers", "/admin/audience/subscriber/"),
    ("subscribers, filtered", "/admin/audience/subscriber/?status__exact=unsubscribed"),
    ("subscribers, an email", "/admin/audience/subscriber/?q=tara.rossi.4241@example.com"),
    ("subscribers, an email's start", "/admin/audience/subscriber/?q=tara.rossi.42"),
    ("subscribers, a last name", "/admin/audience/subscriber/?q=Rossi"),
    ("subscribers, two names", "/admin/audience/subscriber/?q=Tara+Rossi"),
    # A first name: in email order its matches are all at "tara." (every email starts with it).
    ("subscribers, a first name", "/admin/audience/subscriber/?q=Tara"),
    ("integrations", "/admin/integrations/integration/"),
    ("sync runs", "/admin/integrations/syncrun/"),
    ("sync records", "/admin/integrations/syncrecord/"),
    ("sync records, filtered", "/admin/integrations/syncrecord/?outcome__exact=rejected_data"),
    ("sync records, searched", "/admin/integrations/syncrecord/?q=reader4242"),
    ("sync records, a code", "/admin/integrations/syncrecord/?q=invalid"),  # every record
    ("sync records, a code, p. 50", "/admin/integrations/syncrecord/?q=invalid&p=50"),
    ("segments", "/admin/integrations/segment/"),
    ("API calls", "/admin/integrations/apicall/"),
    ("API calls, failed", "/admin/integrations/apicall/?ok__exact=0"),
    ("audit log", "/admin/integrations/auditentry/"),
)


def measure(verbose: bool = False) -> None:
    django_setup()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(User.objects.get(username="bench"))
    print(f"{'page':<28} {'status':>6} {'queries':>7} {'median ms':>9}")
    for name, url in PAGES:
        timings = []
        for _ in range(3):
            with CaptureQueriesContext(connection) as queries:
                started = time.perf_counter()
                response = client.get(url)
                timings.append((time.perf_counter() - started) * 1000)
        print(
            f"{name:<28} {response.status_code:>6} {len(queries):>7} "
            f"{statistics.median(timings):>9.0f}"
        )
        if verbose:  # the slowest queries of the last try
            for query in sorted(queries, key=lambda q: -float(q["time"]))[:2]:
                print(f"    {float(query['time']) * 1000:6.0f} ms  {query['sql'][:300]}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench")
    parser.add_argument("--child", choices=["seed", "measure"], help=argparse.SUPPRESS)
    parser.add_argument("--queries", action="store_true", help="show each page's slowest queries")
    parser.add_argument("--fresh", action="store_true", help="seed again, not reuse the database")
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to seed and measure instead (created beforehand; kept "
        "seeded between runs, emptied by --fresh)",
    )
    args = parser.parse_args()
    if args.child == "seed":
        seed(args.rows)
        return
    if args.child == "measure":
        measure(args.queries)
        return
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / f"admin-{args.rows}.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url or f"sqlite:///{db}",
        "DEBUG": "true",  # plain static files (no manifest to build); pages render the same
        "LOG_LEVEL": "WARNING",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-not-a-secret-key-0123456789abcdef"),
        "SALT_KEY": os.environ.get("SALT_KEY", "bench-salt"),
    }
    manage = [PYTHON, str(ROOT / "manage.py")]
    if args.database_url:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
        if args.fresh:
            subprocess.run([*manage, "flush", "--noinput", "-v", "0"], env=env, check=True)
        started = time.perf_counter()
        seeding = [PYTHON, __file__, "--rows", str(args.rows), "--child", "seed"]
        subprocess.run(seeding, env=env, check=True)
        print(f"seeded or reused in {time.perf_counter() - started:.0f} s")
    elif args.fresh:
        db.unlink(missing_ok=True)
    if not args.database_url and not db.exists():
        # Seeded under another name and renamed when done: a failed seed is never reused.
        partial = db.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        seeding = {**env, "DATABASE_URL": f"sqlite:///{partial}"}
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=seeding, check=True)
        started = time.perf_counter()
        subprocess.run(
            [PYTHON, __file__, "--rows", str(args.rows), "--child", "seed"], env=seeding, check=True
        )
        print(f"seeded {args.rows:,} rows a table in {time.perf_counter() - started:.0f} s")
        partial.rename(db)
    started = time.perf_counter()
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, check=True)
    print(f"migrated in {time.perf_counter() - started:.0f} s")
    command = [PYTHON, __file__, "--child", "measure", *(["--queries"] if args.queries else [])]
    subprocess.run(command, env=env, check=True)


if __name__ == "__main__":
    main()
