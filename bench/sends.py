"""Sends: the send ledger under kill -9, and send latency while a large sync runs.

1. Kills: an approved assignment to one platform is sent by a child process that is killed
   (SIGKILL, nothing runs after it) at a chosen point of the send: before or after each step
   the platform's send makes (create, content, check, send). A new worker then sends the
   assignment again, as the next task would. The sandbox is asked how many times the platform
   sent it. Rounds cycle over every (platform, kill point) pair until --kills kills were made.
2. Latency: an assignment to every sending platform is approved and sent, once with nothing
   else running and once while a full sync of --sync-subscribers readers runs to the same
   sandbox accounts (Customer.io and Mailchimp); the seconds from approval to each target's
   send are printed.

    .venv/bin/python bench/sends.py --kills 100 --sync-subscribers 100000

Like the other benches: its own SQLite file (under --workdir) and its own sandbox web server.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from sync_throughput import PYTHON, django_setup, migrated_bench, sandbox_server  # noqa: E402

# What the sandbox's SendGrid account has verified (a real account sets these on the integration).
SEND_SETTINGS = {"sendgrid": {"sender_id": "1", "suppression_group_id": "5"}}
SYNCED = ("customerio", "mailchimp")  # the accounts the latency run's big sync writes to


# --- in the bench's own processes -----------------------------------------------------------


def seed(audience: int, base_url: str) -> None:
    """The demo audience, a sandbox integration per sending platform, synced, segments in."""
    django_setup()
    from django.contrib.auth.models import Permission, User

    from audience.demo import create_demo_audience
    from integrations.models import Integration, SyncTrigger
    from integrations.platforms.types import Capability
    from integrations.services import sync
    from integrations.services.demo import create_demo_integrations
    from integrations.services.segments import import_segments

    create_demo_audience(audience)
    create_demo_integrations(base_url)
    User.objects.create_superuser("bench-approver", password=None)
    author = User.objects.create_user("bench-author", is_staff=True)
    author.user_permissions.set(
        Permission.objects.filter(codename__in=("add_assignment", "change_assignment"))
    )
    for integration in Integration.objects.all():
        if not integration.platform_class.supports(Capability.SEND_CAMPAIGN):
            continue
        extra = SEND_SETTINGS.get(integration.platform, {})
        if extra:
            integration.credentials = {**integration.credentials, **extra}
            integration.save()
        run, _ = sync.start_sync(integration, SyncTrigger.COMMAND)
        sync.execute_sync(run.pk)
        import_segments(integration)


def target_for(integration):
    """(segment, method, remote campaign) of the platform's first send method, or None."""
    from integrations.models import Segment

    client = integration.client()
    method = integration.platform_class.send_methods[0]
    remote = ""
    if method.trigger_only:
        choices = client.trigger_choices(method.key)
        if not choices:
            return None
        remote = choices[0][0]
    if not method.needs_segment:  # the audience is set on the platform (Braze)
        return None, method.key, remote
    segments = Segment.objects.filter(integration=integration)
    segment = segments.filter(name="All readers").first() or segments.order_by("name").first()
    return segment, method.key, remote


def approve(title: str, integrations) -> tuple[int, list[str]]:
    """A new approved assignment to `integrations` (pk, and the problems of those left out)."""
    from django.contrib.auth.models import User

    from campaigns.models import Assignment, AssignmentTarget
    from campaigns.services import specs, workflow

    author = User.objects.get(username="bench-author")
    assignment = Assignment.objects.create(
        title=title, subject=f"{title}: the week", html="<p>Bench</p>", plain_text="Bench",
        from_name="Bench Desk", reply_to="desk@example.com", author=author,
    )  # fmt: skip
    skipped = []
    for integration in integrations:
        found = target_for(integration)
        if found is None:
            skipped.append(f"{integration.platform}: nothing to trigger")
            continue
        segment, method, remote = found
        target = AssignmentTarget.objects.create(
            assignment=assignment, integration=integration, segment=segment, method=method,
            remote_template_or_campaign_id=remote,
        )  # fmt: skip
        problems = specs.target_problems(target)
        if problems:
            skipped.append(f"{integration.platform}: {'; '.join(problems)}")
            target.delete()
    if not assignment.targets.exists():
        return assignment.pk, skipped
    workflow.submit(assignment, author)
    workflow.approve(assignment, User.objects.get(username="bench-approver"), queue_send=False)
    return assignment.pk, skipped


def kill_points(integration) -> list[tuple[str, str]]:
    """(before|after, step kind) for every step the platform's send makes."""
    from campaigns.models import CampaignSend
    from campaigns.services.specs import spec_for

    send = CampaignSend.objects.filter(target__integration=integration).first()
    steps = integration.client().plan_send(spec_for(send.target, send))
    kinds = list(dict.fromkeys(str(step.kind) for step in steps))
    return [(when, kind) for kind in kinds for when in ("before", "after")]


def child_send(assignment_pk: int, when: str, kind: str) -> None:
    """Send `assignment_pk`, dying by SIGKILL before or after the first step of `kind`."""
    django_setup()
    from campaigns.services import sending
    from integrations.platforms.sending import CampaignSending

    original = CampaignSending.run_step

    def run_step(self, step):
        if str(step.kind) == kind and when == "before":
            os.kill(os.getpid(), signal.SIGKILL)
        response = original(self, step)
        if str(step.kind) == kind and when == "after":
            os.kill(os.getpid(), signal.SIGKILL)
        return response

    CampaignSending.run_step = run_step
    sending.send_assignment(assignment_pk)
    print("not killed")


def sent_on_platform(platform: str, since) -> int:
    """How many times the sandbox's `platform` sent anything created after `since`."""
    from django.db.models import Sum

    from integrations.sandbox.models import SandboxSend

    rows = SandboxSend.objects.filter(platform=platform, created_at__gte=since).exclude(kind="test")
    return rows.aggregate(total=Sum("sends"))["total"] or 0


def kills(env: dict, count: int, lease: float) -> dict:
    django_setup()
    from django.utils import timezone

    from campaigns.models import CampaignSend
    from campaigns.services import sending
    from integrations.models import Integration
    from integrations.platforms.types import Capability

    sending_platforms = [
        i for i in Integration.objects.order_by("platform")
        if i.platform_class.supports(Capability.SEND_CAMPAIGN)
    ]  # fmt: skip
    pairs, skipped = [], []
    for integration in sending_platforms:
        pk, problems = approve(f"Kill probe {integration.platform}", [integration])
        skipped += problems
        if not problems:
            pairs += [(integration, point) for point in kill_points(integration)]
        CampaignSend.objects.filter(target__assignment_id=pk).delete()
    results = defaultdict(Counter)
    for index in range(count):
        integration, (when, kind) = pairs[index % len(pairs)]
        since = timezone.now()
        pk, _ = approve(f"Kill {index} {integration.platform} {when} {kind}", [integration])
        child = subprocess.run(
            [PYTHON, __file__, "--child-send", str(pk), when, kind],
            env=env, capture_output=True, text=True,
        )  # fmt: skip
        killed = child.returncode == -signal.SIGKILL
        if not killed:
            tail = (child.stdout + child.stderr).strip().splitlines()[-3:]
            print(f"round {index} ({integration.platform} {when} {kind}) not killed: {tail}")
        time.sleep(lease)  # the dead worker's lease lapses
        sending.send_assignment(pk)
        sent = sent_on_platform(integration.platform, since)
        state = CampaignSend.objects.get(target__assignment_id=pk).state
        key = (integration.platform, f"{when} {kind}")
        results[key]["kills" if killed else "not reached"] += 1
        results[key][f"sent {sent}×, ledger {state}"] += 1
    return {"results": results, "skipped": skipped}


def latency(label: str) -> dict[str, float]:
    """Approve an assignment to every sending platform and send it: seconds to each send."""
    django_setup()
    from campaigns.models import CampaignSend
    from campaigns.services import sending
    from integrations.models import Integration
    from integrations.platforms.types import Capability

    integrations = [
        i for i in Integration.objects.order_by("platform")
        if i.platform_class.supports(Capability.SEND_CAMPAIGN)
    ]  # fmt: skip
    pk, skipped = approve(f"Latency {label}", integrations)
    started = time.time()
    sending.send_assignment(pk)
    figures = {}
    for send in CampaignSend.objects.filter(target__assignment_id=pk).select_related("target"):
        done = send.sent_at.timestamp() - started if send.sent_at else float("nan")
        figures[send.target.integration.platform] = (round(done, 2), send.state)
    return {"seconds": figures, "skipped": skipped}


def grow_audience(count: int) -> None:
    django_setup()
    from audience.demo import create_demo_audience

    create_demo_audience(count, batch_size=10_000)


def child_sync(platform: str) -> None:
    django_setup()
    from integrations.models import Integration, SyncTrigger
    from integrations.services import sync

    integration = Integration.objects.get(platform=platform, name__endswith="(sandbox)")
    started = time.perf_counter()
    run, _ = sync.start_sync(integration, SyncTrigger.COMMAND, mode="full")
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    print(json.dumps({"platform": platform, "seen": run.seen, "status": run.status,
                      "seconds": round(time.perf_counter() - started, 1)}))  # fmt: skip


def wait_for_syncs_under_way(timeout: float = 120.0) -> None:
    """Until every big sync has sent its first batches (so the approval meets them running)."""
    from integrations.models import SyncRun, SyncStatus

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        running = SyncRun.objects.filter(
            status=SyncStatus.RUNNING, integration__platform__in=SYNCED, seen__gt=0
        ).count()
        if running == len(SYNCED):
            return
        time.sleep(0.2)
    raise SystemExit("The syncs did not get under way: the latency under load was not measured.")


# --- the driver ------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--audience", type=int, default=60, help="readers the sends go to")
    parser.add_argument("--sync-subscribers", type=int, default=100_000)
    parser.add_argument("--workdir", default="/tmp/sharpsend-bench")
    parser.add_argument("--no-latency", action="store_true", help="the kill rounds only")
    parser.add_argument("--child-send", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--child-sync", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_send:
        child_send(int(args.child_send[0]), args.child_send[1], args.child_send[2])
        return
    if args.child_sync:
        child_sync(args.child_sync)
        return

    env, port, base_url = migrated_bench(args.workdir, "sends")
    lease = 1.0
    env["SEND_LEASE_SECONDS"] = str(lease)
    # Campaign Monitor fetches each send's content from the console: this bench's server.
    env["CONSOLE_BASE_URL"] = f"http://127.0.0.1:{port}"
    os.environ.update(env)
    with sandbox_server(env, port, threads=True):
        seed(args.audience, base_url)
        started = time.perf_counter()
        found = kills(env, args.kills, lease)
        kill_seconds = time.perf_counter() - started
        if args.no_latency:
            quiet = busy = {"seconds": {}, "skipped": []}
            sync_figures = []
            args.sync_subscribers = 0
        else:
            quiet, busy, sync_figures = latencies(env, args.sync_subscribers)
    report(args, found, kill_seconds, quiet, busy, sync_figures)


def latencies(env: dict, subscribers: int) -> tuple[dict, dict, list]:
    """Send latency with nothing else running, then during syncs to the same accounts."""
    quiet = latency("quiet")
    grow_audience(subscribers)
    syncs = [
        subprocess.Popen(
            [PYTHON, __file__, "--child-sync", slug], env=env, stdout=subprocess.PIPE, text=True
        )  # fmt: skip
        for slug in SYNCED
    ]
    wait_for_syncs_under_way()
    busy = latency("during sync")
    sync_figures = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in syncs]
    return quiet, busy, sync_figures


def report(args, found: dict, kill_seconds: float, quiet: dict, busy: dict, syncs: list) -> None:
    print(f"== kill -9 during sends: {args.kills} rounds in {kill_seconds:.0f} s")
    duplicates = 0
    for (platform, point), counts in sorted(found["results"].items()):
        print(
            f"{platform:12} {point:14} " + ", ".join(f"{k}: {v}" for k, v in sorted(counts.items()))
        )
        duplicates += sum(
            v for k, v in counts.items()
            if k.startswith("sent ") and not k.startswith(("sent 0×", "sent 1×"))
        )  # fmt: skip
    for line in found["skipped"]:
        print(f"not probed: {line}")
    print(f"rounds that sent more than once: {duplicates}")
    if not syncs:
        return
    print("== seconds from approval to each send (targets are sent one after another)")
    print(f"quiet:                    {quiet['seconds']}")
    print(f"during {args.sync_subscribers:,}-reader syncs: {busy['seconds']}")
    for line in quiet["skipped"]:
        print(f"not sent: {line}")
    print(f"syncs: {syncs}")


if __name__ == "__main__":
    main()
