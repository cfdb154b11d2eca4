"""The audit log: who created, changed, deleted, ran or connected what, never a secret."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.urls import reverse

from integrations import roles
from integrations.models import AuditAction, AuditEntry, Integration, SyncTrigger
from integrations.platforms.types import ConnectionReport
from integrations.services import audit, connection, queue
from integrations.services.setup import Draft, save_integration

pytestmark = pytest.mark.django_db

TRACK_KEY = "cio-track-secret-audit-1"
APP_KEY = "cio-app-secret-audit-2"
NEW_KEY = "cio-track-secret-audit-new"
PASSED = ConnectionReport(ok=True, can_write=True, account="Sandbox", detail="ok")


@pytest.fixture(autouse=True)
def no_queue(monkeypatch):
    monkeypatch.setattr(queue, "async_task", lambda *args, **kwargs: None)


@pytest.fixture
def customerio(make_integration):
    return make_integration(
        "customerio",
        name="Audited CIO",
        credentials={"site_id": "site-1", "track_api_key": TRACK_KEY, "app_api_key": APP_KEY},
        mappings=[],
    )


def all_entries_text() -> str:
    return json.dumps(
        list(AuditEntry.objects.values("summary", "changes", "target_label")), default=str
    )


def entries(action=None):
    found = AuditEntry.objects.order_by("id")
    return list(found.filter(action=action) if action else found)


def change_data(integration, **overrides):
    data = {
        "name": integration.name,
        "enabled": "on",
        "sync_frequency": integration.sync_frequency,
        "update_existing": "on",
        "region": integration.region,
        "api_base_url": integration.api_base_url,
        "credential_site_id": "site-1",
        "credential_track_api_key": "",
        "credential_app_api_key": "",
        "field_mappings-TOTAL_FORMS": "0",
        "field_mappings-INITIAL_FORMS": "0",
        "field_mappings-MIN_NUM_FORMS": "0",
        "field_mappings-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def test_changes_name_credentials_by_key_only(customerio):
    before = audit.snapshot(customerio)
    customerio.credentials = {**customerio.credentials, "track_api_key": NEW_KEY}
    customerio.sync_frequency = "hourly"
    changes = audit.integration_changes(before, customerio)
    assert changes["sync_frequency"] == ["manual", "hourly"]
    assert changes["credentials.track_api_key"] == "changed"
    assert changes["credentials.app_api_key"] == "unchanged"
    assert "name" not in changes
    text = json.dumps(changes)
    assert TRACK_KEY not in text and NEW_KEY not in text and APP_KEY not in text


def test_an_unknown_action_is_refused():
    with pytest.raises(ValueError):
        audit.record("made_up")


def test_the_admin_records_create_change_secrets_and_delete_with_its_user(
    admin_client, admin_user, customerio
):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    response = admin_client.post(
        url, change_data(customerio, sync_frequency="daily", credential_track_api_key=NEW_KEY)
    )
    assert response.status_code == 302
    changed = entries(AuditAction.INTEGRATION_CHANGED)[-1]
    assert (changed.actor, changed.via, changed.target_label) == (
        admin_user,
        "admin",
        "Audited CIO",
    )
    assert changed.changes["sync_frequency"] == ["manual", "daily"]
    secrets = entries(AuditAction.SECRETS_CHANGED)[-1]
    assert secrets.changes == {"credentials.track_api_key": "changed"}
    assert "track_api_key" in secrets.summary

    delete = reverse("admin:integrations_integration_delete", args=[customerio.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not Integration.objects.filter(pk=customerio.pk).exists()
    deleted = entries(AuditAction.INTEGRATION_DELETED)[-1]
    assert (deleted.actor, deleted.target_label, deleted.target_id) == (
        admin_user,
        "Audited CIO",
        str(customerio.pk),
    )
    assert deleted.target_type.model == "integration"
    text = all_entries_text()
    assert TRACK_KEY not in text and NEW_KEY not in text and APP_KEY not in text


def test_an_unchanged_save_records_nothing(admin_client, customerio):
    url = reverse("admin:integrations_integration_change", args=[customerio.pk])
    assert admin_client.post(url, change_data(customerio)).status_code == 302
    assert entries() == []


def test_the_wizard_save_records_who_created_then_changed(admin_user):
    draft = Draft(
        platform="iterable",
        name="Wizard made",
        credentials={"api_key": "iterable-secret-audit"},
        mappings=[{"source": "email", "target": "email", "is_identifier": True}],
    )
    integration = save_integration(draft, report=PASSED, actor=admin_user)
    created = entries(AuditAction.INTEGRATION_CREATED)
    assert [(e.actor, e.via, e.target_id) for e in created] == [
        (admin_user, "wizard", str(integration.pk))
    ]
    assert created[0].changes["credentials.api_key"] == "changed"
    draft.credentials = {"api_key": "iterable-secret-audit-2"}
    save_integration(draft, Integration.objects.get(pk=integration.pk), report=PASSED)
    assert entries(AuditAction.SECRETS_CHANGED)[-1].changes == {"credentials.api_key": "changed"}
    assert "iterable-secret-audit" not in all_entries_text()


def test_admin_actions_and_console_syncs_record_their_user(
    admin_client, admin_user, customerio, django_capture_on_commit_callbacks
):
    url = reverse("admin:integrations_integration_changelist")
    for action in ("sync_now", "test_connection", "import_segments"):
        admin_client.post(url, {"action": action, "_selected_action": [customerio.pk]})
    assert [(e.action, e.actor, e.via) for e in entries()] == [
        (AuditAction.SYNC_REQUESTED, admin_user, "admin"),
        (AuditAction.CONNECTION_TESTED, admin_user, "admin"),
        (AuditAction.SEGMENTS_IMPORTED, admin_user, "admin"),
    ]
    AuditEntry.objects.all().delete()
    customerio.sync_runs.all().delete()
    admin_client.post(reverse("integrations:sync", args=[customerio.pk]))
    [entry] = entries()
    assert (entry.action, entry.actor, entry.via) == (
        AuditAction.SYNC_REQUESTED,
        admin_user,
        "console",
    )
    assert entry.target_id == str(customerio.pk)


def test_a_sync_already_under_way_and_the_housekeeping_resume_record_nothing(customerio):
    queue.enqueue_sync(customerio, SyncTrigger.RESUME)  # the system's own, no actor
    assert entries() == []
    user = User.objects.create_user("op")
    _, created = queue.enqueue_sync(customerio, SyncTrigger.MANUAL, actor=user)
    assert not created and entries() == []


def test_commands_record_no_actor_and_say_which_command(customerio, monkeypatch):
    monkeypatch.setattr(connection, "judge_connection", lambda integration: PASSED, raising=True)
    call_command("test_connection", str(customerio.pk))
    [entry] = entries()
    assert (entry.action, entry.actor, entry.via) == (
        AuditAction.CONNECTION_TESTED,
        None,
        "manage.py test_connection",
    )
    assert entry.summary == "Connection test: ok"


def test_the_audit_admin_is_read_only_even_for_a_superuser(admin_client, customerio):
    entry = audit.record(AuditAction.SYNC_REQUESTED, via="test", target=customerio, summary="x")
    base = "admin:integrations_auditentry_"
    assert admin_client.get(reverse(base + "add")).status_code == 403
    change = reverse(base + "change", args=[entry.pk])
    assert admin_client.get(change).status_code == 200  # viewable
    assert admin_client.post(change, {"summary": "edited"}).status_code == 403
    assert admin_client.get(reverse(base + "delete", args=[entry.pk])).status_code == 403
    changelist = reverse(base + "changelist")
    response = admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": [entry.pk]}
    )
    assert response.status_code == 403
    entry.refresh_from_db()
    assert entry.summary == "x"


def test_the_audit_list_filters_by_action_actor_date_and_searches_labels(
    admin_client, admin_user, customerio, make_integration
):
    other = make_integration("iterable", name="Other one")
    audit.record(AuditAction.SYNC_REQUESTED, actor=admin_user, target=customerio)
    audit.record(AuditAction.CONNECTION_TESTED, via="manage.py test_connection", target=other)
    changelist = reverse("admin:integrations_auditentry_changelist")
    page = admin_client.get(changelist, {"action__exact": "connection_tested"})
    assert page.status_code == 200
    assert list(page.context["cl"].result_list.values_list("target_label", flat=True)) == [
        "Other one"
    ]
    found = admin_client.get(changelist, {"q": "Audited"}).context["cl"].result_list
    assert [e.target_label for e in found] == ["Audited CIO"]
    mine = admin_client.get(changelist, {"actor__id__exact": admin_user.pk}).context["cl"]
    assert [e.action for e in mine.result_list] == [AuditAction.SYNC_REQUESTED]
    assert admin_client.get(changelist, {"at__year": "2000"}).context["cl"].result_count == 0
    assert b"system (manage.py test_connection)" in admin_client.get(changelist).content


def test_only_the_admin_role_reads_the_audit_log(client):
    roles.ensure_roles()
    changelist = reverse("admin:integrations_auditentry_changelist")
    for role, status in (("Viewer", 403), ("Operator", 403), ("Admin", 200)):
        user = User.objects.create_user(f"u-{role}", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        assert client.get(changelist).status_code == status, role


def test_giving_a_user_a_role_in_the_admin_is_recorded(admin_client, admin_user):
    roles.ensure_roles()
    user = User.objects.create_user("newcomer")
    operator = Group.objects.get(name="Operator")
    url = reverse("admin:auth_user_change", args=[user.pk])
    data = {
        "username": "newcomer",
        "is_active": "on",
        "is_staff": "on",
        "groups": [operator.pk],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    [entry] = entries(AuditAction.ROLE_CHANGED)
    assert (entry.actor, entry.via, entry.target_label) == (admin_user, "admin", "newcomer")
    assert entry.changes == {"groups": [[], ["Operator"]], "is_staff": [False, True]}
    assert admin_client.post(url, data).status_code == 302  # the same again: nothing new
    assert len(entries(AuditAction.ROLE_CHANGED)) == 1
