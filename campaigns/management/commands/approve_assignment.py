"""Approve an assignment in review: `manage.py approve_assignment ID --as USERNAME`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from campaigns.services import workflow

from ._common import find_assignment


class Command(BaseCommand):
    help = (
        "Approve an assignment that is in review: every target's pre-flight runs first, then "
        "its sends are created and queued. --as names the approving user, whose "
        "approve_assignment permission and the self-approval rule are checked and who is "
        "recorded; without it the machine's operator approves (recorded with no actor)."
    )

    def add_arguments(self, parser):
        parser.add_argument("assignment", help="The assignment's id.")
        parser.add_argument("--as", dest="username", default="", help="The approving user.")
        parser.add_argument(
            "--no-queue", action="store_true", help="Do not queue the send (run send_assignment)."
        )

    def handle(self, *args, assignment: str, username: str, no_queue: bool, **options):
        target = find_assignment(assignment)
        actor = None
        if username:
            actor = get_user_model().objects.filter(username=username).first()
            if actor is None:
                raise CommandError(f"No user '{username}'.")
        try:
            workflow.approve(
                target, actor, note="manage.py approve_assignment", queue_send=not no_queue
            )
        except (workflow.WorkflowError, PermissionDenied) as exc:
            raise CommandError(str(exc)) from None
        sends = target.targets.count()
        queued = "not queued (run send_assignment)" if no_queue else "queued"
        self.stdout.write(f"Approved “{target}”: {sends} sends {queued}.")
