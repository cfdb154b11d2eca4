"""Drift (Salesloft): contacts and their attributes, connected with OAuth 2.0 only.

Facts: ../shared/platforms/drift.md and oauth.md. Drift has no bulk or upsert endpoint and email
is not a unique key: each record is a lookup by email, then a create or a partial update of the
chosen contact. Scopes are frozen into the grant (ticked on the app, not asked for in the
authorize URL); `POST /app/token_info` tells which ones this connection has. Drift's Data
Privacy API (GDPR retrieval and deletion) is open only to apps an org builds for itself, so a
console connected as a third-party app cannot use it.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.drift.api import API
from integrations.platforms.drift.connection import FIELDS_SCOPE, NEEDED_SCOPES, DriftConnection
from integrations.platforms.drift.contacts import STANDARD, DriftContacts
from integrations.platforms.drift.webhooks import DriftWebhooks
from integrations.platforms.registry import register
from integrations.platforms.types import (
    AuthMethod,
    Capability,
    Category,
    Limits,
    OAuthSpec,
    Rate,
    TimestampFormat,
)

__all__ = ["API", "FIELDS_SCOPE", "GDPR_REASON", "NEEDED_SCOPES", "STANDARD", "DriftClient"]

GDPR_REASON = (
    "Drift's Data Privacy API (gdpr_read / gdpr_write) is available only to apps an org builds "
    "for itself, not to third-party apps like this console; run the request in Drift → Settings "
    "→ Data Privacy"
)


@register
class DriftClient(DriftConnection, DriftContacts, DriftWebhooks, PlatformClient):
    slug = "drift"
    label = "Drift"
    category = Category.CONVERSATIONS
    summary = (
        "Contacts looked up by email, then created or updated (no bulk endpoint); custom "
        "attributes created on first write."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
        }
    )
    unsupported_reasons = {
        Capability.LIST_SEGMENT_MEMBERS: "Drift has no segment or list API (only per-contact tags)",
        Capability.SUPPRESS_CONTACT: "Drift's email unsubscribe endpoint is named only by a "
        "third-party wrapper, not in Drift's own reference, and its privacy endpoints are "
        "closed to third-party apps: unsubscribe the contact in Drift",
        Capability.LIST_CONTACTS: "Drift's API finds contacts by email or id only and "
        "cannot list them all",
        Capability.REGISTER_WEBHOOKS: (
            "Drift's webhooks are set in the app's settings, not through the API"
        ),
        Capability.REMOVE_FROM_SEGMENT: "Drift has no segment or list API (only per-contact tags)",
        Capability.DELETE_CONTACT: GDPR_REASON,
        Capability.EXPORT_CONTACT: GDPR_REASON,
        Capability.LIST_SEGMENTS: "Drift has no segment or list API; contact tags exist but "
        "cannot be listed or counted",
        Capability.CREATE_SEGMENT: "Drift has no segment or list API",
        Capability.ADD_TO_SEGMENT: "Drift has no segment or list API (only per-contact tags)",
        Capability.SEND_CAMPAIGN: "Drift's API sends chat messages into conversations, not "
        "email campaigns",
        Capability.CAMPAIGN_METRICS: "Drift's API has no campaign metrics",
        Capability.TRACK_EVENTS: "Drift's contact timeline endpoint is documented only by "
        "third parties (not yet wired in the console)",
    }
    auth_methods = (AuthMethod.OAUTH,)
    oauth = OAuthSpec(
        authorize_url="https://dev.drift.com/authorize",
        token_url="https://driftapi.com/oauth2/token",
        client_auth="body",
        scope="",  # scopes are ticked on the app and frozen into the grant
        rotates_refresh_token=True,  # not documented; Drift's own sample app treats them so
    )
    credential_fields = ()  # OAuth only: nothing to type in
    regions = {"global": "Drift (one host)"}
    hosts = {API: {"global": "https://driftapi.com"}}
    limits = Limits(
        # No bulk endpoint: a lookup and a write per contact. The record cap is ours (the
        # per-batch checkpoint granularity); Drift documents no body limit.
        batch_max_records=100,
        batch_max_bytes=1_000_000,
        record_max_bytes=1_000_000,
        # Drift publishes no rate limit (a leaky bucket answering 429 is reported); this is
        # a conservative pace of our own.
        rates={API: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.UNIX_MILLISECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = True  # an unknown attribute becomes a custom attribute on first write
    # Drift wants a valid email (validation_error); custom attributes take any type.
    contact_rules = (rules.EmailSyntax(code="validation_error"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "sharpsend_status", "", False),
    )
