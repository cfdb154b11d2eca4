"""Front: contacts (email handles, names, contact custom fields), contact lists with counts.

Facts: ../shared/platforms/front.md; request bodies are checked against Front's own OpenAPI
document (../shared/specs/front/core-api.json) in the tests.

Front has no bulk contact write: each contact is looked up by its email alias
(`alt:email:<address>`), then created (POST) or updated (PATCH). A PATCH replaces the whole
`custom_fields` object, so the contact's current custom fields (from the lookup) are merged
with ours before writing, and fields the console does not map are kept.

The client is assembled here from its parts: connection.py (token or OAuth, rate bucket, paging,
errors, the connection test), contacts.py (fields, upsert, delete and export) and segments.py
(contact lists); api.py holds what they share.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.front.api import API, OAUTH_RATE, TOKEN_RATE, alias
from integrations.platforms.front.connection import FrontConnection
from integrations.platforms.front.contacts import FrontContacts
from integrations.platforms.front.segments import FrontSegments
from integrations.platforms.front.webhooks import FrontWebhooks
from integrations.platforms.registry import register
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    CredentialField,
    Limits,
    OAuthSpec,
    Rate,
    TimestampFormat,
)

__all__ = ["API", "OAUTH_RATE", "TOKEN_RATE", "FrontClient", "alias"]


@register
class FrontClient(FrontConnection, FrontContacts, FrontSegments, FrontWebhooks, PlatformClient):
    slug = "front"
    label = "Front"
    category = Category.CONVERSATIONS
    summary = (
        "Contacts with their email handle, name and contact custom fields; contact lists "
        "with member counts. API token or OAuth."
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
        }
    )
    rate_limited_by = ("api_token",)  # Front counts per company: one token, one company
    unsupported_reasons = {
        Capability.LIST_SEGMENT_MEMBERS: "Front's contact lists are read with their names "
        "only; their contacts are not read yet",
        Capability.SUPPRESS_CONTACT: "Front has no email suppression or unsubscribe for "
        "contacts (it sends conversation replies, not marketing email)",
        Capability.LIST_CONTACTS: "Front's contacts are conversation participants with no "
        "email consent state, so they cannot become newsletter subscribers",
        Capability.REGISTER_WEBHOOKS: (
            "Front's application webhooks are set in the app's settings, not through the API"
        ),
        Capability.REMOVE_FROM_SEGMENT: "removing contacts from a Front contact list is not yet "
        "wired in the console",
        Capability.TRACK_EVENTS: "Front has no events on contacts",
        Capability.SEND_CAMPAIGN: "Front sends conversation messages one by one, not campaigns",
        Capability.CAMPAIGN_METRICS: "Front has no campaigns",
        Capability.TRIGGER_JOURNEY: "Front has no journeys; its rules run inside Front",
        Capability.CREATE_SEGMENT: "Front's API can create a contact list, but answers without "
        "its id (not yet wired in the console)",
        Capability.ADD_TO_SEGMENT: "adding contacts to a Front contact list is not yet wired "
        "in the console",
    }
    auth_methods = (AuthMethod.API_KEY, AuthMethod.OAUTH)
    oauth = OAuthSpec(
        authorize_url="https://app.frontapp.com/oauth/authorize",
        token_url="https://app.frontapp.com/oauth/token",
        client_auth="basic",
        # Scopes are chosen on the Front app, not in the authorize URL.
        scope="",
        # Front returns "the same, or a new" refresh token; keep the old one when none comes.
        rotates_refresh_token=False,
    )
    credential_fields = (
        CredentialField(
            "api_token",
            "API token",
            "Only when not connecting with OAuth. Front → Settings (gear) → Company → "
            "Developers → API tokens → Create API token (company admins only). Give it the "
            "shared namespace and the scopes contacts:read, contacts:write, contacts:delete "
            "and custom_fields:read.",
            required=False,
        ),
    )
    regions = {"global": "Front (one API host for every company)"}
    hosts = {API: {"global": "https://api2.frontapp.com"}}
    limits = Limits(
        # No bulk endpoint: one contact a request. The record cap is ours (the checkpoint
        # granularity); the byte cap is a guard for one contact's JSON body.
        batch_max_records=10,  # one call a contact: a checkpoint (and progress) every ~25 s
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        rates={
            TOKEN_RATE: Rate(50, 60.0),
            OAUTH_RATE: Rate(120, 60.0),
        },
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = False
    # Front answers an invalid email handle, or a value of the wrong type for a contact
    # custom field, with 400 "Bad request".
    contact_rules = (rules.EmailSyntax(code="Bad request"), rules.TypedFields(code="Bad request"))
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
    )
