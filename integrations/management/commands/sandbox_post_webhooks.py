"""The sandbox's emulators post their pending webhooks now: `manage.py sandbox_post_webhooks`."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from integrations.sandbox import outbound, scheduled
from integrations.sandbox.models import SandboxWebhookDelivery


class Command(BaseCommand):
    help = (
        "Make the sandbox's emulators post the webhooks their accounts hold: the engagement of "
        "their sends so far and the changes made in them, signed as each platform signs. "
        "--unsubscribe makes a reader unsubscribe in an emulator first; --replay-last and "
        "--forge-last post the last delivery again, as it was or with a forged signature. "
        "Only while the sandbox is on (SANDBOX_ENABLED)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--platform", default="", help="Only this emulator (its slug).")
        parser.add_argument(
            "--hours-later",
            type=float,
            default=0.0,
            help="Post what will have happened this many hours from now (the engagement of "
            "sends runs over 72 hours).",
        )
        parser.add_argument("--unsubscribe", metavar="EMAIL", help="A reader unsubscribes.")
        parser.add_argument("--account", default="", help="The sandbox account (default: demo).")
        parser.add_argument("--replay-last", action="store_true")
        parser.add_argument("--forge-last", action="store_true")

    def handle(self, *args, platform, hours_later, unsubscribe, account, **options):
        if not settings.SANDBOX_ENABLED:
            raise CommandError("The sandbox is off (SANDBOX_ENABLED): no emulator posts.")
        declared = outbound.declared()
        if platform and platform not in declared:
            raise CommandError(
                f"No emulator posts webhooks as '{platform}'. Those that do: "
                f"{', '.join(sorted(declared))}."
            )
        if unsubscribe:
            if not platform:
                raise CommandError("--unsubscribe needs --platform.")
            try:
                event = outbound.reader_unsubscribes(platform, unsubscribe, account)
            except LookupError as exc:
                raise CommandError(str(exc)) from None
            self.stdout.write(f"{platform}/{event.account}: {event.email} unsubscribed.")
        if options["replay_last"] or options["forge_last"]:
            self._again(platform, forged=options["forge_last"])
            return
        now = timezone.now() + timedelta(hours=hours_later)
        delivered = scheduled.deliver_due(now)  # scheduled sends due by then go out first
        if delivered:
            self.stdout.write(f"{delivered} scheduled sends delivered.")
        report = outbound.post_pending(now, platform)
        self.stdout.write(report.summary())
        for delivery in report.deliveries:
            status = delivery.status if delivery.status is not None else delivery.error
            self.stdout.write(f"  {delivery.hook}: {delivery.events} event(s) → {status}")

    def _again(self, platform: str, *, forged: bool) -> None:
        deliveries = SandboxWebhookDelivery.objects.select_related("hook").order_by("-pk")
        if platform:
            deliveries = deliveries.filter(hook__platform=platform)
        last = deliveries.first()
        if last is None:
            raise CommandError("No delivery has been posted yet.")
        status = outbound.forge(last) if forged else outbound.replay(last)
        what = "forged" if forged else "replayed"
        self.stdout.write(f"{last.hook}: delivery {last.pk} {what} → {status}")
