"""What a trigger-only target can trigger: the broadcasts, campaigns or journeys its platform
lists, offered in the target form and checked before the target is saved."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.cache import cache

from integrations import metering
from integrations.models import ApiFeature, Integration
from integrations.platforms.errors import PlatformError

CACHE_SECONDS = 300  # a broadcast made on the platform shows up within five minutes


@dataclass(frozen=True)
class TriggerChoices:
    """(remote id, name) pairs; `error` when the platform could not be asked."""

    choices: list[tuple[str, str]] = field(default_factory=list)
    error: str = ""

    def label_of(self, remote_id: str) -> str | None:
        return next((name for key, name in self.choices if key == remote_id), None)


def _cache_key(integration: Integration, method: str) -> str:
    # The integration's updated_at is in the key: new credentials or a new host ask afresh.
    return f"trigger-choices:{integration.pk}:{integration.updated_at.timestamp()}:{method}"


@metering.feature(ApiFeature.SENDS)
def trigger_choices(integration: Integration, method: str) -> TriggerChoices:
    """What `method` of `integration` can trigger (none when the method is not trigger-only)."""
    send_method = integration.platform_class.send_method(method)
    if send_method is None or not send_method.trigger_only:
        return TriggerChoices()
    key = _cache_key(integration, method)
    cached = cache.get(key)
    if cached is not None:
        return TriggerChoices([tuple(pair) for pair in cached])
    try:
        choices = [(str(k), str(v)) for k, v in integration.client().trigger_choices(method)]
    except PlatformError as exc:
        return TriggerChoices(error=f"{integration.platform_class.label}: {exc.message}")
    cache.set(key, choices, CACHE_SECONDS)
    return TriggerChoices(choices)


def choice_problem(integration: Integration, method: str, remote_id: str) -> str:
    """Why `remote_id` cannot be triggered ("" when it can, or when the platform lists none)."""
    found = trigger_choices(integration, method)
    if not found.choices or found.label_of(remote_id) is not None:
        return ""
    offered = "; ".join(f"{name} ({key})" for key, name in found.choices[:10])
    return f"{integration.platform_class.label} has no such {method.replace('_', ' ')}: it offers {offered}."
