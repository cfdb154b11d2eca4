"""The demo's assignments over the sandbox: nothing is sent before the readers are there, then
one assignment goes out once per target with metrics read back, and the other waits in review."""

import pytest
from django.contrib.auth import get_user_model
from django_q.models import Schedule

from audience.demo import create_demo_audience
from campaigns import demo
from campaigns.models import Assignment, AssignmentStatus, CampaignSend, SendState
from integrations.models import Integration
from integrations.sandbox.models import SandboxSend
from integrations.services.demo import create_demo_integrations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_console(sandbox_url, e2e_clock, run_sync):
    create_demo_audience(60)
    create_demo_integrations(sandbox_url)
    get_user_model().objects.create_superuser("admin", password="not-a-real-password")
    demo.queue_demo_assignments()
    return run_sync


def _synced(run_sync, platform):
    run_sync(Integration.objects.get(platform=platform, name__endswith="(sandbox)"))


def test_nothing_is_created_before_the_first_syncs(demo_console):
    assert demo.advance_demo().startswith("Waiting for the first sync of the mailchimp")
    _synced(demo_console, "mailchimp")
    assert demo.advance_demo().startswith("Waiting for the first sync of the customerio")
    assert not Assignment.objects.exists()
    assert Schedule.objects.filter(name=demo.SCHEDULE).exists()


def test_one_sent_with_metrics_and_one_in_review(demo_console, client):
    for platform in ("mailchimp", "customerio"):
        _synced(demo_console, platform)
    assert demo.advance_demo() == "Demo assignments ready: “Markets this week (demo)” sent."
    demo.advance_demo()  # the schedule ran once more before it was removed: nothing repeats

    sent, in_review = (Assignment.objects.get(title=d.title) for d in demo.DEMOS)
    assert sent.status == AssignmentStatus.SENT
    assert in_review.status == AssignmentStatus.IN_REVIEW
    sends = CampaignSend.objects.filter(target__assignment=sent)
    assert {s.state for s in sends} == {SendState.SENT}
    assert {s.target.integration.platform for s in sends} == {"mailchimp", "customerio"}
    assert all(s.snapshots.count() == 1 for s in sends)
    # The sandbox went out once per target, to the segment's readers.
    recorded = SandboxSend.objects.filter(platform__in=("mailchimp", "customerio"))
    assert sorted((r.platform, r.sends) for r in recorded) == [("customerio", 1), ("mailchimp", 1)]
    assert all(r.recipients > 0 for r in recorded), [
        (r.platform, r.kind, r.recipients) for r in recorded
    ]
    assert not Schedule.objects.filter(name=demo.SCHEDULE).exists()

    client.force_login(get_user_model().objects.get(username="admin"))
    page = client.get("/console/analytics/").content.decode()
    assert "Markets this week (demo)" in page
