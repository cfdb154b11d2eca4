"""The "Create/update on <integration>" admin action on SharpSend segments."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from audience.models import AudienceSegment
from integrations.models import AuditEntry, SyncKind, SyncRun

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
    run = SyncRun.objects.get()
    assert (run.kind, run.segment_push.segment, run.integration) == (
        SyncKind.SEGMENT,
        segment,
        iterable,
    )
    assert f"VIPs: push to Iterable queued (run #{run.pk})." in response.content.decode()
    assert queued == [(("integrations.tasks.run_sync", run.pk), {"group": f"sync-{iterable.pk}"})]
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
    assert not SyncRun.objects.exists() and queued == []


def test_push_runs_and_their_refused_changes_are_readable(admin_client, make_integration, segment):
    """A push is a run in the sync runs' pages (its kind shown and filtered on), its refused
    changes in the records with their action; the segment's page links to its runs."""
    from integrations.models import SegmentPush, SyncRecord

    iterable = make_integration("iterable", name="Iterable")
    push = SegmentPush.objects.create(
        segment=segment, integration=iterable, remote_id="77", remote_name="VIPs"
    )
    run = SyncRun.objects.create(integration=iterable, kind=SyncKind.SEGMENT, segment_push=push,
                                 trigger="command", status="partial", created=3, removed=2,
                                 rejected_compliance=1)  # fmt: skip
    sync = SyncRun.objects.create(integration=iterable, trigger="manual", status="succeeded")
    SyncRecord.objects.create(run=run, email="gone@example.com", action="add",
                              outcome="rejected_compliance", code="Forgotten")  # fmt: skip
    page = admin_client.get(reverse("admin:integrations_syncrun_change", args=[run.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert "Segment push" in content and "Added to the list" in content
    assert "Removed from the list" in content
    records = admin_client.get(
        reverse("admin:integrations_syncrecord_changelist"), {"run__id__exact": run.pk}
    ).content.decode()
    assert "gone@example.com" in records and "Forgotten" in records and ">Add<" in records

    listing = admin_client.get(
        reverse("admin:integrations_syncrun_changelist"), {"kind__exact": "segment"}
    )
    rows = listing.content.decode()
    assert listing.status_code == 200
    assert "segment push · VIPs" in rows and "3 added · 2 removed · 1 failed" in rows
    assert f"#{run.pk}<" in rows and f"#{sync.pk}<" not in rows
    everything = admin_client.get(reverse("admin:integrations_syncrun_changelist")).content
    assert f"#{sync.pk}<".encode() in everything and f"#{run.pk}<".encode() in everything

    segment_page = admin_client.get(
        reverse("admin:audience_audiencesegment_change", args=[segment.pk])
    ).content.decode()
    link = f"kind__exact=segment&amp;segment_push__id__exact={push.pk}"
    assert "Iterable: list VIPs (77)" in segment_page and link in segment_page
    filtered = admin_client.get(
        reverse("admin:integrations_syncrun_changelist"),
        {"kind__exact": "segment", "segment_push__id__exact": push.pk},
    )
    assert filtered.status_code == 200 and f"#{run.pk}<" in filtered.content.decode()
    add = admin_client.get(reverse("admin:integrations_syncrun_add"))
    assert add.status_code == 403
