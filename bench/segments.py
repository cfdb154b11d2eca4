"""Segment push at scale: push a SharpSend segment of N members to the sandbox Iterable over
real HTTP (a new static list), push it again unchanged, then push it after 1 % of its membership
changed (half the 1 % leave the segment, as many new readers join). Prints the changes sent,
API calls, time and the push process's peak RSS for each. Then membership in: the same readers
synced to the sandbox Customer.io, and the members of its "All readers" segment (all of them)
imported into SharpSend, page by page, with the import process's peak RSS.

    .venv/bin/python bench/segments.py --subscribers 100000

Like bench/sync_throughput.py: its own SQLite file (under --workdir), its own web server for
the sandbox, each push in a child process (os.wait4 gives its own peak RSS). The segment is
"every subscribed reader without the attribute bench_out", so all subscribed readers are in.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import sync_throughput  # noqa: E402
from sync_throughput import (  # noqa: E402
    PYTHON,
    django_setup,
    migrated_bench,
    sandbox_server,
)

INTEGRATION = "Iterable (segment bench)"
SLUG = "bench-segment"
RULES = {"not": {"field": "attributes.bench_out", "op": "is_set"}}


def seed(count: int, base_url: str) -> None:
    django_setup()
    from audience.demo import create_demo_audience
    from audience.models import AudienceSegment
    from integrations.models import Integration
    from integrations.sandbox.accounts import demo_account

    create_demo_audience(count, batch_size=10_000)
    account = demo_account("iterable")
    Integration.objects.update_or_create(
        name=INTEGRATION,
        defaults={
            "platform": "iterable",
            "api_base_url": f"{base_url}/iterable",
            "region": account.region,
            "credentials": dict(account.credentials),
        },
    )
    AudienceSegment.objects.update_or_create(
        slug=SLUG, defaults={"name": "Bench segment", "rules": RULES}
    )


def change(percent: float) -> int:
    """`percent` % of the segment's members change: half leave (bench_out set), and as many
    new subscribed readers join."""
    django_setup()
    from audience.models import AudienceSegment, Subscriber, SubscriberStatus

    members = (
        AudienceSegment.objects.get(slug=SLUG).members().filter(status=SubscriberStatus.SUBSCRIBED)
    )
    half = round(members.count() * percent / 100 / 2)
    leaving = list(members.order_by("id").values_list("id", flat=True)[::97][:half])
    for subscriber in Subscriber.objects.filter(id__in=leaving):
        subscriber.attributes = {**subscriber.attributes, "bench_out": True}
        subscriber.save(update_fields=["attributes", "updated_at"])
    Subscriber.objects.bulk_create(
        Subscriber(email=f"joined{i}@bench.example.com", first_name="New") for i in range(half)
    )
    return 2 * half


def child_push() -> None:
    django_setup()
    from audience.models import AudienceSegment
    from integrations.models import Integration
    from integrations.services import segment_push

    segment = AudienceSegment.objects.get(slug=SLUG)
    integration = Integration.objects.get(name=INTEGRATION)
    started = time.perf_counter()
    run, _ = segment_push.push_segment(segment, integration, "command")
    elapsed = time.perf_counter() - started
    run.refresh_from_db()
    print(json.dumps({"status": run.status, "error": run.error, "added": run.created,
                      "removed": run.removed, "unchanged": run.unchanged, "failed": run.failed,
                      "api_calls": run.api_calls, "seconds": elapsed}))  # fmt: skip


def child_members() -> None:
    """Import the members of the sandbox Customer.io's "All readers" segment; figures as JSON."""
    django_setup()
    from integrations.models import ApiCall, Integration, Segment
    from integrations.sandbox import registry
    from integrations.services.membership import refresh_members
    from integrations.services.segments import import_segments

    registry.seed("customerio")  # its demo segments; "All readers" has no rule: everyone
    integration = Integration.objects.get(name=sync_throughput.INTEGRATION)
    import_segments(integration)
    segment = Segment.objects.get(integration=integration, name="All readers")
    calls = ApiCall.objects.filter(integration=integration).count()
    started = time.perf_counter()
    result = refresh_members(segment)
    elapsed = time.perf_counter() - started
    print(json.dumps({"matched": result.matched, "unmatched": result.unmatched,
                      "pages": result.pages, "complete": result.complete, "seconds": elapsed,
                      "api_calls": ApiCall.objects.filter(integration=integration).count() - calls}))  # fmt: skip


def measure(env: dict, child: str = "--child-push") -> dict:
    proc = subprocess.Popen([PYTHON, __file__, child], env=env, stdout=subprocess.PIPE,
                            text=True)  # fmt: skip
    out = proc.stdout.read()
    _, _, usage = os.wait4(proc.pid, 0)
    figures = json.loads(out.strip().splitlines()[-1])
    figures["peak_rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--subscribers", type=int, default=100_000)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench")
    parser.add_argument("--child-push", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-members", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed-only", type=str, help=argparse.SUPPRESS)
    parser.add_argument("--change-only", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_push:
        child_push()
        return
    if args.child_members:
        child_members()
        return
    if args.change_only:
        print(change(args.change_only))
        return
    if args.seed_only:
        seed(args.subscribers, args.seed_only)
        return

    env, port, base_url = migrated_bench(args.workdir, f"segments-{args.subscribers}")
    subprocess.run([PYTHON, __file__, "--subscribers", str(args.subscribers), "--seed-only",
                    base_url], env=env, check=True)  # fmt: skip
    with sandbox_server(env, port):
        first = measure(env)
        unchanged = measure(env)
        changed = subprocess.run([PYTHON, __file__, "--change-only", "1"], env=env, check=True,
                                 capture_output=True, text=True).stdout.strip()  # fmt: skip
        after_change = measure(env)
        bench_sync = str(Path(sync_throughput.__file__))
        subprocess.run([PYTHON, bench_sync, "--subscribers", str(args.subscribers), "--seed-only",
                        base_url], env=env, check=True)  # fmt: skip
        synced = sync_throughput.measure(env, "full")
        members = measure(env, "--child-members")
    print(f"subscribers: {args.subscribers:,}; 1 % change = {changed} membership changes")
    for name, f in (("first push", first), ("unchanged push", unchanged),
                    ("1 % changed", after_change)):  # fmt: skip
        print(
            f"{name:>15}: {f['status']}, +{f['added']:,} -{f['removed']:,} (unchanged "
            f"{f['unchanged']:,}, failed {f['failed']:,}) in {f['seconds']:.2f} s; "
            f"{f['api_calls']} API calls; peak RSS {f['peak_rss_mb']:.0f} MB"
        )
        if f["error"]:
            print(f"{'':>15}  error: {f['error']}")
    print(f"membership in: {synced['seen']:,} readers synced to the sandbox Customer.io first")
    print(
        f"{'members import':>15}: {members['matched']:,} matched, {members['unmatched']:,} "
        f"unmatched, {members['pages']} pages in {members['seconds']:.2f} s = "
        f"{members['matched'] / members['seconds']:,.0f} members/s; {members['api_calls']} API "
        f"calls; complete {members['complete']}; peak RSS {members['peak_rss_mb']:.0f} MB"
    )


if __name__ == "__main__":
    main()
