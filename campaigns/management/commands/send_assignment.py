"""Send (or resume sending) an approved assignment now, in this process:
`manage.py send_assignment ID [--dry-run] [--test-to a@x.com,b@y.com]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from campaigns.models import CampaignSend
from campaigns.services import sending, test_sends, workflow
from integrations.platforms.errors import PlatformError

from ._common import find_assignment


class Command(BaseCommand):
    help = (
        "Move every send of an approved assignment along, inline: a rerun resumes from the "
        "send ledger and never creates or sends twice. --dry-run prints the exact requests "
        "each target's send would make (built by the code that makes them) and sends nothing. "
        "It runs as the machine's operator."
    )

    def add_arguments(self, parser):
        parser.add_argument("assignment", help="The assignment's id.")
        parser.add_argument("--dry-run", action="store_true", help="Print the requests only.")
        parser.add_argument(
            "--test-to",
            metavar="EMAILS",
            help="Send a test to these comma-separated addresses only (any status; the targets "
            "whose platform has test sends), instead of the send.",
        )

    def handle(self, *args, assignment: str, dry_run: bool, test_to: str | None, **options):
        target = find_assignment(assignment)
        if test_to is not None:
            try:
                outcomes = test_sends.send_test(target, None, test_to.split(","))
            except PlatformError as exc:
                raise CommandError(exc.message) from None
            for outcome in outcomes:
                self.stdout.write(f"{outcome.target}: {outcome.message}")
            if not any(outcome.sent for outcome in outcomes):
                raise CommandError("No target sent a test.")
            return
        if dry_run:
            for assignment_target, steps, body in sending.plan_assignment(target):
                self.stdout.write(f"== {assignment_target} ({assignment_target.method})")
                self.stdout.write(f"   content: {body.source} (subject “{body.subject}”)")
                for step in steps:
                    self.stdout.write(step.describe())
            return
        try:
            result = sending.send_assignment(target.pk)
        except workflow.WorkflowError as exc:
            raise CommandError(str(exc)) from None
        for send in CampaignSend.objects.filter(target__assignment=result).select_related(
            "target__integration", "target__segment"
        ):
            line = f"{send.target}: {send.get_state_display()}"
            if send.remote_id or send.remote_send_id:
                line += f" (remote {send.remote_id or send.remote_send_id})"
            if send.error:
                line += f" — {send.error}"
            self.stdout.write(line)
        self.stdout.write(f"“{result}”: {result.get_status_display().lower()}.")
