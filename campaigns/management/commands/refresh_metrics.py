"""Read sends' metrics back now: `manage.py refresh_metrics [--assignment ID]`."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from campaigns.models import CampaignSend, SendState
from campaigns.services import metrics

from ._common import find_assignment


class Command(BaseCommand):
    help = (
        "Read the metrics of the sends that are due (every 30 minutes for 48 hours after a "
        "send, then daily for 30 days), or of every sent send of one assignment with "
        "--assignment, and print each send's figures. It runs as the machine's operator."
    )

    def add_arguments(self, parser):
        parser.add_argument("--assignment", help="Read every sent send of this assignment now.")

    def handle(self, *args, assignment: str | None = None, **options):
        sends = None
        if assignment:
            sends = CampaignSend.objects.filter(
                target__assignment=find_assignment(assignment), state=SendState.SENT
            ).select_related("target__integration")
        result = metrics.refresh_metrics(sends)
        self.stdout.write(
            f"{result.read} sends read, {len(result.failed)} failed, "
            f"{result.unsupported} with no figures to read (their platform reports none for "
            "them, or only by webhooks, none of which has come in yet)."
        )
        for problem in result.failed:
            self.stdout.write(self.style.WARNING(problem))
        if sends is not None:
            for send in sends:
                snapshot = metrics.latest(send)
                if snapshot is None:
                    continue
                rate = lambda r: f"{r:.1%}" if r is not None else "—"  # noqa: E731
                self.stdout.write(
                    f"  {send.target}: sent {snapshot.sent}, delivered {snapshot.delivered}, "
                    f"opened {snapshot.opened} ({rate(snapshot.open_rate)}), clicked "
                    f"{snapshot.clicked} ({rate(snapshot.click_rate)}), bounced "
                    f"{snapshot.bounced}, unsubscribed {snapshot.unsubscribed}"
                )
