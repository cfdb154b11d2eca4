"""Crisp: people profiles by email, their custom data, email subscription, segments with counts.

Facts: ../shared/platforms/crisp.md (no official OpenAPI document exists). Auth is a
Marketplace plugin token (identifier + key, HTTP Basic) with `X-Crisp-Tier: plugin`; every
people route is scoped by the website id. Plugin tokens have a daily request quota (5,000 by
default), so the client spends as few requests a contact as it can and says what it used.

Writing one contact: GET its email subscription (this tells whether the profile exists and
whether the person unsubscribed from email in Crisp), then POST a new profile or PATCH the
existing one, then PATCH its custom data, then — only to unsubscribe — PATCH the subscription.
Crisp takes the email in place of the people id in these routes.

The client is assembled here from its parts: connection.py (token, quota, paths, errors, the
connection test), contacts.py (fields, profile writes, delete and export) and segments.py (the
suggest routes); api.py holds what they share.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.crisp.api import API, DEFAULT_QUOTA, SEGMENTS, SUBSCRIBED
from integrations.platforms.crisp.connection import CrispConnection
from integrations.platforms.crisp.contacts import CrispContacts
from integrations.platforms.crisp.segments import CrispSegments
from integrations.platforms.crisp.webhooks import CrispWebhooks
from integrations.platforms.registry import register
from integrations.platforms.types import (
    Capability,
    Category,
    CredentialField,
    Limits,
    Rate,
    TimestampFormat,
)

__all__ = ["API", "DEFAULT_QUOTA", "SEGMENTS", "SUBSCRIBED", "CrispClient"]


@register
class CrispClient(CrispConnection, CrispContacts, CrispSegments, CrispWebhooks, PlatformClient):
    slug = "crisp"
    label = "Crisp"
    category = Category.CONVERSATIONS
    summary = (
        "People profiles by email with their custom data and email subscription; segments "
        "with counts. Plugin token; daily request quota."
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
    rate_limited_by = ("identifier",)  # Crisp counts its quota per plugin token
    unsupported_reasons = {
        Capability.LIST_SEGMENT_MEMBERS: "Crisp segments are free-text tags: their profiles "
        "are found by a people search, which the console does not run yet",
        Capability.SUPPRESS_CONTACT: "Crisp has no suppression list; its per-person email "
        "subscription (PATCH subscription/{people_id}) is not wired in the console yet",
        Capability.LIST_CONTACTS: "Crisp's profiles are chat contacts with no email consent "
        "state, so they cannot become newsletter subscribers",
        Capability.REGISTER_WEBHOOKS: (
            "Crisp's plugin hooks are set in the Marketplace, not through the API"
        ),
        Capability.REMOVE_FROM_SEGMENT: "untagging profiles (batch/segments) is not yet wired in "
        "the console",
        Capability.CREATE_SEGMENT: "Crisp segments are free-text tags on profiles; there is no "
        "segment object to create",
        Capability.ADD_TO_SEGMENT: "tagging profiles with a segment (batch/segments) is not yet "
        "wired in the console",
        Capability.TRACK_EVENTS: "people events are not yet wired in the console",
        Capability.SEND_CAMPAIGN: "Crisp campaigns cannot be sent with a plugin token",
        Capability.CAMPAIGN_METRICS: "Crisp campaigns cannot be read with a plugin token",
        Capability.TRIGGER_JOURNEY: "Crisp has no journeys in its API",
    }
    credential_fields = (
        CredentialField(
            "identifier",
            "Plugin token identifier",
            "Crisp Marketplace (marketplace.crisp.chat, its own login) → Plugins → your "
            "plugin → Tokens → Production: the Identifier. Scopes needed: "
            "website:people:profiles and website:people:data (read and write).",
            secret=False,
        ),
        CredentialField(
            "key",
            "Plugin token key",
            "Same place, the Key next to that Identifier.",
        ),
        CredentialField(
            "website_id",
            "Website ID",
            "Crisp app → Settings → Workspace Settings → Setup & Integrations: the Website "
            "ID. The website must have installed your plugin (its private install link is "
            "in the plugin's Settings on the Marketplace).",
            secret=False,
        ),
        CredentialField(
            "daily_quota",
            "Daily request quota",
            "Optional: your plugin's daily request quota if Crisp raised it (Marketplace → "
            "plugin → Settings → quota). Blank: 5,000 a day, Crisp's default.",
            secret=False,
            required=False,
        ),
    )
    regions = {"global": "Crisp (one API host)"}
    hosts = {API: {"global": "https://api.crisp.chat"}}
    limits = Limits(
        # No bulk profile write for plugin tokens: one contact at a time. The record cap is
        # the checkpoint granularity; the byte cap guards one profile's JSON body.
        batch_max_records=25,
        batch_max_bytes=500_000,
        record_max_bytes=500_000,
        # The plugin quota is per day. Bursts of 500 are allowed, the rest is spread so no
        # 24 hours ever holds more than the quota.
        rates={API: Rate(DEFAULT_QUOTA - 500, 86_400.0, burst=500)},
        timestamp_format=TimestampFormat.UNIX_MILLISECONDS,
    )
    identifier_fields = ("email",)
    accepts_new_fields = True
    # Crisp refuses a profile without a valid email (invalid_data).
    contact_rules = (rules.EmailSyntax(code="invalid_data"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", SUBSCRIBED, "is_subscribed", False),
    )
