"""Keap (formerly Infusionsoft): contacts through REST v2, connected with OAuth 2.0 only.

Facts: ../shared/platforms/keap.md and oauth.md; request bodies are checked against
../shared/specs/keap/swagger.yml in the tests.

Keap has no bulk contact endpoint: every contact is one `POST /rest/v2/contacts` with
`duplicate_option=Email` (a match by email is updated, otherwise a contact is created), so a
sync's throughput is bounded by Keap's quotas (1,500 calls a minute and 150,000 a day for the
console's OAuth app, across every Keap account it is connected to). The quota headers on every
answer pace the shared rate limiter; the run says so in its warnings.

Marketability (opt-in) lives beside the contact: a new address is marketable only when it is
created with an `opt_in_reason`; addresses that unsubscribed, bounced or complained cannot be
opted in again through the API — those records are *rejected (compliance)*.

Keap cannot send a marketing broadcast to a tag; the console sends an assignment as Keap's
one-to-many email (`emails:send`) to the tag's contacts, batch by batch, each batch once.

The package: this declaration (the registered client), `api` (constants and pure helpers),
`connection` (hosts, OAuth, errors, quotas, test_connection), `contacts` (custom fields, the
per-contact upsert and opt-in, export and deletion), `segments` (tags, their counts and
members), `segment_push` (SharpSend segments pushed as tags) and `campaigns` (emails to a
tag's contacts).
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.keap.api import (
    API,
    EMAIL1_MAX,
    LEGACY_HOST,
    MARKETABLE,
    NO_BULK_WARNING,
    OPT_IN_REASON,
    OPT_OUT_REASON,
    REOPTABLE,
    SPECIAL,
    STANDARD,
    V2,
)
from integrations.platforms.keap.campaigns import KeapEmails
from integrations.platforms.keap.connection import KeapConnection
from integrations.platforms.keap.contacts import KeapContacts
from integrations.platforms.keap.members import KeapMembers
from integrations.platforms.keap.profiles import KeapProfiles
from integrations.platforms.keap.segment_push import KeapSegmentPush
from integrations.platforms.keap.segments import KeapSegments
from integrations.platforms.keap.webhooks import KeapWebhooks
from integrations.platforms.registry import register
from integrations.platforms.sending import SendMethod
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    Limits,
    OAuthSpec,
    Rate,
    TimestampFormat,
)

__all__ = [
    "API",
    "EMAIL1_MAX",
    "LEGACY_HOST",
    "MARKETABLE",
    "NO_BULK_WARNING",
    "OPT_IN_REASON",
    "OPT_OUT_REASON",
    "REOPTABLE",
    "SPECIAL",
    "STANDARD",
    "V2",
    "KeapClient",
]


@register
class KeapClient(
    KeapConnection,
    KeapProfiles,
    KeapContacts,
    KeapMembers,
    KeapSegments,
    KeapSegmentPush,
    KeapEmails,
    KeapWebhooks,
    PlatformClient,
):
    slug = "keap"
    label = "Keap"
    category = Category.CRM
    summary = (
        "Contacts upserted by email (one call each: Keap has no bulk endpoint), custom fields, "
        "email opt-in status; tags with member counts and members; SharpSend segments "
        "pushed as tags (readers looked up by email); emails to a tag's contacts (Keap's one-to-many email, not a tracked campaign)."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.LIST_CONTACTS,
            Capability.LIST_SEGMENT_MEMBERS,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
        }
    )
    # Keap's emails:send has no schedule, preview text, sender name or reply-to: it goes out
    # on approval, from the connected user (campaigns.py).
    send_methods = (
        SendMethod(
            "email",
            "Email to the tag's contacts",
            can_schedule=False,
            # Fact sheet §7: "Scheduling … not available through the API".
            schedule_note="Keap's API has no scheduled send: emails:send goes out at once",
        ),
    )
    unsupported_reasons = {
        Capability.TEST_SEND: "test sends are not available through the API",
        Capability.TRACK_EVENTS: "Keap has no custom-event ingestion; only API goals, which "
        "move contacts through automations",
        Capability.CAMPAIGN_METRICS: "Keap has no campaign-level open or click report in its API",
    }
    auth_methods = (AuthMethod.OAUTH,)
    oauth = OAuthSpec(
        authorize_url="https://accounts.infusionsoft.com/app/oauth/authorize",
        token_url="https://api.infusionsoft.com/token",
        client_auth="body",  # the code exchange: client id and secret in the form body
        refresh_client_auth="basic",  # refreshes: Authorization: Basic id:secret
        scope="full",
        rotates_refresh_token=True,
    )
    credential_fields = ()  # OAuth only: nothing to type in
    regions = {"global": "Keap (one host; the token decides the account)"}
    hosts = {API: {"global": "https://api.keap.com"}}
    limits = Limits(
        # No bulk endpoint: one request per contact. The record cap is ours (the per-batch
        # checkpoint granularity); no body limit is documented beyond the field limits.
        batch_max_records=100,
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        # 1,500 queries a minute per OAuth app (also under the ~25/s spike arrest).
        rates={API: Rate(1500, 60.0)},
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email",)
    # SharpSend segments are pushed as tags (segment_push.py): contact ids per applyTags /
    # removeTags call. Keap documents no maximum; 100 is ours (each added member is also one
    # look-up by email, so this is the per-batch checkpoint).
    segment_batch_max = 100
    segment_member_identifier = "email"
    # Keap answers an invalid address with 400; its documented length limits (fact sheet:
    # given_name/family_name ≤40, EMAIL1 ≤75 …) are checked before spending a call.
    contact_rules = (
        rules.EmailSyntax(code="400"),
        rules.MaxLength(EMAIL1_MAX, ("email",), code="email_too_long", local=True),
        *(
            rules.MaxLength(limit, (key,), code="too_long", local=True)
            for key, (_, _, limit) in STANDARD.items()
            if limit
        ),
    )
    accepts_new_fields = False
    keeps_existing_natively = False
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "given_name", "", False),
        ("last_name", "family_name", "", False),
        ("status", "opt_in", "is_subscribed", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._model: dict[str, dict] | None = None  # field_name → custom field metadata
        self._quota_warned = False
