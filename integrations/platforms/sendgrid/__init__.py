"""SendGrid (new Marketing Campaigns): contacts through the asynchronous upsert job.

Facts: ../shared/platforms/sendgrid.md; request shapes checked against
../shared/specs/sendgrid/tsg_mc_contacts_v3.json in the tests.

`PUT /v3/marketing/contacts` only queues a job: the client submits it through `run_job` (the
sync checkpoints the job id on the run), polls the import status until the job is done, and
reads its errors file to tell which contacts were refused and why. Custom fields are written
by their definition id (`e1_T`), so the client reads the field definitions and translates the
names the mappings use.

The package: this declaration (the registered client), `api` (constants and pure helpers),
`connection` (auth, errors, test_connection), `contacts` (field definitions, the upsert plan,
export and deletion), `jobs` (the upsert job to its end) and `segments` (lists and segments).
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.registry import register
from integrations.platforms.sendgrid.api import (
    API,
    CONTACTS,
    DOWNLOAD,
    FIELDS,
    IMPORTS,
    WRITABLE_RESERVED,
    may_write_marketing,
    parse_errors_file,
)
from integrations.platforms.sendgrid.connection import SendGridConnection
from integrations.platforms.sendgrid.contacts import SendGridContacts
from integrations.platforms.sendgrid.jobs import SendGridJobs
from integrations.platforms.sendgrid.segment_push import SendGridSegmentPush
from integrations.platforms.sendgrid.segments import SendGridSegments
from integrations.platforms.sendgrid.singlesends import SendGridSingleSends
from integrations.platforms.sendgrid.stats import SendGridStats
from integrations.platforms.sendgrid.webhooks import SendGridWebhooks
from integrations.platforms.sending import SendMethod
from integrations.platforms.types import (
    Capability,
    Category,
    CredentialField,
    Limits,
    Rate,
    TimestampFormat,
)

__all__ = [
    "API",
    "CONTACTS",
    "DOWNLOAD",
    "FIELDS",
    "IMPORTS",
    "WRITABLE_RESERVED",
    "SendGridClient",
    "may_write_marketing",
    "parse_errors_file",
]


@register
class SendGridClient(
    SendGridConnection,
    SendGridContacts,
    SendGridSegmentPush,
    SendGridJobs,
    SendGridSegments,
    SendGridWebhooks,
    SendGridSingleSends,
    SendGridStats,
    PlatformClient,
):
    slug = "sendgrid"
    label = "SendGrid"
    # Deletion is a job, followed on the imports-status endpoint (docs/platforms/sendgrid.md).
    deletion_mode = "async"
    category = Category.EMAIL
    rate_limit_reset = "epoch"  # X-RateLimit-Reset: the Unix time the window reopens
    summary = (
        "Marketing contacts through the asynchronous upsert job (polled to the end, errors per "
        "contact); custom fields by id; lists and segments with counts; contact deletion."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            # SharpSend segments are pushed as lists (Segments 2.0 take no static members).
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.DELETE_CONTACT,
            Capability.EXPORT_CONTACT,
            Capability.SUPPRESS_CONTACT,
            Capability.SEND_CAMPAIGN,
            Capability.CAMPAIGN_METRICS,
            # Through a dynamic template of its own (singlesends.py).
            Capability.TEST_SEND,
        }
    )
    send_methods = (SendMethod("single_send", "Single Send"),)
    unsupported_reasons = {
        Capability.LIST_SEGMENT_MEMBERS: "SendGrid gives a list's contacts only as an "
        "export (GET /v3/marketing/contacts answers a sample of 50), which the console does not "
        "read yet",
        Capability.LIST_CONTACTS: "SendGrid lists no contacts page by page (GET "
        "/v3/marketing/contacts is a sample of 50 and a search stops at 50 matches); the whole "
        "list comes only as an asynchronous CSV export job, which the console does not read "
        "yet",
        Capability.TRACK_EVENTS: "Marketing Campaigns has no custom-event ingestion",
    }
    credential_fields = (
        CredentialField(
            "api_key",
            "API key",
            "SendGrid → Settings → API Keys → Create API Key. Choose Full Access, or Restricted "
            "Access with Marketing set to Full Access. Shown once when created.",
        ),
        CredentialField(
            "list_id",
            "List ID (optional)",
            "Marketing → Contacts → open the list: the ID at the end of the page's URL. "
            "Synced contacts are added to this list; leave blank to only upsert contacts.",
            secret=False,
            required=False,
        ),
        CredentialField(
            "sender_id",
            "Sender ID (to send)",
            "Marketing → Senders → the verified sender assignments go out from: the number at "
            "the end of its page's URL. Needed to send Single Sends.",
            secret=False,
            required=False,
        ),
        CredentialField(
            "suppression_group_id",
            "Unsubscribe group ID (to send)",
            "Suppressions → Unsubscribe Groups: the group's ID. SendGrid needs one to send.",
            secret=False,
            required=False,
        ),
    )
    regions = {"global": "Global (api.sendgrid.com)", "eu": "EU subuser (api.eu.sendgrid.com)"}
    hosts = {
        API: {"global": "https://api.sendgrid.com", "eu": "https://api.eu.sendgrid.com"},
    }
    limits = Limits(
        # 30,000 contacts or 6 MB a request, whichever is lower. The record cap is ours: one
        # job per sync chunk (the checkpoint), and a job SendGrid processes in reasonable time.
        batch_max_records=5000,
        batch_max_bytes=6_000_000,
        record_max_bytes=6_000_000 - 64,
        # SendGrid does not publish per-endpoint numbers; it answers 429 with X-RateLimit-*.
        rates={
            API: Rate(10, 1.0),
            "contacts.upsert": Rate(3, 1.0),
            "contacts.imports": Rate(5, 1.0),
            DOWNLOAD: Rate(10, 1.0),  # the errors file's host, not the API: our own pacing
        },
        timestamp_format=TimestampFormat.ISO8601,
    )
    identifier_fields = ("email", "external_id")
    # What SendGrid's upsert job refuses a contact for (fact sheet §1: reserved field limits);
    # its errors file names them, recorded as invalid_contact.
    contact_rules = (
        rules.EmailSyntax(code="invalid_contact"),
        rules.MaxLength(254, ("email",), code="invalid_contact"),
        rules.MaxLength(50, ("first_name", "last_name"), code="invalid_contact"),
        rules.MaxLength(100, ("address_line_1", "address_line_2"), code="invalid_contact"),
        rules.TypedFields(code="invalid_contact"),
    )
    accepts_new_fields = False
    # A pushed list's adds go out as one upsert job a batch (≤ 30,000 allowed; ours: the
    # checkpoint granularity); removes look contact ids up 100 at a time.
    segment_batch_max = 1000
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )

    def __init__(self, integration):
        super().__init__(integration)
        self._definitions: dict[str, tuple[str, str]] | None = None  # name → (id, type)
