"""Front end to end: the console's services against the sandbox over real HTTP, with an API
token and with an OAuth connection through the sandbox's authorization server."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from integrations.models import (
    IntegrationStatus,
    OAuthConnection,
    SyncStateStatus,
    SyncStatus,
)
from integrations.platforms.registry import get_platform
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact, SandboxFieldType
from integrations.services import connection
from tests.e2e.support import stored_contacts
from tests.e2e.support import sync_states as states

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "front"
ACCOUNT = "sbx-company"
TOKEN = "sandbox-front-api-token"
READ_ONLY = "sandbox-front-readonly-token"
MAPPINGS = (
    *get_platform(SLUG).suggested_mappings,
    ("attributes.interest", "custom_fields.interest", "", False),
)


@pytest.fixture
def integration(make_integration, base_url, e2e_clock):
    registry.seed(SLUG)  # the custom fields Front needs defined before writing
    return make_integration(SLUG, base_url=base_url, mappings=MAPPINGS)


def stored() -> dict[str, dict]:
    return stored_contacts(SLUG, ACCOUNT)


def test_wrong_token_is_refused(make_integration, base_url, e2e_clock):
    integration = make_integration(
        SLUG, base_url=base_url, credentials={"api_token": "wrong-token-123"}
    )
    report = connection.test_connection(integration)
    assert report.ok is False
    assert "refused the API token" in report.detail
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.ERROR
    assert "wrong-token-123" not in str(integration.connection_report)


def test_token_without_contacts_write_is_refused(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    integration = make_integration(SLUG, base_url=base_url, credentials={"api_token": READ_ONLY})
    report = connection.test_connection(integration)
    assert report.ok is False
    assert report.can_write is False
    assert "contacts:write" in report.detail
    assert report.permissions["list_segments"] is True

    make_subscribers(3, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.FAILED
    assert run.rejected_auth == 3
    assert not SandboxContact.objects.exists()


def test_a_rejected_contact_stays_pending_and_is_retried(
    make_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    """Front refuses a value of the wrong type for a custom field; the record stays pending
    and goes out again once the field accepts it. (Front has no consent state on contacts,
    so its rejections are data rejections.)"""
    registry.seed(SLUG)
    integration = make_integration(
        SLUG,
        base_url=base_url,
        mappings=(*MAPPINGS[:3], ("attributes.seats", "custom_fields.Seats", "", False)),
    )
    subscribers = make_subscribers(4, unsubscribed=())
    odd = subscribers[2]
    odd.attributes = {"seats": "lots"}  # Seats is a number field
    odd.save()
    first = run_sync(integration)
    assert first.status == SyncStatus.PARTIAL
    assert (first.created, first.rejected_data) == (3, 1)
    [record] = first.records.all()
    assert record.subscriber_id == odd.pk
    assert "Seats" in record.message
    assert "custom field" in record.hint
    assert states(integration)[odd.pk] == SyncStateStatus.PENDING

    second = run_sync(integration)
    assert second.rejected_data == 1 and second.unchanged == 3

    SandboxFieldType.objects.filter(platform=SLUG, name="Seats").update(type="string")
    third = run_sync(integration)
    assert third.status == SyncStatus.SUCCEEDED
    assert third.created == 1
    assert stored()[odd.email.lower()]["custom_fields"] == {"Seats": "lots"}
    assert states(integration)[odd.pk] == SyncStateStatus.SYNCED


def test_oauth_connection_syncs_in_the_partner_bucket(
    oauth_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    registry.seed(SLUG)
    integration = oauth_integration(SLUG, base_url=base_url, mappings=MAPPINGS)
    assert integration.credentials == {}
    assert OAuthConnection.objects.filter(integration=integration).exists()
    report = connection.test_connection(integration)
    assert report.ok, report.detail
    assert "OAuth connection" in report.detail
    assert "120 a minute" in report.detail

    make_subscribers(5, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 5
    assert len(stored()) == 5


def test_oauth_token_expired_is_refreshed(
    oauth_integration, base_url, e2e_clock, make_subscribers, run_sync
):
    from integrations.sandbox.models import SandboxOAuthToken

    registry.seed(SLUG)
    integration = oauth_integration(SLUG, base_url=base_url, mappings=MAPPINGS)
    first_token = OAuthConnection.objects.get(integration=integration).access_token
    # The platform forgets the access token (expired early): a 401, one refresh, a resend.
    SandboxOAuthToken.objects.filter(access_token=first_token).update(
        access_expires_at=timezone.now() - timedelta(seconds=1)
    )
    make_subscribers(2, unsubscribed=())
    run = run_sync(integration)
    assert run.status == SyncStatus.SUCCEEDED, run.error
    assert run.created == 2
    renewed = OAuthConnection.objects.get(integration=integration)
    assert renewed.access_token != first_token
    assert renewed.refresh_token  # Front may keep the same refresh token: still stored
