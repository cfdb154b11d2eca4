"""Import an integration's segments now: `manage.py import_segments ID|NAME`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import AuditAction
from integrations.platforms.errors import PlatformError, UnsupportedCapability
from integrations.services import membership, segments

from ._common import OPERATOR_NOTE, audited, find_integration


class Command(BaseCommand):
    help = (
        "Import an integration's lists, segments, audiences or tags with their member counts, "
        "inline. Counts the platform's rate limit does not allow yet are left pending."
        + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", help="The integration's id or exact name.")
        parser.add_argument(
            "--budget",
            type=float,
            default=segments.COUNT_BUDGET_SECONDS,
            help="Seconds to wait at most on the platform's rate limit for member counts "
            "(default %(default)s).",
        )
        parser.add_argument(
            "--members",
            action="store_true",
            help="Also read who is in each segment (matched to SharpSend subscribers by email).",
        )

    def handle(self, *args, integration: str, budget: float, members: bool, **options):
        target = find_integration(integration)
        try:
            result = segments.import_segments(target, budget=budget)
        except UnsupportedCapability as exc:
            raise CommandError(str(exc)) from None
        except PlatformError as exc:
            raise CommandError(f"{target}: {exc.message}") from None
        audited(
            "import_segments",
            AuditAction.SEGMENTS_IMPORTED,
            target,
            f"{result.imported} segments imported, {result.removed} removed",
        )
        self.stdout.write(
            f"{target}: {result.imported} segments imported, {result.removed} removed, "
            f"{result.counted} counted."
        )
        pending = set(result.counts_pending)
        for segment in target.segments.order_by("name"):
            if segment.remote_id in pending:
                count = "count pending"
            elif segment.member_count is None:
                count = "count unknown"
            else:
                count = f"{segment.member_count} members"
            kind = f" [{segment.kind}]" if segment.kind else ""
            self.stdout.write(f"  {segment.name}{kind} (id {segment.remote_id}): {count}")
            if members:
                self.stdout.write(f"    members: {self._members(segment)}")
        if segments.schedule_pending_counts(target, result):
            self.stdout.write(
                self.style.WARNING(
                    f"{len(pending)} member counts are pending: the platform's rate limit "
                    f"allows the next count in {result.retry_in:.0f} s. The q cluster fetches "
                    "them then."
                )
            )

    def _members(self, segment) -> str:
        try:
            return membership.refresh_members(segment).summary()
        except UnsupportedCapability as exc:
            return str(exc)
        except PlatformError as exc:
            return f"not read: {exc.message}"
