"""Open a privacy request: `manage.py privacy_request access|delete|suppress EMAIL [--wait]`."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from integrations.models import PrivacyKind, PrivacyStatus
from integrations.services import privacy

from ._common import OPERATOR_NOTE

KINDS = {
    "access": PrivacyKind.ACCESS,
    "delete": PrivacyKind.DELETION,
    "suppress": PrivacyKind.SUPPRESSION,
}


class Command(BaseCommand):
    help = (
        "Open a privacy request (access: a copy of the data; delete: be forgotten; suppress: "
        "do not sell, stop contacting, keep the data) across "
        "SharpSend and every integration, and print each platform's result. Exit code 0 "
        "when the request is complete, 1 otherwise. Without --wait the platform tasks go to "
        "the task queue." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=sorted(KINDS))
        parser.add_argument("email")
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Run the tasks here and follow platform jobs until they end.",
        )
        parser.add_argument(
            "--timeout",
            type=float,
            default=3600.0,
            help="With --wait: stop following platform jobs after this many seconds.",
        )
        parser.add_argument(
            "--bundle", help="Access: write the bundle (JSON) to this file when complete."
        )

    def handle(self, *args, kind: str, email: str, wait: bool, timeout: float, **options):
        try:
            request = privacy.open_request(KINDS[kind], email, via="manage.py privacy_request")
        except privacy.PrivacyInputError as exc:
            raise CommandError(str(exc)) from None
        if wait:
            request = privacy.run_until_settled(request, timeout=timeout)
        else:
            request = privacy.advance(request)
        self.stdout.write(f"Privacy request #{request.pk}: {request.get_status_display()}")
        self.stdout.write(f"SharpSend: {request.local_result.get('detail', '') or '—'}")
        for task in request.tasks.order_by("integration_name"):
            detail = f" ({task.reason})" if task.reason else ""
            known = f" [platform id {task.platform_id}]" if task.platform_id else ""
            self.stdout.write(f"{task.integration_name}: {task.get_state_display()}{detail}{known}")
        if options.get("bundle") and request.bundle is not None:
            with open(options["bundle"], "w", encoding="utf-8") as out:
                json.dump(request.bundle, out, indent=2, default=str)
            self.stdout.write(f"Bundle written to {options['bundle']}.")
        if request.status != PrivacyStatus.COMPLETE:
            raise CommandError(f"Privacy request #{request.pk} is not complete.")
