"""How a profile coming in from a platform (import, webhook) meets the SharpSend subscriber.

One rule for every way a profile arrives: the integration's conflict policy decides which side
keeps a field, and an opt-out always wins — nothing that comes in ever re-subscribes a reader
SharpSend holds as unsubscribed, bounced or complained.
"""

from __future__ import annotations

from typing import Any

from django.db import models

PROFILE_FIELDS = ("first_name", "last_name")


class ConflictPolicy(models.TextChoices):
    SHARPSEND_WINS = "sharpsend_wins", "SharpSend wins (existing subscribers are not changed)"
    PLATFORM_WINS = "platform_wins", "Platform wins (incoming values replace SharpSend's)"
    FILL_BLANKS = "fill_blanks", "Fill blanks only"


def merge_profile(subscriber, incoming: dict[str, Any], policy: str, *, is_new: bool) -> list[str]:
    """Apply `incoming` (first_name, last_name, status, attributes) to `subscriber` in memory.

    Returns the names of the fields changed; the caller saves. A new subscriber takes every
    incoming value whatever the policy.
    """
    changed: list[str] = []
    take_all = is_new or policy == ConflictPolicy.PLATFORM_WINS
    fill_only = not take_all and policy == ConflictPolicy.FILL_BLANKS
    if take_all or fill_only:
        for name in PROFILE_FIELDS:
            value = incoming.get(name)
            if value in (None, "") or getattr(subscriber, name) == value:
                continue
            if take_all or not getattr(subscriber, name):
                setattr(subscriber, name, value)
                changed.append(name)
        attributes = _merged_attributes(subscriber.attributes or {}, incoming, fill_only)
        if attributes != (subscriber.attributes or {}):
            subscriber.attributes = attributes
            changed.append("attributes")
    status = _merged_status(subscriber.status, incoming.get("status"), is_new=is_new)
    if status != subscriber.status:
        subscriber.status = status
        changed.append("status")
    return changed


def _merged_attributes(current: dict, incoming: dict, fill_only: bool) -> dict:
    merged = dict(current)
    for key, value in (incoming.get("attributes") or {}).items():
        if value in (None, ""):
            continue
        if fill_only and merged.get(key) not in (None, ""):
            continue
        merged[key] = value
    return merged


def _merged_status(current: str, incoming: str | None, *, is_new: bool) -> str:
    from audience.models import OPTED_OUT, SubscriberStatus

    if not incoming or incoming == current:
        return current
    if incoming in OPTED_OUT:
        return incoming
    if incoming == SubscriberStatus.SUBSCRIBED and (is_new or current not in OPTED_OUT):
        return incoming
    return current
