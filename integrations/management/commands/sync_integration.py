"""Run a sync of one integration now, in this process: `manage.py sync_integration ID|NAME`."""

from __future__ import annotations

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from integrations.formatting import counted
from integrations.models import AuditAction, Outcome, SyncMode, SyncRun, SyncStatus, SyncTrigger
from integrations.services import sync

from ._common import OPERATOR_NOTE, audited, find_integration


def summary(run: SyncRun) -> str:
    counts = ", ".join(
        f"{outcome.label.lower()} {getattr(run, outcome.value)}" for outcome in Outcome
    )
    duration = run.duration
    took = f"{duration.total_seconds():.1f} s" if duration is not None else "—"
    return (
        f"Run #{run.pk} {run.get_status_display().lower()}"
        f"{' (dry run)' if run.dry_run else ''}: {run.seen} of {run.total} seen; {counts}; "
        f"excluded {run.excluded}; {counted(run.api_calls, 'API call')}; {took}; "
        f"{counted(len(run.warnings), 'warning')}."
    )


class Command(BaseCommand):
    help = (
        "Sync an integration now, inline (not through the queue). Exit code 0 when the run "
        "succeeded, 2 when it was partial (some records not accepted), 1 when it failed or "
        "another sync is already under way." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", help="The integration's id or exact name.")
        parser.add_argument(
            "--full", action="store_true", help="Send every subscriber, not only changed ones."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Map the subscribers and print the requests the first 20 become; send nothing.",
        )

    def handle(self, *args, integration: str, full: bool, dry_run: bool, **options):
        target = find_integration(integration)
        if not target.enabled and not dry_run:
            raise CommandError(f"{target} is disabled: enable it first (a --dry-run is allowed).")
        mode = SyncMode.FULL if full else SyncMode.CHANGED
        run, created = sync.start_sync(target, SyncTrigger.COMMAND, mode=mode, dry_run=dry_run)
        if not created:
            raise CommandError(
                f"{target}: sync run #{run.pk} is already {run.get_status_display().lower()}; "
                "not starting another."
            )
        audited(
            "sync_integration",
            AuditAction.SYNC_REQUESTED,
            target,
            f"Sync run #{run.pk} ({mode}{', dry run' if dry_run else ''})",
        )
        if run.resumed_from_id:
            self.stdout.write(
                f"Resuming interrupted run #{run.resumed_from_id} from its checkpoint "
                f"({run.get_mode_display().lower()} mode)."
            )
        self.stdout.write(
            f"Syncing {target} ({run.get_mode_display().lower()}{', dry run' if dry_run else ''})…"
        )
        run = sync.execute_sync(run.pk)
        self.stdout.write(summary(run))
        for warning in run.warnings:
            self.stdout.write(self.style.WARNING(f"warning: {warning}"))
        if run.dry_run and run.preview:
            count = sum(len(request["subscribers"]) for request in run.preview)
            self.stdout.write(
                f"The requests the first {count} subscribers become, exactly as they would be "
                "sent (headers, which carry the credentials, left out):"
            )
            self.stdout.write(json.dumps(run.preview, indent=2, ensure_ascii=False, default=str))
        if run.status == SyncStatus.SUCCEEDED:
            return
        if run.status == SyncStatus.PARTIAL:
            self.stdout.write(
                self.style.WARNING(
                    f"{run.failed} records were not accepted; see the run's records in the "
                    "admin. They stay pending and are sent again on the next run."
                )
            )
            self.stdout.flush()
            sys.exit(2)
        raise CommandError(f"Sync run #{run.pk} {run.status}: {run.error or 'no detail'}")
