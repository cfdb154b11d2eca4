"""Import a platform's contacts into SharpSend now: `manage.py import_profiles ID|NAME`."""

from __future__ import annotations

import sys

from django.core.management.base import BaseCommand, CommandError

from audience.profiles import ConflictPolicy
from integrations.formatting import counted
from integrations.models import AuditAction, SyncKind, SyncRun, SyncStatus, SyncTrigger
from integrations.platforms.types import Capability
from integrations.services import sync

from ._common import OPERATOR_NOTE, audited, find_integration


def summary(run: SyncRun) -> str:
    duration = run.duration
    took = f"{duration.total_seconds():.1f} s" if duration is not None else "—"
    return (
        f"Run #{run.pk} {run.get_status_display().lower()}: {run.seen} profiles seen; "
        f"created {run.created}, updated {run.updated}, unchanged {run.unchanged}, "
        f"skipped {run.excluded}, errors {run.failed}; {counted(run.cursor, 'page')}; "
        f"{counted(run.api_calls, 'API call')}; {took}."
    )


class Command(BaseCommand):
    help = (
        "Import every contact of an integration's platform into SharpSend, inline: new readers "
        "are created, known ones merged by the conflict policy (an opt-out always taken in, "
        "never a re-subscribe; suppressed emails never recreated). Resumes an interrupted "
        "import from its last page. Exit code 0 when the run succeeded, 2 when some profiles "
        "could not be imported, 1 when it failed or another run is under way." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", help="The integration's id or exact name.")
        parser.add_argument(
            "--policy",
            choices=ConflictPolicy.values,
            default="",
            help="Which side keeps a field of a known reader (default: the integration's "
            "conflict policy).",
        )

    def handle(self, *args, integration: str, policy: str, **options):
        target = find_integration(integration)
        platform = target.platform_class
        if not platform.supports(Capability.LIST_CONTACTS):
            raise CommandError(str(platform.unsupported(Capability.LIST_CONTACTS)))
        if not target.enabled:
            raise CommandError(f"{target} is disabled: enable it first.")
        run, created = sync.start_sync(
            target, SyncTrigger.COMMAND, kind=SyncKind.IMPORT, conflict_policy=policy
        )
        if not created:
            raise CommandError(
                f"{target}: run #{run.pk} is already {run.get_status_display().lower()}; "
                "not starting an import."
            )
        applied = run.conflict_policy or target.conflict_policy
        audited(
            "import_profiles",
            AuditAction.PROFILES_IMPORT_REQUESTED,
            target,
            f"Profile import run #{run.pk} ({applied})",
        )
        if run.resumed_from_id:
            self.stdout.write(
                f"Resuming interrupted import #{run.resumed_from_id} after its "
                f"{counted(run.cursor, 'page')}."
            )
        self.stdout.write(f"Importing the profiles of {target} ({ConflictPolicy(applied).label})…")
        run = sync.execute_sync(run.pk)
        self.stdout.write(summary(run))
        for record in run.records.order_by("id")[:20]:
            self.stdout.write(f"  {record.email or '(no email)'}: {record.message}")
        if run.status == SyncStatus.SUCCEEDED:
            return
        if run.status == SyncStatus.PARTIAL:
            self.stdout.write(
                self.style.WARNING(
                    f"{run.failed} profiles could not be imported; see the run's records in "
                    "the admin (Sync runs)."
                )
            )
            self.stdout.flush()
            sys.exit(2)
        raise CommandError(f"Import run #{run.pk} {run.status}: {run.error or 'no detail'}")
