"""Campaign Monitor (API v3.3): subscribers through the list import, custom fields per list,
the client's lists and segments with counts, campaigns that fetch their content from the
console.

Facts: ../shared/platforms/campaign_monitor.md. Everything lives under a client (ClientID)
and a list (ListID); the API key goes as the Basic-auth user name. The import answers at once
— a partial failure is an HTTP 400 with Code 210 whose ResultData says which addresses failed

The package: this declaration (the registered client), `api` (surface and path prefix),
`connection` (auth, errors, test_connection), `contacts` (custom fields, the import, export
and deletion), `segments` (the client's lists and segments with counts), `members` (who is
in a list or segment: its active subscribers), `segment_push`
(SharpSend segments pushed as lists of the client) and `campaigns` (draft campaigns with the
console's content URLs, and their send).
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.campaign_monitor.api import API, V
from integrations.platforms.campaign_monitor.campaigns import CampaignMonitorCampaigns
from integrations.platforms.campaign_monitor.connection import CampaignMonitorConnection
from integrations.platforms.campaign_monitor.contacts import (
    STANDARD_TARGETS,
    CampaignMonitorContacts,
)
from integrations.platforms.campaign_monitor.members import CampaignMonitorMembers
from integrations.platforms.campaign_monitor.metrics import CampaignMonitorMetrics
from integrations.platforms.campaign_monitor.profiles import CampaignMonitorProfiles
from integrations.platforms.campaign_monitor.segment_push import CampaignMonitorSegmentPush
from integrations.platforms.campaign_monitor.segments import CampaignMonitorSegments
from integrations.platforms.campaign_monitor.webhooks import CampaignMonitorWebhooks
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

__all__ = ["API", "STANDARD_TARGETS", "V", "CampaignMonitorClient"]


@register
class CampaignMonitorClient(
    CampaignMonitorConnection,
    CampaignMonitorProfiles,
    CampaignMonitorContacts,
    CampaignMonitorSegments,
    CampaignMonitorMembers,
    CampaignMonitorSegmentPush,
    CampaignMonitorCampaigns,
    CampaignMonitorMetrics,
    CampaignMonitorWebhooks,
    PlatformClient,
):
    slug = "campaign_monitor"
    label = "Campaign Monitor"
    # docs/platforms/campaign_monitor.md: deletion is soft; there is no erasure API.
    deletion_note = (
        "Campaign Monitor keeps the subscriber in its Deleted state (there is no erasure API): "
        "erase them permanently in Campaign Monitor's app"
    )
    category = Category.EMAIL
    rate_limit_reset = "seconds"  # X-RateLimit-Reset: seconds until the window reopens
    summary = (
        "Subscribers of one list through the synchronous import (per-address failures "
        "included); custom fields of the list; the client's lists and segments with counts "
        "and members; "
        "SharpSend segments pushed as lists of the client; "
        "campaigns to a list or segment, their content fetched from the console."
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
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.TEST_SEND,
            Capability.CAMPAIGN_METRICS,
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
        }
    )
    # Scheduled in the client's time zone, named on the integration (schedule.py).
    send_methods = (SendMethod("campaign", "Campaign", needs_reply_to=True, needs_from_name=True),)
    unsupported_reasons = {
        Capability.TRACK_EVENTS: "Campaign Monitor has no custom-event ingestion",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Campaign Monitor → your profile menu → Account settings → API keys: the account "
            "API key (or a client's API key, which only reaches that client).",
        ),
        CredentialField(
            "client_id",
            "Client ID",
            "Same page (Account settings → API keys): the API ID listed next to the client "
            "whose list you sync.",
            secret=False,
        ),
        CredentialField(
            "list_id",
            "List ID",
            "Lists & subscribers → open the list → Settings (or 'change name/type'): the "
            "'API ID' at the bottom of the page.",
            secret=False,
        ),
        CredentialField(
            "from_email",
            "From email (to send)",
            "The address the console's campaigns come from (their FromEmail). Needed to send "
            "campaigns; syncs do not use it.",
            secret=False,
            required=False,
        ),
        CredentialField(
            "time_zone",
            "Client time zone (to schedule)",
            "The time zone set on the client in Campaign Monitor (Client settings), as an IANA "
            "name such as Europe/London or Australia/Sydney. Campaign Monitor takes a scheduled "
            "send's time in that zone; needed only to schedule.",
            secret=False,
            required=False,
        ),
    )
    regions = {"global": "Global (api.createsend.com)"}
    hosts = {API: {"global": "https://api.createsend.com"}}
    limits = Limits(
        # The import takes at most 1,000 subscribers a call; no byte limit is documented,
        # so ours keeps bodies reasonable. Each custom field value is at most 250 characters.
        batch_max_records=1000,
        batch_max_bytes=10_000_000,
        record_max_bytes=100_000,
        # Campaign Monitor does not publish its numbers; it answers 429 with X-RateLimit-*.
        rates={API: Rate(10, 1.0), "subscribers.import": Rate(2, 1.0)},
        # Date custom fields take a date only, written yyyy/mm/dd (see format_value).
        timestamp_format=TimestampFormat.ISO8601,
    )
    # A pushed segment is a list of the client (segment_push.py): the import takes 1,000.
    segment_batch_max = 1000
    identifier_fields = ("email",)
    accepts_new_fields = False
    # Fact sheet: custom field values ≤250 characters; a Number field takes numbers. The
    # import answers each with its failure code 1, as it does an invalid address.
    contact_rules = (
        rules.EmailSyntax(code="1"),
        rules.MaxLength(
            250, exempt=("name", "first_name", "last_name", "consent_to_track"), code="1"
        ),
        rules.TypedFields(code="1"),
    )
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._custom: dict[str, str] | None = None  # key (no brackets) → DataType
