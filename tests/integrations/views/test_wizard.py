"""The setup wizard through the test client, against the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audience.models import Subscriber, SubscriberStatus
from integrations.models import Integration, SyncFrequency, SyncRun, SyncStatus
from integrations.services import sync

pytestmark = pytest.mark.django_db(transaction=True)
PREFIX = "integration_wizard_new"
CIO_KEYS = {
    "credential_site_id": "sandbox-site-us",
    "credential_track_api_key": "sandbox-track-key-us",
    "credential_app_api_key": "sandbox-app-key-us",
}


@pytest.fixture
def audience():
    Subscriber.objects.create(email="ann@example.com", first_name="Ann", attributes={"plan": "pro"})
    Subscriber.objects.create(
        email="bob@example.com", first_name="Bob", attributes={"plan": "free"}
    )
    Subscriber.objects.create(
        email="gone@example.com", status=SubscriberStatus.UNSUBSCRIBED, attributes={}
    )


def step(client, current: str, data: dict, prefix: str = PREFIX, url=None):
    payload = {f"{prefix}-current_step": current}
    payload.update(
        {f"{current}-{k}" if "-" not in k and k != "action" else k: v for k, v in data.items()}
    )
    return client.post(url or reverse("integrations:connect"), payload)


def mapping_rows(rows: list[tuple[str, str, str, bool]]) -> dict:
    data = {"mapping-TOTAL_FORMS": str(len(rows)), "mapping-INITIAL_FORMS": "0"}
    for i, (source, target, transform, identifier) in enumerate(rows):
        data[f"mapping-{i}-source"] = source
        data[f"mapping-{i}-target"] = target
        data[f"mapping-{i}-transform"] = transform
        if identifier:
            data[f"mapping-{i}-is_identifier"] = "on"
    return data


def connect_customerio(client, sandbox_url, keys=CIO_KEYS, name="CIO via wizard"):
    assert client.get(reverse("integrations:connect")).status_code == 200
    response = step(client, "platform", {"platform": "customerio"})
    assert response.status_code == 200 and b"Credentials for Customer.io" in response.content
    credentials = {
        "name": name,
        "region": "us",
        "api_base_url": f"{sandbox_url}/customerio",
        **keys,
    }
    return step(client, "credentials", credentials)


def test_a_new_integration_is_connected_mapped_and_synced(admin_client, sandbox_url, audience):
    response = connect_customerio(admin_client, sandbox_url)
    assert b"Connected to workspace SharpSend demo workspace" in response.content
    assert b'id="capabilities"' in response.content
    response = step(admin_client, "test", {})
    assert b"<h2>Field mapping</h2>" in response.content
    # Suggestions include the custom attribute found in subscribers, and a preview.
    assert b"attributes.plan" in response.content
    assert b"would be sent" in response.content
    rows = mapping_rows(
        [("email", "email", "", True), ("first_name", "first_name", "", False),
         ("attributes.plan", "plan", "", False)]
    )  # fmt: skip
    response = admin_client.post(
        reverse("integrations:connect"), {f"{PREFIX}-current_step": "mapping", **rows}
    )
    assert b"<h2>Sync settings</h2>" in response.content
    response = step(
        admin_client,
        "settings",
        {
            "sync_frequency": SyncFrequency.HOURLY,
            "existing_contacts": "update",
            "action": "save_sync",
        },
    )
    integration = Integration.objects.get(name="CIO via wizard")
    run = SyncRun.objects.get(integration=integration)
    assert response.status_code == 302
    assert response["Location"] == reverse("integrations:run", args=[run.pk])
    assert integration.secrets["track_api_key"] == "sandbox-track-key-us"
    assert list(integration.field_mappings.values_list("target", flat=True)) == [
        "email", "first_name", "plan"
    ]  # fmt: skip
    assert (integration.status, integration.sync_frequency) == ("connected", "hourly")
    sync.execute_sync(run.pk)
    run.refresh_from_db()
    assert (run.status, run.created, run.excluded) == (SyncStatus.SUCCEEDED, 2, 1)
    page = admin_client.get(reverse("integrations:run", args=[run.pk]))
    assert b"Succeeded" in page.content


def test_a_wrong_key_keeps_the_user_on_the_test_step(admin_client, sandbox_url):
    keys = {**CIO_KEYS, "credential_track_api_key": "wrong-key"}
    response = connect_customerio(admin_client, sandbox_url, keys=keys)
    assert b"Customer.io refused the Site ID and Track API key" in response.content
    response = step(admin_client, "test", {})
    assert b"Customer.io refused the Site ID and Track API key" in response.content
    assert b"<h2>Field mapping</h2>" not in response.content
    assert not Integration.objects.exists()


def test_a_forged_final_step_creates_nothing(admin_client):
    response = step(
        admin_client,
        "settings",
        {"sync_frequency": "hourly", "existing_contacts": "update", "action": "save"},
    )
    assert response.status_code == 200
    assert not Integration.objects.exists()


def test_secrets_never_reach_the_page_or_the_session(admin_client, sandbox_url):
    response = connect_customerio(admin_client, sandbox_url)
    for secret in ("sandbox-track-key-us", "sandbox-app-key-us"):
        assert secret.encode() not in response.content
    session = admin_client.session
    raw = str(dict(session.items()))
    assert "sandbox-track-key-us" not in raw and "sandbox-app-key-us" not in raw


def test_a_viewer_sees_logs_but_cannot_sync_or_connect(client, make_integration):
    integration = make_integration("customerio")
    viewer = User.objects.create_user("viewer", password="pw-for-tests", is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_integration"))
    client.force_login(viewer)
    page = client.get(reverse("integrations:integration", args=[integration.pk]))
    assert page.status_code == 200
    assert b'id="sync-now"' not in page.content
    assert client.post(reverse("integrations:sync", args=[integration.pk])).status_code == 403
    assert client.get(reverse("integrations:connect")).status_code in (302, 403)
    assert not SyncRun.objects.exists()
