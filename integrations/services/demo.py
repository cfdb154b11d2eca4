"""Demo integrations: one per platform the sandbox emulates, connected to its sandbox."""

from __future__ import annotations

from django.conf import settings
from django.db import transaction

from integrations.models import FieldMapping, Integration, OAuthConnection, SyncFrequency
from integrations.platforms.registry import all_platforms
from integrations.platforms.types import AuthMethod
from integrations.sandbox import accounts
from integrations.sandbox import oauth as sandbox_oauth
from integrations.sandbox import registry as sandbox
from integrations.services import oauth, queue, schedules

# Custom attributes of the demo audience, mapped wherever a platform accepts new fields.
DEMO_ATTRIBUTES = (("attributes.interest", "interest"), ("attributes.plan", "plan"))


@transaction.atomic
def create_demo_integrations(base_url: str | None = None) -> list[Integration]:
    """Create (or refresh) a sandbox integration for every emulated platform.

    Each one's connection test is queued: its status comes from that test's answer.
    """
    base_url = (base_url or settings.SANDBOX_BASE_URL).rstrip("/")
    created = []
    for platform in all_platforms():
        if not sandbox.emulated(platform.slug):
            continue
        sandbox.seed(platform.slug)
        account = accounts.demo_account(platform.slug)
        integration, _ = Integration.objects.update_or_create(
            name=f"{platform.label} (sandbox)",
            defaults={
                "platform": platform.slug,
                "api_base_url": f"{base_url}/{platform.slug}",
                "region": account.region,
                "credentials": dict(account.credentials),
                "sync_frequency": SyncFrequency.HOURLY,
            },
        )
        schedules.sync_schedule(integration)
        if AuthMethod.OAUTH in platform.auth_methods and not platform.credential_fields:
            if not OAuthConnection.objects.filter(integration=integration).exists():
                # As if the demo user had pressed Allow on the sandbox's consent page.
                oauth.save_connection(integration, sandbox_oauth.issue_demo_token(platform.slug))
        if not integration.field_mappings.exists():
            rows = [
                FieldMapping(
                    integration=integration,
                    source=source,
                    target=target,
                    transform=transform,
                    is_identifier=identifier,
                )
                for source, target, transform, identifier in platform.suggested_mappings
            ]
            extra = sandbox.demo_mappings(platform.slug)
            if extra is None:
                extra = DEMO_ATTRIBUTES if platform.accepts_new_fields else ()
            rows += [
                FieldMapping(integration=integration, source=source, target=target)
                for source, target in extra
            ]
            FieldMapping.objects.bulk_create(rows)
        # Draft until a real test of the connection passes: queued (it runs once the q
        # cluster starts, when the sandbox is served), ahead of the first syncs.
        queue.enqueue_test_connection(integration)
        created.append(integration)
    return created
