"""The privacy requests' admin by role: opening, the list and its flags, Retry failed tasks."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils import timezone

from integrations.models import AuditEntry, PrivacyRequest, PrivacyStatus, TaskState
from integrations.services import privacy

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("inline_queue")]

CHANGELIST = "admin:integrations_privacyrequest_changelist"


def test_an_officer_opens_a_request_from_the_admin(client, officer, make_integration):
    make_integration("kit", name="Kit")  # no deletion: settled as not supported at once
    response = client.post(
        reverse("admin:integrations_privacyrequest_add"),
        {"kind": "deletion", "subject_email": " Ann@Example.com"},
    )
    assert response.status_code == 302, response.content
    request = PrivacyRequest.objects.get()
    assert request.handled_by == officer
    assert request.status == PrivacyStatus.COMPLETE  # nothing held, Kit not supported
    assert request.tasks.get().state == TaskState.NOT_SUPPORTED
    page = client.get(reverse("admin:integrations_privacyrequest_change", args=[request.pk]))
    assert page.status_code == 200
    assert b"no way to delete a subscriber" in page.content


def test_the_list_flags_overdue_requests_and_finds_closed_ones_by_email(client, officer):
    late = privacy.open_request("access", "late@example.com")
    late.deadline = timezone.now() - timedelta(days=1)
    late.save()
    privacy.advance(privacy.open_request("access", "closed@example.com"))  # completes
    page = client.get(reverse(CHANGELIST), {"overdue": "yes"})
    assert page.status_code == 200
    assert list(page.context["cl"].queryset) == [late]
    found = client.get(reverse(CHANGELIST), {"q": "Closed@example.com"})
    assert [r.subject_email for r in found.context["cl"].queryset] == [""]  # by its hash
    home = client.get(reverse("admin:index"))
    assert b"1 overdue" in home.content


def test_retry_failed_is_refused_without_the_permission(client):
    from django.contrib.auth.models import Permission

    request = privacy.open_request("access", "ann@example.com")
    reader = User.objects.create_user("reader", password="x", is_staff=True)
    reader.user_permissions.add(Permission.objects.get(codename="view_privacyrequest"))
    client.force_login(reader)
    assert client.get(reverse(CHANGELIST)).status_code == 200
    response = client.post(
        reverse(CHANGELIST), {"action": "retry_failed", "_selected_action": [request.pk]}
    )
    assert response.status_code == 403
    assert client.get(reverse("admin:integrations_privacyrequest_add")).status_code == 403


def test_retry_failed_puts_failed_tasks_back(
    client, officer, make_integration, django_capture_on_commit_callbacks
):
    make_integration("front", name="Front", base_url="http://127.0.0.1:9/sandbox/front")
    request = privacy.open_request("access", "ann@example.com")
    request.tasks.update(state=TaskState.FAILED, reason="earlier failure")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse(CHANGELIST), {"action": "retry_failed", "_selected_action": [request.pk]}
        )
    assert response.status_code == 302
    task = request.tasks.get()
    assert task.attempts == 1  # run again, and failed again: nothing listens on port 9
    assert task.state == TaskState.FAILED and task.reason != "earlier failure"
    assert AuditEntry.objects.filter(summary="Retried 1 failed task(s)").exists()


def test_a_suppress_request_from_the_admin_shows_the_platform_ids_found(
    client, officer, make_integration
):
    from audience.models import EngagementEvent, Subscriber, SubscriberStatus

    kit = make_integration("kit", name="Kit")
    make_integration("front", name="Front")
    ann = Subscriber.objects.create(email="ann@example.com")
    EngagementEvent.objects.create(
        subscriber=ann, integration=kit, kind="opened", occurred_at=timezone.now(),
        source="webhook", dedupe_key="k1", data={"platform_id": "4242"},
    )  # fmt: skip
    add = client.get(reverse("admin:integrations_privacyrequest_add"))
    assert b'value="suppress"' in add.content
    response = client.post(
        reverse("admin:integrations_privacyrequest_add"),
        {"kind": "suppress", "subject_email": "ann@example.com"},
    )
    assert response.status_code == 302, response.content
    request = PrivacyRequest.objects.get()
    ann.refresh_from_db()
    assert ann.status == SubscriberStatus.UNSUBSCRIBED  # SharpSend's side ran at once
    page = client.get(reverse("admin:integrations_privacyrequest_change", args=[request.pk]))
    text = page.content.decode()
    assert "Do not sell / suppress" in text
    assert "4242" in text and "webhook event (opened)" in text
    assert "Front has no email suppression" in text
