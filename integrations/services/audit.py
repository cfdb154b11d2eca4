"""The audit log: one `record` for every path that changes or runs something.

An integration's credentials never reach an entry: `integration_changes` lists them by key
name as "changed" or "unchanged" only. The actor is the signed-in user; a management command
or the system has none and says where it came from in `via` ("manage.py sync_integration").
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from integrations.models import AuditAction, AuditEntry, Integration

# The integration's settings an entry shows old and new values of (never the credentials,
# nor what the console itself writes: status, reports, timestamps).
TRACKED_FIELDS = (
    "platform",
    "name",
    "api_base_url",
    "region",
    "sync_frequency",
    "update_existing",
    "enabled",
)
CHANGED, UNCHANGED = "changed", "unchanged"


def _actor(user):
    return user if user is not None and getattr(user, "is_authenticated", False) else None


def record(
    action: str,
    *,
    actor=None,
    via: str = "",
    target: models.Model | None = None,
    label: str = "",
    summary: str = "",
    changes: dict | None = None,
) -> AuditEntry:
    """Write one entry. `label` defaults to str(target) and stays after the target is gone."""
    AuditAction(action)  # a ValueError for an action that has no name
    actor = _actor(actor)
    return AuditEntry.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_name=actor.get_username() if actor is not None else "",
        via=via[:100],
        action=action,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None and target.pk is not None else "",
        target_label=(label or (str(target) if target is not None else ""))[:200],
        summary=summary,
        changes=changes or {},
    )


def snapshot(integration: Integration | None) -> dict:
    """What `integration_changes` compares: the tracked settings and the credentials."""
    if integration is None:
        return {}
    values = {name: getattr(integration, name) for name in TRACKED_FIELDS}
    values["credentials"] = dict(integration.credentials or {})
    return values


def integration_changes(before: dict, after: Integration) -> dict:
    """field → [old, new] for the settings that changed, and credential key → "changed" /
    "unchanged" (as `credentials.<key>`), never a credential's value. `before` is a
    `snapshot` ({} for a new integration)."""
    now = snapshot(after)
    changes: dict = {}
    for name in TRACKED_FIELDS:
        old = before.get(name)
        if not before or old != now[name]:
            changes[name] = [old, now[name]]
    old_secrets = before.get("credentials", {})
    new_secrets = now["credentials"]
    for key in sorted(set(old_secrets) | set(new_secrets)):
        same = old_secrets.get(key) == new_secrets.get(key)
        changes[f"credentials.{key}"] = UNCHANGED if same else CHANGED
    return changes


def secrets_changed(changes: dict) -> list[str]:
    """The credential keys an `integration_changes` result says were changed."""
    return [
        name.removeprefix("credentials.")
        for name, value in changes.items()
        if name.startswith("credentials.") and value == CHANGED
    ]


def integration_saved(before: dict, integration: Integration, *, actor, via: str) -> None:
    """Entries for a created or changed integration: the settings, and its credentials
    (a separate "credentials changed" entry naming the keys, so that it can be filtered)."""
    changes = integration_changes(before, integration)
    created = not before
    settings_changed = {k: v for k, v in changes.items() if not k.startswith("credentials.")}
    if created or settings_changed:
        record(
            AuditAction.INTEGRATION_CREATED if created else AuditAction.INTEGRATION_CHANGED,
            actor=actor,
            via=via,
            target=integration,
            summary=(
                f"{integration.get_platform_display()} integration created"
                if created
                else "Changed: " + ", ".join(settings_changed)
            ),
            changes=changes,
        )
    keys = secrets_changed(changes)
    if keys and not created:
        record(
            AuditAction.SECRETS_CHANGED,
            actor=actor,
            via=via,
            target=integration,
            summary="Credentials changed: " + ", ".join(keys),
            changes={f"credentials.{k}": CHANGED for k in keys},
        )


def integration_deleted(integration: Integration, *, actor, via: str) -> None:
    record(
        AuditAction.INTEGRATION_DELETED,
        actor=actor,
        via=via,
        target=integration,
        summary=f"{integration.get_platform_display()} integration deleted",
    )
