"""Mailchimp (Marketing API 3.0): audience members through batch subscribe, merge fields,
segments and tags with member counts, permanent deletion and a member export.

Facts: ../shared/platforms/mailchimp.md. One audience (list) per integration: its id is a
credential. The data centre comes from the API key's suffix (`…-us6` → us6.api.mailchimp.com)
unless the integration names one.

The package: this declaration (the registered client), `api` (constants and pure helpers),
`connection` (data centres, auth, errors, test_connection), `contacts` (merge fields, batch
subscribe, deletion, export), `profiles` (every member, for a profile import) and `segments`
(segments and tags with counts).
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.mailchimp.api import (
    API,
    AUTO,
    BATCH_MAX,
    DATA_CENTRES,
    key_data_centre,
    subscriber_hash,
)
from integrations.platforms.mailchimp.campaigns import MailchimpCampaigns
from integrations.platforms.mailchimp.connection import MailchimpConnection
from integrations.platforms.mailchimp.contacts import MailchimpContacts
from integrations.platforms.mailchimp.members import MailchimpMembers
from integrations.platforms.mailchimp.metrics import MailchimpMetrics
from integrations.platforms.mailchimp.profiles import MailchimpProfiles
from integrations.platforms.mailchimp.segment_push import MailchimpSegmentPush
from integrations.platforms.mailchimp.segments import MailchimpSegments
from integrations.platforms.mailchimp.variate import MailchimpVariate
from integrations.platforms.mailchimp.webhooks import MailchimpWebhooks
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

__all__ = ["API", "AUTO", "MailchimpClient", "key_data_centre", "subscriber_hash"]


@register
class MailchimpClient(
    MailchimpConnection,
    MailchimpContacts,
    MailchimpSegments,
    MailchimpCampaigns,
    MailchimpVariate,
    MailchimpMembers,
    MailchimpProfiles,
    MailchimpMetrics,
    MailchimpWebhooks,
    MailchimpSegmentPush,
    PlatformClient,
):
    slug = "mailchimp"
    label = "Mailchimp"
    category = Category.EMAIL
    summary = (
        "Audience members and merge fields through batch subscribe (500 a call, per-member "
        "results); segments and tags with member counts; SharpSend segments pushed as tags; "
        "permanent deletion and export; A/B tests as its own variate campaigns where they fit."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.LIST_SEGMENT_MEMBERS,
            Capability.LIST_CONTACTS,
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.TEST_SEND,
            Capability.CAMPAIGN_METRICS,
            Capability.NATIVE_AB_TEST,
        }
    )
    send_methods = (
        SendMethod("campaign", "Regular campaign", needs_reply_to=True, needs_from_name=True),
    )
    unsupported_reasons = {
        Capability.TRACK_EVENTS: "Mailchimp takes custom events one member at a time; the "
        "console does not wire them yet",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Mailchimp → your profile picture → Profile → Extras → API keys → Create A Key. "
            "Shown once; keep the whole key including its ending (such as -us6), which names "
            "the data centre. Create it as a user with the Manager, Admin or Owner role.",
        ),
        CredentialField(
            "list_id",
            "Audience ID",
            "Mailchimp → Audience → All contacts → Settings → Audience name and defaults: the "
            "Audience ID (letters and digits, such as a1b2c3d4e5).",
            secret=False,
        ),
    )
    regions = {
        AUTO: "From the API key (its -usN ending)",
        **{dc: f"Data centre {dc}" for dc in DATA_CENTRES},
    }
    hosts = {
        API: {
            AUTO: "https://api.mailchimp.com",
            **{dc: f"https://{dc}.api.mailchimp.com" for dc in DATA_CENTRES},
        }
    }
    limits = Limits(
        # Batch subscribe takes at most 500 members a call; no byte limit is documented (the
        # 120 s call timeout is the ceiling), so the byte caps are ours.
        batch_max_records=BATCH_MAX,
        batch_max_bytes=8_000_000,
        record_max_bytes=64_000,
        # Mailchimp limits simultaneous connections (10 per user), not requests per second;
        # the console calls one at a time per integration and keeps a gentle pace.
        rates={API: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.SPACE_SEPARATED_UTC,
    )
    identifier_fields = ("email",)  # sent as email_address
    segment_batch_max = 500  # members_to_add / members_to_remove per call
    keeps_existing_natively = True  # update_existing: false leaves existing members alone
    # Mailchimp refuses an invalid address, or a merge field value of the wrong type
    # (number, date), as ERROR_GENERIC. Text is truncated to 255 bytes, not refused.
    contact_rules = (
        rules.EmailSyntax(code="ERROR_GENERIC"),
        rules.TypedFields(code="ERROR_GENERIC"),
    )
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "FNAME", "", False),
        ("last_name", "LNAME", "", False),
        ("status", "status", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._merge_types: dict[str, str] | None = None
        self._types_unavailable = False
