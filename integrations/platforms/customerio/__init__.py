"""Customer.io (Journeys): people through the Track API, segments through the App API.

Facts: ../shared/platforms/customerio.md. Two credentials and two hosts: the Track API (Basic
site id : track key) writes people; the App API (Bearer app key) reads segments and workspaces.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP, TRACK
from integrations.platforms.customerio.broadcasts import BROADCAST_TRIGGER, CustomerIoBroadcasts
from integrations.platforms.customerio.connection import CustomerIoConnection
from integrations.platforms.customerio.contacts import CustomerIoContacts
from integrations.platforms.customerio.journeys import CustomerIoJourneys
from integrations.platforms.customerio.members import CustomerIoMembers
from integrations.platforms.customerio.metrics import CustomerIoMetrics
from integrations.platforms.customerio.segment_push import CustomerIoSegmentPush
from integrations.platforms.customerio.segments import CustomerIoSegments
from integrations.platforms.customerio.webhooks import CustomerIoWebhooks
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

__all__ = ["APP", "TRACK", "CustomerIoClient"]


@register
class CustomerIoClient(
    CustomerIoConnection,
    CustomerIoContacts,
    CustomerIoSegments,
    CustomerIoBroadcasts,
    CustomerIoJourneys,
    CustomerIoMembers,
    CustomerIoMetrics,
    CustomerIoWebhooks,
    CustomerIoSegmentPush,
    PlatformClient,
):
    slug = "customerio"
    label = "Customer.io"
    category = Category.CROSS_CHANNEL
    summary = (
        "People and attributes through the Track API's batch endpoint; segments with counts; "
        "SharpSend segments pushed as manual segments."
    )
    capabilities = frozenset(
        {
            Capability.WEBHOOKS,
            # Reporting webhooks through the App API; the signing key is copied by hand.
            Capability.REGISTER_WEBHOOKS,
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.LIST_SEGMENT_MEMBERS,
            Capability.SEND_CAMPAIGN,
            Capability.TRIGGER_JOURNEY,
            Capability.CAMPAIGN_METRICS,
            # SharpSend segments are pushed as manual segments (data-driven ones cannot be
            # created through the API).
            Capability.CREATE_SEGMENT,
            Capability.ADD_TO_SEGMENT,
            Capability.REMOVE_FROM_SEGMENT,
            Capability.DELETE_CONTACT,
            # The App API's person reads (attributes, segments, messages), by email.
            Capability.EXPORT_CONTACT,
            # unsubscribed: true through an identify (its own suppress deletes the profile).
            Capability.SUPPRESS_CONTACT,
        }
    )
    send_methods = (
        SendMethod(
            "api_triggered_broadcast",
            "API-triggered broadcast",
            trigger_only=True,
            can_schedule=False,
            metrics_per_campaign=True,  # /v1/broadcasts/{id}/metrics: every trigger of it
        ),
        # A campaign in Customer.io triggered by the event sharpsend_assignment_approved.
        # Its figures are the campaign's (App API /v1/campaigns/{id}/metrics), not read yet.
        SendMethod(
            "journey_event",
            "Journey (event)",
            can_schedule=False,
            per_reader=True,
            reports_metrics=False,
        ),
    )
    unsupported_reasons = {
        # Fact sheet §7: broadcasts are made in the UI and only triggered through the App API,
        # which has no test send for them (a trigger with `emails` is a real send, 1 per 10 s).
        Capability.TEST_SEND: "its broadcasts are made in Customer.io and the App API has no "
        "test send for them: send a test from Customer.io",
        Capability.LIST_CONTACTS: "the App API's people search (POST /v1/customers) "
        "returns identifiers only, and each person's attributes and subscription state are a "
        "call each; not wired for a profile import yet",
    }
    credential_fields = (
        CredentialField(
            "site_id",
            "Site ID",
            "Customer.io → Account Settings → API Credentials → Track API keys: the Site ID "
            "of the workspace.",
            secret=False,
        ),
        CredentialField(
            "track_api_key",
            "Track API key",
            "Same page, the API key next to that Site ID (writes people and events).",
        ),
        CredentialField(
            "app_api_key",
            "App API key",
            "Account Settings → API Credentials → App API keys (reads segments and "
            "workspaces, creates the manual segments SharpSend pushes, triggers API-triggered "
            "broadcasts). Shown once when created.",
        ),
    )
    regions = {"us": "United States", "eu": "European Union"}
    hosts = {
        TRACK: {"us": "https://track.customer.io", "eu": "https://track-eu.customer.io"},
        APP: {"us": "https://api.customer.io", "eu": "https://api-eu.customer.io"},
    }
    limits = Limits(
        # The v2 batch endpoint has byte limits only: < 500 KB a body, ≤ 32 KB an entry.
        # The record cap is ours: the per-batch checkpoint granularity.
        batch_max_records=2000,
        batch_max_bytes=499_000,
        record_max_bytes=32_000,
        # The broadcast trigger has its own limit: 1 request per 10 s per workspace.
        rates={TRACK: Rate(100, 1.0), APP: Rate(10, 1.0), BROADCAST_TRIGGER: Rate(1, 10.0)},
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )
    identifier_fields = ("email", "id")
    accepts_new_fields = True
    segment_batch_max = 1000  # add_customers / remove_customers ids per call
    # The batch's errors name an invalid email "invalid"; attributes are untyped.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "unsubscribed", "is_unsubscribed", False),
        ("created_at", "created_at", "", False),
    )
