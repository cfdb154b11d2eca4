"""Creating or changing an integration from what the setup wizard collected, in one step."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import orjson
from django.db import transaction

from integrations.forms import endpoint_moved
from integrations.models import AuditAction, FieldMapping, Integration, OAuthConnection
from integrations.platforms.registry import get_platform
from integrations.platforms.types import AuthMethod, ConnectionReport
from integrations.services import audit, connection, oauth, schedules
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
        # Settings that move a saved integration to another endpoint are tested as a new
        # integration's: its stored OAuth token is not read for them (it stays behind).
        moved = instance is not None and endpoint_moved(
            instance.api_base_url, instance.region, self.api_base_url, self.region
        )
        integration = Integration(pk=instance.pk if instance and not moved else None)
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


MOVED_TOKEN_MESSAGE = (
    "The API base URL or region changed, so the OAuth connection was removed (a token is "
    "never sent to another host): reconnect."
)


def drop_moved_token(integration: Integration, old_base_url: str, old_region: str) -> bool:
    """Delete the integration's OAuth connection when its endpoint moved; True if one was.

    The same rule as the stored secrets (`forms.credentials_for`): a token issued for one
    endpoint is never sent to another one.
    """
    if not endpoint_moved(old_base_url, old_region, integration.api_base_url, integration.region):
        return False
    deleted, _ = OAuthConnection.objects.filter(integration_id=integration.pk).delete()
    return bool(deleted)


def needs_reconnect(integration: Integration) -> bool:
    """After its token was dropped: True unless an API key can connect it instead."""
    platform = integration.platform_class
    has_key = AuthMethod.API_KEY in platform.auth_methods and any(
        integration.secrets.get(c.key) for c in platform.credential_fields if c.secret
    )
    return not has_key


@transaction.atomic
def save_integration(
    draft: Draft,
    instance: Integration | None = None,
    *,
    report: ConnectionReport,
    actor=None,
    via: str = "wizard",
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
    before = audit.snapshot(instance)
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
    dropped = bool(before) and drop_moved_token(
        integration, before["api_base_url"], before["region"]
    )
    if draft.oauth_token:
        oauth.save_connection(integration, draft.oauth_token)
    audit.integration_saved(before, integration, actor=actor, via=via)
    if dropped:
        audit.record(
            AuditAction.OAUTH_DISCONNECTED,
            actor=actor,
            via=via,
            target=integration,
            summary="OAuth connection removed: the API base URL or region changed.",
        )
    if draft.oauth_token:
        audit.record(AuditAction.OAUTH_CONNECTED, actor=actor, via=via, target=integration)
    return integration
