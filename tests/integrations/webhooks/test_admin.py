"""The webhook inbox admin and the webhook block on the integration's page."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from integrations import roles
from integrations.models import Integration, WebhookEvent, WebhookState
from integrations.services import queue
from tests.integrations.webhooks.samples import SECRET

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_role(client):
    roles.ensure_roles()

    def login(role_name: str):
        user = User.objects.create_user(f"u-{role_name}", is_staff=True)
        user.groups.add(Group.objects.get(name=role_name))
        client.force_login(user)
        return client

    return login


@pytest.fixture
def queued(monkeypatch):
    calls = []
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: calls.append(args))
    return calls


def _event(integration, state, key, **fields):
    return WebhookEvent.objects.create(
        integration=integration, dedupe_key=key, body=b'{"a": 1}', state=state, **fields
    )


def test_the_inbox_lists_and_filters_read_only(as_role, webhook_integration):
    integration = webhook_integration("sendgrid")
    _event(integration, WebhookState.FAILED, "k1", error="ValueError: odd body")
    _event(integration, WebhookState.PROCESSED, "k2")
    client = as_role("Viewer")
    url = reverse("admin:integrations_webhookevent_changelist")
    page = client.get(url, {"state__exact": "failed"})
    assert page.status_code == 200
    assert b"ValueError: odd body" in page.content
    assert page.context["cl"].result_count == 1
    assert (
        client.get(url, {"integration__id__exact": integration.pk}).context["cl"].result_count == 2
    )
    assert client.get(reverse("admin:integrations_webhookevent_add")).status_code == 403


def test_an_events_page_shows_no_secret(as_role, webhook_integration, client, fake_clock):
    from tests.integrations.webhooks.helpers import post_signed

    integration = webhook_integration("iterable")
    post_signed(client, integration, fake_clock.time)
    event = WebhookEvent.objects.get()
    page = as_role("Admin").get(reverse("admin:integrations_webhookevent_change", args=[event.pk]))
    assert page.status_code == 200
    assert SECRET.encode() not in page.content
    assert b"emailComplaint" in page.content


def test_replay_needs_its_permission_and_queues_only_failed(
    as_role, webhook_integration, queued, django_capture_on_commit_callbacks
):
    integration = webhook_integration("sendgrid")
    failed = _event(integration, WebhookState.FAILED, "k1")
    done = _event(integration, WebhookState.PROCESSED, "k2")
    url = reverse("admin:integrations_webhookevent_changelist")
    data = {"action": "replay", "_selected_action": [failed.pk, done.pk]}
    viewer = as_role("Viewer")
    viewer.post(url, data)
    assert not queued  # Django does not run an action the user lacks
    operator = as_role("Operator")
    with django_capture_on_commit_callbacks(execute=True):
        response = operator.post(url, data)
    assert response.status_code == 302
    assert [args[1] for args in queued] == [failed.pk]


def test_the_integration_page_shows_the_url_and_the_secret_only_to_changers(
    as_role, webhook_integration
):
    integration = webhook_integration("iterable", secret=False)
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    viewer_page = as_role("Viewer").get(url).content.decode()
    assert f"/webhooks/{integration.webhook_id}/" in viewer_page
    assert "hidden" in viewer_page
    integration.refresh_from_db()
    assert "webhook_secret" not in integration.secrets  # a viewer's visit makes no secret
    admin_page = as_role("Admin").get(url).content.decode()
    integration.refresh_from_db()
    token = integration.secrets["webhook_secret"]
    assert token in admin_page and "System Webhooks" in admin_page


def test_a_url_token_rides_in_the_url_for_changers(as_role, webhook_integration):
    integration = webhook_integration("campaign_monitor", secret=False)
    page = as_role("Admin").get(
        reverse("admin:integrations_integration_change", args=[integration.pk])
    )
    integration.refresh_from_db()
    assert f"?token={integration.secrets['webhook_secret']}" in page.content.decode()


def test_a_platform_issued_secret_is_typed_write_only_and_kept_on_save(
    as_role, webhook_integration
):
    integration = webhook_integration("customerio", secret=False)
    client = as_role("Admin")
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    form = client.get(url).context["adminform"].form
    assert "webhook_credential_webhook_signing_key" in form.fields
    data = {
        "name": integration.name,
        "enabled": "on",
        "sync_frequency": integration.sync_frequency,
        "update_existing": "on",
        "conflict_policy": integration.conflict_policy,
        "region": integration.region,
        "api_base_url": "",
        "credential_site_id": integration.secrets["site_id"],
        "webhook_credential_webhook_signing_key": "cio-signing-key-123",
        "field_mappings-TOTAL_FORMS": "0",
        "field_mappings-INITIAL_FORMS": "0",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    integration = Integration.objects.get(pk=integration.pk)
    assert integration.secrets["webhook_signing_key"] == "cio-signing-key-123"
    assert b"cio-signing-key-123" not in client.get(url).content
    data["webhook_credential_webhook_signing_key"] = ""
    assert client.post(url, data).status_code == 302
    assert (
        Integration.objects.get(pk=integration.pk).secrets["webhook_signing_key"]
        == "cio-signing-key-123"
    )


def test_the_console_page_shows_the_inbox_at_a_glance(as_role, webhook_integration):
    from datetime import timedelta

    from django.utils import timezone

    integration = webhook_integration("sendgrid")
    now = timezone.now()
    done = _event(integration, WebhookState.PROCESSED, "k1", processed_at=now)
    WebhookEvent.objects.filter(pk=done.pk).update(received_at=now - timedelta(seconds=2))
    _event(integration, WebhookState.REJECTED, "k2")
    _event(integration, WebhookState.REJECTED, "k3")
    page = as_role("Viewer").get(reverse("integrations:integration", args=[integration.pk]))
    assert page.status_code == 200
    health = page.context["webhooks"]
    assert (health.rejected, health.failed, health.counts["processed"]) == (2, 0, 1)
    assert round(health.lag_seconds) == 2
    html = page.content.decode()
    assert 'id="webhooks-rejected">2<' in html
    assert f"integration__id__exact={integration.pk}" in html


# --- registering webhooks from the admin ------------------------------------------------------------


def _register_action(client, *integrations):
    url = reverse("admin:integrations_integration_changelist")
    data = {"action": "register_webhooks", "_selected_action": [i.pk for i in integrations]}
    return client.post(url, data, follow=True)


def test_register_webhooks_is_queued_for_those_who_may_change_integrations(
    as_role, webhook_integration, queued, django_capture_on_commit_callbacks
):
    from integrations.models import AuditAction, AuditEntry

    integration = webhook_integration("sendgrid")
    with django_capture_on_commit_callbacks(execute=True):
        page = _register_action(as_role("Admin"), integration)
    assert [args for args in queued] == [("integrations.tasks.register_webhooks", integration.pk)]
    assert "Webhook registration queued" in page.content.decode()
    entry = AuditEntry.objects.get(action=AuditAction.WEBHOOKS_REGISTERED)
    assert (entry.via, entry.actor.username) == ("admin", "u-Admin")


def test_register_webhooks_is_refused_without_the_change_permission(
    as_role, webhook_integration, queued, django_capture_on_commit_callbacks
):
    integration = webhook_integration("sendgrid")
    url = reverse("admin:integrations_integration_changelist")
    data = {"action": "register_webhooks", "_selected_action": [integration.pk]}
    with django_capture_on_commit_callbacks(execute=True):
        response = as_role("Operator").post(url, data)
    assert response.status_code == 403
    assert not queued


def test_a_platform_without_the_api_gets_the_reason_and_the_way_by_hand(
    as_role, webhook_integration, queued, django_capture_on_commit_callbacks
):
    integration = webhook_integration("iterable", secret=False)
    with django_capture_on_commit_callbacks(execute=True):
        page = _register_action(as_role("Admin"), integration).content.decode()
    assert not queued
    assert "cannot register webhooks" in page and "The webhook URL and the steps" in page


def test_the_page_shows_the_registration_and_masks_the_token(
    as_role, webhook_integration, settings
):
    from django.utils import timezone

    from integrations.models import RegisteredWebhook

    settings.CONSOLE_BASE_URL = "https://console.example.com"
    integration = webhook_integration("campaign_monitor", secret=False)
    url = reverse("admin:integrations_integration_change", args=[integration.pk])
    admin_client = as_role("Admin")
    page = admin_client.get(url).content.decode()
    assert "not yet: select this integration" in page
    token = Integration.objects.get(pk=integration.pk).secrets["webhook_secret"]
    assert (
        f"<summary><code>https://console.example.com/webhooks/{integration.webhook_id}/?token=••••{token[-4:]}</code>"
        in page
    )
    now = timezone.now()
    RegisteredWebhook.objects.create(
        integration=integration, remote_id="ee1b38", endpoint="https://console.example.com/x",
        events=["Deactivate"], registered_at=now, confirmed_at=now,
    )  # fmt: skip
    page = admin_client.get(url).content.decode()
    assert "<code>ee1b38</code> Deactivate — active" in page
    viewer_client = as_role("Viewer")
    viewer = viewer_client.get(url).content.decode()
    assert token not in viewer and "(token hidden)" in viewer
    detail = viewer_client.get(reverse("integrations:integration", args=[integration.pk]))
    assert 'id="webhooks-registered">1<' in detail.content.decode()
