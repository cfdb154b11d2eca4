"""Braze: users through /users/track, custom attributes, segments with their size estimates,
API-triggered campaigns and Canvases.

Facts: ../shared/platforms/braze.md (Braze publishes no OpenAPI document). Each workspace lives
on one instance (US-01 … AU-01); the REST endpoint must be that instance's, and a key sent to
another instance is refused exactly like a wrong key (401), so the connection test asks the
other instances before calling a key wrong. Keys carry an immutable list of permissions; a
missing one answers 403 on that endpoint only, which is how a restricted key is found.

The client is assembled here from its parts: connection.py (key, errors, the connection test),
contacts.py (fields, /users/track, delete, export), segments.py and campaigns.py (triggered
sends), segment_push.py (SharpSend segments as the `sharpsend_segments` array attribute); api.py
holds what they share.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.braze.api import INSTANCES, OBJECTS_PER_REQUEST, REST
from integrations.platforms.braze.campaigns import (
    BROADCAST,
    CAMPAIGN,
    CANVAS,
    SEND_IDS,
    BrazeCampaigns,
)
from integrations.platforms.braze.connection import BrazeConnection
from integrations.platforms.braze.contacts import BrazeContacts
from integrations.platforms.braze.segment_push import BrazeSegmentPush
from integrations.platforms.braze.segments import BrazeSegments
from integrations.platforms.braze.webhooks import BrazeWebhooks
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

__all__ = ["BrazeClient", "INSTANCES", "OBJECTS_PER_REQUEST", "REST"]


@register
class BrazeClient(
    BrazeConnection,
    BrazeContacts,
    BrazeSegments,
    BrazeSegmentPush,
    BrazeCampaigns,
    BrazeWebhooks,
    PlatformClient,
):
    slug = "braze"
    label = "Braze"
    # Braze deletes asynchronously and irreversibly (docs/platforms/braze.md); no job id to follow.
    deletion_mode = "async"
    category = Category.CROSS_CHANNEL
    rate_limit_reset = "epoch"  # X-RateLimit-Reset: the Unix time the window reopens
    summary = (
        "Users and custom attributes through /users/track; segments with their size estimates; "
        "SharpSend segments pushed as the sharpsend_segments attribute; "
        "API-triggered campaigns and Canvases; user delete and export."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            # Through the `sharpsend_segments` array attribute (segment_push.py).
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
        }
    )
    # Made in Braze with API-triggered delivery (or entry); they send to their own audience.
    send_methods = (
        SendMethod(
            CAMPAIGN,
            "API-triggered campaign",
            trigger_only=True,
            needs_segment=False,
        ),
        SendMethod(
            CANVAS,
            "API-triggered Canvas",
            trigger_only=True,
            needs_segment=False,
        ),
    )
    unsupported_reasons = {
        Capability.LIST_SEGMENT_MEMBERS: "Braze gives a segment's users only as an "
        "asynchronous export (POST /users/export/segment, to cloud storage or a download URL), "
        "which the console does not read",
        # Fact sheet §7: content lives in the dashboard and the API triggers sends; no
        # endpoint sends a campaign or Canvas as a test.
        Capability.TEST_SEND: "its campaigns and Canvases are made in Braze and its API has no "
        "test send: send a test from the Braze dashboard",
        # Not by an event per reader: a journey's readers are a segment's members as imported
        # or pushed, and Braze segments' members are not read (LIST_SEGMENT_MEMBERS) while a
        # pushed segment is an attribute value whose Braze segment the console cannot name;
        # and Braze keeps every event (fact sheet §5: no de-duplication), so a batch repeated
        # after a crash would enter its readers twice.
        Capability.TRIGGER_JOURNEY: "a Canvas is triggered as an assignment's send method "
        "(API-triggered Canvas), for its own audience; not by an event per reader (Braze keeps "
        "every event it is sent, with no de-duplication, and its segments' members are not "
        "read in)",
        Capability.CAMPAIGN_METRICS: "its campaign analytics are not read (their email fields "
        "are unconfirmed); a send's figures are counted from its webhooks' events instead",
        Capability.LIST_CONTACTS: "Braze exports users only asynchronously, to cloud storage "
        "or a download URL (POST /users/export/segment); the console reads no such export",
        Capability.REGISTER_WEBHOOKS: (
            "Braze has no webhook API: Currents connectors are set up in the dashboard"
        ),
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "REST API key",
            "Braze dashboard → Settings → APIs and Identifiers → API Keys → Create API key, in "
            "the workspace to sync into. Tick users.track, users.delete, users.export.ids, "
            "segments.list, segments.data_series and custom_attributes.get, and to send "
            "campaigns.list, canvas.list, campaigns.trigger.send, canvas.trigger.send, "
            "sends.id.create, and to schedule campaigns.trigger.schedule.create, "
            "campaigns.trigger.schedule.delete, canvas.trigger.schedule.create and "
            "canvas.trigger.schedule.delete (permissions cannot be changed later; leave the IP allow-list "
            "empty or add this server).",
        ),
        CredentialField(
            "objects_per_request",
            "Objects per request",
            "75 (the standard limit). Enter 50 if your Braze contract is the “Monthly Active "
            "Users CY 24-25” package (Settings → APIs and Identifiers → API Usage shows it).",
            secret=False,
            required=False,
        ),
    )
    regions = {
        key: f"{key.upper()} (dashboard: {dashboard})" for key, (_, dashboard) in INSTANCES.items()
    }
    hosts = {REST: {key: url for key, (url, _) in INSTANCES.items()}}
    limits = Limits(
        batch_max_records=75,
        # /users/track documents no byte limit; ours keeps a request reasonable.
        batch_max_bytes=4_000_000,
        # Ours: Braze's only per-object size limit is 100 KB for event properties.
        record_max_bytes=100_000,
        rates={
            REST: Rate(250_000, 3600.0),
            "users.track": Rate(3000, 3.0),
            "custom_attributes": Rate(1000, 3600.0),
            "users.delete": Rate(20_000, 60.0),
            "users.export.ids": Rate(250, 60.0),
            # Triggers sent to a segment: 250 a minute; send ids: 100 a day (fact sheet §11).
            BROADCAST: Rate(250, 60.0),
            SEND_IDS: Rate(100, 86_400.0, burst=100),
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id")
    # A push writes the `sharpsend_segments` attribute with one /users/track object a member,
    # by email as the sync's suggested mapping names users (segment_push.py).
    segment_batch_max = 75
    accepts_new_fields = True
    # Braze answers an invalid address with an "invalid" error for its object.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "email_subscribe", "is_subscribed", False),
        ("created_at", "sharpsend_signup_date", "", False),
    )
