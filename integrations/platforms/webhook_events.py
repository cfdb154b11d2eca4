"""Webhook events in the console's terms, and the small readers every platform's normaliser
(integrations/platforms/<slug>/webhooks.py) uses on its payloads."""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


class Kind(enum.StrEnum):
    """audience.models.EngagementKind's values (the platform layer does not import models;
    tests/integrations/webhooks/test_engine.py keeps the two equal)."""

    DELIVERED = "delivered"
    OPENED = "opened"
    CLICKED = "clicked"
    BOUNCED_HARD = "bounced_hard"
    BOUNCED_SOFT = "bounced_soft"
    UNSUBSCRIBED = "unsubscribed"
    COMPLAINED = "complained"
    CONTACT_CREATED = "contact_created"
    CONTACT_UPDATED = "contact_updated"
    CONTACT_DELETED = "contact_deleted"


@dataclass(frozen=True)
class NormalisedEvent:
    """One thing a platform reports, in the console's terms (audience.models.EngagementKind)."""

    kind: Kind
    occurred_at: datetime
    event_id: str = ""
    email: str = ""
    platform_id: str = ""
    remote_campaign_id: str = ""
    remote_send_id: str = ""  # the campaign's one send (trigger) it is about, if named
    url: str = ""
    data: dict = field(default_factory=dict)


def parse_timestamp(value: str, unit: str) -> float:
    """Unix seconds from a timestamp as a platform sends it (ValueError if unreadable)."""
    value = value.strip()
    if not value:
        raise ValueError("empty")
    try:
        number = float(value)
    except ValueError:
        if unit != "any":
            raise
    else:
        if unit == "ms" or (unit == "any" and number > 1e11):
            return number / 1000
        return number
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        moment = parsedate_to_datetime(value)  # raises ValueError/TypeError when not one
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def when(value, unit: str = "any") -> datetime:
    """A platform's timestamp (number, ISO or HTTP-date) as an aware datetime (UTC)."""
    if isinstance(value, int | float):
        value = str(value)
    return datetime.fromtimestamp(parse_timestamp(str(value or ""), unit), tz=UTC)


def json_body(body: bytes):
    """The parsed JSON body (ValueError when it is not JSON)."""
    return json.loads(body.decode("utf-8"))


def dig(data, path: str, default=""):
    """`data["a"]["b"]` for path "a.b", or `default` where a step is missing."""
    for step in path.split("."):
        if not isinstance(data, Mapping) or step not in data:
            return default
        data = data[step]
    return default if data is None else data


def first(data, *paths: str, default=""):
    """The first of `paths` that is present and not empty."""
    for path in paths:
        value = dig(data, path, None)
        if value not in (None, ""):
            return value
    return default


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()
