"""Create the demo audience and one sandbox integration per emulated platform."""

from django.core.management.base import BaseCommand

from audience.demo import create_demo_audience
from campaigns.demo import queue_demo_assignments
from integrations.models import SyncTrigger
from integrations.services.demo import create_demo_integrations
from integrations.services.queue import enqueue_register_webhooks, enqueue_sync
from integrations.services.webhook_registration import supports_registration

from ._common import OPERATOR_NOTE


class Command(BaseCommand):
    help = (
        "Create demo subscribers and sandbox integrations, queue their first syncs, and two "
        "demo assignments (one sent once the syncs are done, one left in review)." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        # Small enough that the platforms with tight limits (Front 50 and Kit 120 requests a
        # minute, Crisp's daily quota) finish their first demo sync within minutes.
        parser.add_argument("--subscribers", type=int, default=120)
        parser.add_argument("--base-url", help="The sandbox's URL (default: SANDBOX_BASE_URL).")
        parser.add_argument("--no-sync", action="store_true", help="Do not queue syncs.")
        parser.add_argument(
            "--no-webhooks",
            action="store_true",
            help="Do not queue registering the webhooks with the emulators that take them.",
        )

    def handle(self, *args, subscribers, base_url, no_sync, no_webhooks, **options):
        added = create_demo_audience(subscribers)
        self.stdout.write(f"Demo audience: {added} subscribers added ({subscribers} in all).")
        for integration in create_demo_integrations(base_url):
            line = f"Sandbox integration: {integration.name}"
            if not no_sync:
                run, created = enqueue_sync(
                    integration, SyncTrigger.COMMAND, via="manage.py seed_demo"
                )
                line += f" — sync run #{run.pk} {'queued' if created else 'already ' + run.status}"
            by_hand = getattr(integration.platform_class.webhook_registration, "secret_by_hand", "")
            if not no_webhooks and supports_registration(integration) and by_hand:
                # Its deliveries would be refused until a person pastes the signing key: left
                # to them, so the demo's webhook inbox does not fill with refusals.
                line += (
                    "; webhook not registered (its signing key is copied by hand: Register "
                    "webhooks in the admin, then paste the key the sandbox index shows)"
                )
            elif not no_webhooks and supports_registration(integration):
                enqueue_register_webhooks(integration, via="manage.py seed_demo")
                line += "; webhook registration queued"
            self.stdout.write(line)
        if not no_sync:
            queue_demo_assignments()
            self.stdout.write(
                "Demo assignments: queued (one is sent once the Mailchimp and Customer.io "
                "sandbox syncs are done; the other waits in review for you to approve)."
            )
