"""Register an integration's webhook with its platform now: `manage.py register_webhooks ID|NAME`."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from integrations.models import AuditAction
from integrations.platforms.errors import PlatformError
from integrations.services import webhook_registration

from ._common import OPERATOR_NOTE, audited, find_integration


class Command(BaseCommand):
    help = (
        "Register the integration's webhook URL with its platform inline (an existing webhook "
        "on the same URL is reused, never doubled); exit code 1 when the platform's API cannot "
        "or refuses." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("integration", help="The integration's id or exact name.")

    def handle(self, *args, integration: str, **options):
        target = find_integration(integration)
        try:
            result = webhook_registration.register_webhooks(target)
        except PlatformError as exc:
            raise CommandError(f"{target}: {exc.message}") from None
        summary = result.summary()
        audited("register_webhooks", AuditAction.WEBHOOKS_REGISTERED, target, summary)
        self.stdout.write(f"{target}: {summary}")
        for hook in result.hooks:
            state = "active" if hook.active else f"not active ({hook.status or 'waiting'})"
            events = ", ".join(hook.events)
            self.stdout.write(f"  {hook.remote_id}: {hook.endpoint} [{events}] {state}")
