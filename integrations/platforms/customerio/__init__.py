"""Customer.io (Journeys): people through the Track API, segments through the App API.

Facts: ../shared/platforms/customerio.md. Two credentials and two hosts: the Track API (Basic
site id : track key) writes people; the App API (Bearer app key) reads segments and workspaces.
"""

from __future__ import annotations

from integrations.platforms import rules
from integrations.platforms.base import PlatformClient
from integrations.platforms.customerio.api import APP, TRACK
from integrations.platforms.customerio.connection import CustomerIoConnection
from integrations.platforms.customerio.contacts import CustomerIoContacts
from integrations.platforms.customerio.segments import CustomerIoSegments
from integrations.platforms.registry import register
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
    CustomerIoConnection, CustomerIoContacts, CustomerIoSegments, PlatformClient
):
    slug = "customerio"
    label = "Customer.io"
    category = Category.CROSS_CHANNEL
    summary = "People and attributes through the Track API's batch endpoint; segments with counts."
    capabilities = frozenset(
        {
            Capability.TEST_CONNECTION,
            Capability.LIST_FIELDS,
            Capability.UPSERT_CONTACTS,
            Capability.LIST_SEGMENTS,
            Capability.DELETE_CONTACT,
        }
    )
    unsupported_reasons = {
        Capability.EXPORT_CONTACT: "not wired in the console yet (the App API's "
        "/v1/customers/{id}/attributes, segments and messages): read the person's profile in "
        "Customer.io",
        Capability.CREATE_SEGMENT: "only empty manual segments can be created through the API; "
        "data-driven segments are built in Customer.io's UI (not yet wired in the console)",
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
            "workspaces). Shown once when created.",
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
        rates={TRACK: Rate(100, 1.0), APP: Rate(10, 1.0)},
        timestamp_format=TimestampFormat.UNIX_SECONDS,
    )
    identifier_fields = ("email", "id")
    accepts_new_fields = True
    # The batch's errors name an invalid email "invalid"; attributes are untyped.
    contact_rules = (rules.EmailSyntax(code="invalid"),)
    suggested_mappings = (
        ("email", "email", "", True),
        ("first_name", "first_name", "", False),
        ("last_name", "last_name", "", False),
        ("status", "unsubscribed", "is_unsubscribed", False),
        ("created_at", "created_at", "", False),
    )
