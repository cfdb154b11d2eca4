"""Creating or changing an integration from what the setup wizard collected, in one step."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson
from django.db import transaction

from integrations.models import FieldMapping, Integration
from integrations.platforms.registry import get_platform
from integrations.platforms.types import ConnectionReport
from integrations.services import connection, oauth, schedules
from integrations.services.mapping import MappingError, check_mappings


@dataclass
class Draft:
    """An integration as the wizard describes it; nothing is stored until `save_integration`."""

    platform: str
    name: str
    region: str = ""
    api_base_url: str = ""
    credentials: dict[str, str] = field(default_factory=dict)
    mappings: list[dict] = field(default_factory=list)  # source, target, transform, is_identifier
    sync_frequency: str = "manual"
    update_existing: bool = True
    oauth_token: dict | None = None  # from the platform's consent screen, saved with it

    def integration(self, instance: Integration | None = None) -> Integration:
        """An unsaved Integration with these settings (for testing and listing fields)."""
        integration = Integration(pk=instance.pk if instance else None)
        integration.platform = self.platform
        integration.name = self.name
        integration.region = self.region
        integration.api_base_url = self.api_base_url
        integration.credentials = dict(self.credentials)
        integration.sync_frequency = self.sync_frequency
        integration.update_existing = self.update_existing
        if self.oauth_token:
            integration.token_source = oauth.PendingTokens(integration, self.oauth_token)
        return integration

    def mapping_objects(self) -> list[FieldMapping]:
        return [
            FieldMapping(
                source=m["source"],
                target=m["target"],
                transform=m.get("transform", ""),
                is_identifier=bool(m.get("is_identifier")),
            )
            for m in self.mappings
        ]


def connection_fingerprint(draft: Draft) -> str:
    """Identifies one set of connection settings (to reuse a test or a field list for it)."""
    access = (draft.oauth_token or {}).get("access_token", "")
    data = [
        draft.platform,
        draft.region,
        draft.api_base_url,
        sorted(draft.credentials.items()),
        access,
    ]
    return hashlib.blake2b(orjson.dumps(data), digest_size=16).hexdigest()


@transaction.atomic
def save_integration(
    draft: Draft, instance: Integration | None = None, *, report: ConnectionReport
) -> Integration:
    """Store the integration and its mappings together, and set its sync schedule.

    `report` is the wizard's connection test of these very settings: it is recorded on the
    integration (the admin shows it) and sets its status, so a passing test makes it
    connected and nothing else does. The mappings are checked once more here so that no path
    can store an unusable set.
    """
    platform = get_platform(draft.platform)
    if not report.ok:
        raise ValueError("An integration is saved only after its connection test passed.")
    problems = check_mappings(draft.mapping_objects(), platform, None)
    if problems:
        raise MappingError(" ".join(problems))
    integration = instance or Integration(platform=draft.platform)
    integration.name = draft.name
    integration.region = draft.region
    integration.api_base_url = draft.api_base_url
    integration.credentials = dict(draft.credentials)
    integration.sync_frequency = draft.sync_frequency
    integration.update_existing = draft.update_existing
    connection.record_report(integration, report, new_settings=True)
    integration.save()
    schedules.sync_schedule(integration)
    integration.field_mappings.all().delete()
    mappings = draft.mapping_objects()
    for mapping in mappings:
        mapping.integration = integration
    FieldMapping.objects.bulk_create(mappings)
    if draft.oauth_token:
        oauth.save_connection(integration, draft.oauth_token)
    return integration
