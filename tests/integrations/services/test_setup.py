"""Saving what the wizard collected records its connection test; the status follows it."""

import pytest
from django.urls import reverse
from django_q.models import Schedule

from integrations.models import IntegrationStatus, SyncFrequency
from integrations.platforms.types import ConnectionReport
from integrations.services.schedules import schedule_name
from integrations.services.setup import Draft, save_integration

pytestmark = pytest.mark.django_db

PASSED = ConnectionReport(
    ok=True,
    can_write=True,
    account="Sandbox project",
    detail="Connected to Iterable (US); the key can write users.",
    permissions={"upsert_contacts": True},
)


def draft(**overrides) -> Draft:
    values = {
        "platform": "iterable",
        "name": "Iterable newsletter",
        "credentials": {"api_key": "fake-iterable-key-0000"},
        "mappings": [{"source": "email", "target": "email", "is_identifier": True}],
    }
    return Draft(**{**values, **overrides})


def test_the_wizard_test_is_recorded_where_the_admin_reads_it(admin_client):
    integration = save_integration(draft(), report=PASSED)
    integration.refresh_from_db()
    assert integration.status == IntegrationStatus.CONNECTED
    assert integration.connection_report == PASSED.as_dict()
    assert integration.last_tested_at is not None
    page = admin_client.get(
        reverse("admin:integrations_integration_change", args=[integration.pk])
    ).content.decode()
    assert "Not tested yet" not in page
    assert "<tr><th>Result</th><td>OK</td></tr>" in page
    assert "the key can write users." in page


def test_an_edit_that_passes_its_test_ends_needs_attention(make_integration):
    integration = make_integration("iterable", status=IntegrationStatus.NEEDS_ATTENTION)
    saved = save_integration(draft(name=integration.name), integration, report=PASSED)
    assert saved.status == IntegrationStatus.CONNECTED


def test_nothing_is_saved_without_a_passing_test():
    refused = ConnectionReport(ok=False, can_write=False, detail="read-only key")
    with pytest.raises(ValueError):
        save_integration(draft(), report=refused)


def test_saving_sets_the_schedule_and_an_edit_changes_it():
    integration = save_integration(draft(sync_frequency=SyncFrequency.HOURLY), report=PASSED)
    assert Schedule.objects.get(name=schedule_name(integration.pk)).minutes == 60
    save_integration(draft(sync_frequency=SyncFrequency.DAILY), integration, report=PASSED)
    assert Schedule.objects.get(name=schedule_name(integration.pk)).minutes == 1440
    save_integration(draft(sync_frequency=SyncFrequency.MANUAL), integration, report=PASSED)
    assert not Schedule.objects.filter(name=schedule_name(integration.pk)).exists()
