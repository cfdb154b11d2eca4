"""Kit (formerly ConvertKit), API v4 with an API key: subscribers, custom fields, tags with
member counts, read-only segments, a subscriber export.

Facts: ../shared/platforms/kit.md. Kit's bulk endpoints (`/v4/bulk/…`) accept OAuth tokens
only; with an API key the console writes one subscriber a call (`POST /v4/subscribers`, an
upsert by email) within the key's 120 requests a minute. OAuth arrives in a later issue.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.kit.api import API, SEGMENT, TAG
from integrations.platforms.kit.broadcasts import KitBroadcasts
from integrations.platforms.kit.connection import KitConnection
from integrations.platforms.kit.contacts import MAX_CUSTOM_FIELDS, STANDARD_FIELDS, KitContacts
from integrations.platforms.kit.members import KitMembers
from integrations.platforms.kit.metrics import KitMetrics
from integrations.platforms.kit.profiles import KitProfiles
from integrations.platforms.kit.segment_push import KitSegmentPush
from integrations.platforms.kit.segments import KitSegments
from integrations.platforms.kit.webhooks import KitWebhooks
from integrations.platforms.registry import register
from integrations.platforms.sending import SendMethod
from integrations.platforms.types import (
    Capability,
    Category,
    CredentialField,
    Limits,
    Rate,
    TimestampFormat,
)

__all__ = ["API", "MAX_CUSTOM_FIELDS", "SEGMENT", "STANDARD_FIELDS", "TAG", "KitClient"]


@register
class KitClient(
    KitConnection,
    KitContacts,
    KitSegments,
    KitMembers,
    KitProfiles,
    KitWebhooks,
    KitMetrics,
    KitSegmentPush,
    KitBroadcasts,
    PlatformClient,
):
    slug = "kit"
    label = "Kit"
    category = Category.EMAIL
    summary = (
        "Subscribers and custom fields, one upsert a call with an API key (bulk endpoints need "
        "OAuth); tags with member counts and segments; SharpSend segments pushed as tags; "
        "subscriber export."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            # Signed webhook endpoints, their secret handed back at creation.
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.LIST_SEGMENT_MEMBERS,
            Capability.LIST_CONTACTS,
            # SharpSend segments are pushed as tags (Kit segments are read-only).
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.CAMPAIGN_METRICS,
        }
    )
    send_methods = (SendMethod("broadcast", "Broadcast"),)
    rate_limited_by = ("api_key",)  # Kit counts 120 requests a minute per API key
    unsupported_reasons = {
        Capability.TEST_SEND: "the v4 API has no test-send endpoint",
        Capability.DELETE_CONTACT: "Kit's API has no way to delete a subscriber; delete them "
        "in the Kit app (the API can only unsubscribe)",
        Capability.TRACK_EVENTS: "Kit's API takes no custom events (only purchases)",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key (v4)",
            "Kit → Settings → Developer → API keys (v4) → Add a new key. Shown once. The "
            "older v3 API key and API secret do not work here.",
        ),
    )
    regions = {"global": "Kit (one host)"}
    hosts = {API: {"global": "https://api.kit.com"}}
    limits = Limits(
        # With an API key every subscriber is its own request, so the record cap is the sync's
        # checkpoint granularity; Kit documents no body limit for one subscriber.
        batch_max_records=50,  # one call a subscriber: a checkpoint every ~25 s
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        rates={API: Rate(120, 60.0)},  # per API key
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email",)  # sent as email_address
    segment_batch_max = 50  # one call a member: a checkpoint every ~25 s at 120 a minute
    # Kit answers an invalid address with 422; its custom fields are text.
    contact_rules = (rules.EmailSyntax(code="422"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "state", "", False),
    )
