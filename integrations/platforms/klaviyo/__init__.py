"""Klaviyo: profiles through the asynchronous bulk import job; lists and segments with counts.

Facts: ../shared/platforms/klaviyo.md; request bodies are checked against Klaviyo's OpenAPI
document (../shared/specs/klaviyo/stable.json) in the tests. JSON:API everywhere, a pinned
`revision` header on every call, and `Authorization: Klaviyo-API-Key <private key>`.

A chunk of profiles goes out as one bulk import job (or a few, when the bytes demand it); the
sync service checkpoints the submitted job ids, so a run that dies while Klaviyo works resumes
by reading the same jobs. Per-profile failures come from the job's import-errors.

The client is assembled here from its parts: connection.py (key, headers, errors, the
connection test), contacts.py (fields, the bulk import job, privacy), segments.py (lists
and segments) and members.py (who is in a list or segment); api.py holds what they share.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.klaviyo.api import API, JOBS, MEDIA_TYPE, REVISION
from integrations.platforms.klaviyo.campaigns import CAMPAIGNS, TEMPLATES, KlaviyoCampaigns
from integrations.platforms.klaviyo.connection import KlaviyoConnection, KlaviyoKeyAuth
from integrations.platforms.klaviyo.contacts import KlaviyoContacts
from integrations.platforms.klaviyo.journeys import KlaviyoJourneys
from integrations.platforms.klaviyo.members import KlaviyoMembers
from integrations.platforms.klaviyo.metrics import REPORTS, KlaviyoMetrics
from integrations.platforms.klaviyo.profiles import KlaviyoProfiles
from integrations.platforms.klaviyo.segment_push import KlaviyoSegmentPush
from integrations.platforms.klaviyo.segments import KlaviyoSegments
from integrations.platforms.klaviyo.webhooks import KlaviyoWebhooks
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

__all__ = ["API", "JOBS", "MEDIA_TYPE", "REVISION", "KlaviyoClient", "KlaviyoKeyAuth"]


@register
class KlaviyoClient(
    KlaviyoConnection,
    KlaviyoContacts,
    KlaviyoProfiles,
    KlaviyoSegments,
    KlaviyoMembers,
    KlaviyoCampaigns,
    KlaviyoWebhooks,
    KlaviyoMetrics,
    KlaviyoSegmentPush,
    KlaviyoJourneys,
    PlatformClient,
):
    slug = "klaviyo"
    label = "Klaviyo"
    # A data privacy deletion job, processed asynchronously (docs/platforms/klaviyo.md).
    deletion_mode = "async"
    category = Category.EMAIL
    summary = (
        "Profiles through the bulk profile import job; lists and segments with profile counts "
        "and their members; "
        "profile deletion through a data privacy request; SharpSend segments pushed as lists."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            # Lists' and segments' profiles, 100 a page by cursor: members.py.
            Capability.LIST_SEGMENT_MEMBERS,
            Capability.LIST_CONTACTS,
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.TRIGGER_JOURNEY,
            # One values report for all the sends due (225 a day): metrics.py.
            Capability.CAMPAIGN_METRICS,
        }
    )
    send_methods = (
        SendMethod("campaign", "Email campaign"),
        # A flow in Klaviyo triggered by the metric sharpsend_assignment_approved (journeys.py).
        SendMethod(
            "journey_event",
            "Flow (event)",
            can_schedule=False,
            schedule_note="the event goes to each reader on approval; delay the flow in Klaviyo",
            per_reader=True,
            reports_metrics=False,
        ),
    )
    unsupported_reasons = {
        # specs/klaviyo/stable.json has no test or preview send for campaigns (template-render
        # renders a template and sends nothing).
        Capability.TEST_SEND: "its API has no test send for campaigns: send a test from "
        "Klaviyo's campaign editor",
    }
    credential_fields = (
        CredentialField(
            "private_api_key",
            "Private API key",
            "Klaviyo → account menu (bottom left) → Settings → Account → API keys → Create "
            "Private API Key. Choose Custom with Profiles: Full, Lists: Full, Segments: Read, "
            "Accounts: Read and Data Privacy: Full (or Full Access); Campaigns: Full and "
            "Templates: Full to send assignments; Events: Full to trigger flows by event. "
            "Starts with pk_; shown once.",
        ),
    )
    regions = {"global": "Global (a.klaviyo.com)"}
    hosts = {API: {"global": "https://a.klaviyo.com"}}
    limits = Limits(
        batch_max_records=10_000,
        batch_max_bytes=5_000_000,
        record_max_bytes=100_000,
        rates={
            API: Rate(700, 60.0, burst=75),
            "bulk_import": Rate(150, 60.0, burst=10),
            "event_jobs": Rate(150, 60.0, burst=10),  # event-bulk-create-jobs: 10/s, 150/m
            "bulk_import.read": Rate(150, 60.0, burst=10),
            "accounts": Rate(15, 60.0),
            # get_list / get_segment asking for profile_count: 1/s, 15/m each
            "list_count": Rate(15, 60.0),
            "segment_count": Rate(15, 60.0),
            "data_privacy": Rate(60, 60.0, burst=3),
            # Campaign endpoints share 10/s and 150/m (fact sheet §7); templates the same tier.
            CAMPAIGNS: Rate(150, 60.0, burst=10),
            TEMPLATES: Rate(150, 60.0, burst=10),
            # create_list: 10/s, 150/m (and 150 a day); list membership: 10/s, 150/m
            "list_create": Rate(150, 60.0, burst=10),
            "list_members": Rate(150, 60.0, burst=10),
            # get_webhooks, create_webhook, get_webhook_topics: 1/s, 15/m (the spec)
            "webhooks": Rate(15, 60.0),
            # campaign-values-reports (and every values report): 1/s, 2/m, 225 a day
            REPORTS: Rate(2, 60.0),
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id", "phone_number")
    accepts_new_fields = True
    segment_batch_max = 1000  # profile ids per list relationships call
    # Klaviyo's bulk import reports an invalid email as "invalid"; properties are untyped.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        # Marketing consent is separate from profile data in Klaviyo (subscription jobs): the
        # reader's status goes in a property a segment can filter on.
        ("status", "sharpsend_status", "", False),
        ("created_at", "sharpsend_signup_date", "", False),
    )
