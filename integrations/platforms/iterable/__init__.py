"""Iterable: users through bulkUpdate, fields from getFields, lists with their sizes, a
user's export and deletion; blast campaigns from the assignment, triggered campaigns and
journeys triggered for a list (campaigns.py).

Facts: ../shared/platforms/iterable.md; request shapes checked against
../shared/specs/iterable/api-docs.json in the tests.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.iterable.api import API, ENVELOPE
from integrations.platforms.iterable.campaigns import (
    BLAST,
    JOURNEY,
    TRIGGERED,
    IterableCampaigns,
)
from integrations.platforms.iterable.connection import IterableConnection
from integrations.platforms.iterable.contacts import IterableContacts
from integrations.platforms.iterable.journeys import IterableJourneys
from integrations.platforms.iterable.members import IterableMembers
from integrations.platforms.iterable.privacy import IterablePrivacy
from integrations.platforms.iterable.segment_push import IterableSegmentPush
from integrations.platforms.iterable.segments import IterableSegments
from integrations.platforms.iterable.webhooks import IterableWebhooks
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

__all__ = ["API", "IterableClient"]


@register
class IterableClient(
    IterableConnection,
    IterableContacts,
    IterableSegments,
    IterableMembers,
    IterableCampaigns,
    IterableJourneys,
    IterableWebhooks,
    IterableSegmentPush,
    IterablePrivacy,
    PlatformClient,
):
    slug = "iterable"
    label = "Iterable"
    # DELETE /api/users/{email} is processed asynchronously, with no job id to follow.
    deletion_mode = "async"
    category = Category.CROSS_CHANNEL
    summary = (
        "Users and their data fields through bulk update; lists with member counts; "
        "SharpSend segments pushed as static lists; blast campaigns from a template, "
        "triggered campaigns and journeys."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.LIST_SEGMENT_MEMBERS,
            # SharpSend segments are pushed as static lists (dynamic lists cannot be created
            # through the API).
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SEND_CAMPAIGN,
            # Journeys by event (journeys.py); the Journey method triggers one for a list.
            Capability.TRIGGER_JOURNEY,
            # Blast campaigns only: a template proof (the triggered methods' content is
            # made in Iterable).
            Capability.TEST_SEND,
        }
    )
    send_methods = (
        # The assignment's content in a template of its own, sent (or scheduled) to a list.
        SendMethod(BLAST, "Blast campaign"),
        # Made in Iterable; the target names it and the assignment is its data fields.
        SendMethod(TRIGGERED, "Triggered campaign", trigger_only=True, can_schedule=False),
        SendMethod(JOURNEY, "Journey", trigger_only=True, can_schedule=False),
        # A journey in Iterable whose entry is the event sharpsend_assignment_approved.
        SendMethod(
            "journey_event",
            "Journey (event)",
            can_schedule=False,
            schedule_note="the event goes to each reader on approval; delay the journey in "
            "Iterable",
            per_reader=True,
            reports_metrics=False,
        ),
    )
    unsupported_reasons = {
        Capability.SUPPRESS_CONTACT: "Iterable unsubscribes per channel or message type "
        "(POST /api/users/updateSubscriptions with the project's channel ids, which the console "
        "does not read yet), and its forget (POST /api/users/forget) erases the user: a "
        "deletion request does that; unsubscribe the user in Iterable",
        Capability.CAMPAIGN_METRICS: "its campaign metrics (a CSV report, 10 a minute) are not "
        "read; a send's figures are counted from its system webhooks' events instead",
        Capability.LIST_CONTACTS: "Iterable lists its users only through export jobs and "
        "newline-delimited downloads, not in pages; the console does not read those yet",
        Capability.REGISTER_WEBHOOKS: (
            "Iterable's API reads and updates system webhooks but cannot create one (there is no "
            "create endpoint)"
        ),
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "Iterable → Integrations → API Keys → New API key, type Server-side (a Read-only "
            "key cannot write users). Shown once when created.",
        ),
    )
    regions = {"us": "United States (USDC)", "eu": "European Union (EDC)"}
    hosts = {API: {"us": "https://api.iterable.com", "eu": "https://api.eu.iterable.com"}}
    limits = Limits(
        # bulkUpdate has a 4 MB body limit and no documented count limit; the record cap is
        # ours (the checkpoint granularity).
        batch_max_records=2000,
        batch_max_bytes=4_000_000,
        record_max_bytes=4_000_000 - len(ENVELOPE),
        rates={
            API: Rate(100, 1.0),
            "users.bulkUpdate": Rate(5, 1.0),
            "users.getFields": Rate(3, 1.0),
            "lists.size": Rate(5, 60.0),
            "lists.getUsers": Rate(5, 60.0),
            "templates.proof": Rate(20, 1.0),
            "events.trackBulk": Rate(10, 1.0),
        },
        timestamp_format=TimestampFormat.SPACE_SEPARATED_UTC,
    )
    identifier_fields = ("email", "userId")
    # Field types are locked project-wide by the first value written (fact sheet §14.4): a
    # value of another type fails its user (invalidDataEmails, recorded as InvalidData).
    contact_rules = (
        rules.EmailSyntax(code="InvalidEmail"),
        rules.TypedFields(code="InvalidData", strict=True, fixed_on_first_write=True),
    )
    accepts_new_fields = True
    segment_batch_max = 1000  # lists/subscribe has no documented limit: ours, under 4 MB
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "firstName", "", False),
        ("last_name", "lastName", "", False),
        ("status", "sharpsendStatus", "", False),
        ("created_at", "signupDate", "", False),
    )
