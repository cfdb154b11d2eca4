"""The "Create/update on <integration>" admin action on SharpSend segments."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audience.models import AudienceSegment
from integrations.models import AuditEntry, SegmentPushRun

pytestmark = pytest.mark.django_db

URL = "admin:audience_audiencesegment_changelist"


@pytest.fixture
def queued(monkeypatch):
    """The tasks handed to django-q (run once the request's transaction commits)."""
    calls = []
    monkeypatch.setattr(
        "integrations.services.queue.async_task", lambda *a, **k: calls.append((a, k))
    )
    return calls


@pytest.fixture
def segment():
    return AudienceSegment.objects.create(name="VIPs", slug="vips")


def staff(*codenames):
    user = User.objects.create_user("op", password="pw", is_staff=True)
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return user


def test_the_action_is_offered_per_pushable_integration(admin_client, make_integration, segment):
    iterable = make_integration("iterable", name="Iterable")
    make_integration("drift", name="Drift")
    content = admin_client.get(reverse(URL)).content.decode()
    assert f'value="push_to_{iterable.pk}"' in content
    assert "Create/update on Iterable" in content
    assert "Create/update on Drift" not in content


def test_the_action_queues_a_push(
    admin_client, make_integration, segment, queued, django_capture_on_commit_callbacks
):
    iterable = make_integration("iterable", name="Iterable")
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse(URL),
            {"action": f"push_to_{iterable.pk}", "_selected_action": [segment.pk]},
            follow=True,
        )
    run = SegmentPushRun.objects.get()
    assert f"VIPs: push to Iterable queued (run #{run.pk})." in response.content.decode()
    assert queued == [
        (("integrations.tasks.run_segment_push", run.pk), {"group": f"push-{run.push_id}"})
    ]
    assert AuditEntry.objects.filter(action="segment_push_requested", via="admin").exists()


def test_without_run_sync_the_action_is_refused(client, make_integration, segment, queued):
    iterable = make_integration("iterable", name="Iterable")
    client.force_login(staff("view_audiencesegment", "change_audiencesegment"))
    content = client.get(reverse(URL)).content.decode()
    assert "Create/update on" not in content
    response = client.post(
        reverse(URL), {"action": f"push_to_{iterable.pk}", "_selected_action": [segment.pk]}
    )
    assert response.status_code == 403
    assert not SegmentPushRun.objects.exists() and queued == []


def test_push_runs_and_their_refused_changes_are_readable(admin_client, make_integration, segment):
    from integrations.models import SegmentPush, SegmentPushRecord

    push = SegmentPush.objects.create(segment=segment, integration=make_integration("iterable"))
    run = SegmentPushRun.objects.create(push=push, trigger="command", status="partial", added=3)
    SegmentPushRecord.objects.create(run=run, identifier="gone@example.com", action="add",
                                     outcome="rejected_compliance", code="Forgotten")  # fmt: skip
    page = admin_client.get(reverse("admin:integrations_segmentpushrun_change", args=[run.pk]))
    content = page.content.decode()
    assert page.status_code == 200 and "gone@example.com" in content and "Forgotten" in content
    listing = admin_client.get(reverse("admin:integrations_segmentpushrun_changelist"))
    assert listing.status_code == 200
    add = admin_client.get(reverse("admin:integrations_segmentpushrun_add"))
    assert add.status_code == 403
