"""Content variations per segment end to end over real HTTP: two Campaign Monitor targets
with different segments, one with a variation, receive different subjects and HTML (the
emulator fetches each draft's HTML from the console's signed URL and records what it got)."""

from __future__ import annotations

import pytest

from campaigns.models import CampaignSend, ContentVariation
from campaigns.services import sending, test_sends, workflow
from integrations.models import Segment
from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, registry
from integrations.services.segments import import_segments
from tests.e2e.sending import recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "campaign_monitor"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))


@pytest.fixture
def integration(make_integration, sandbox_url, e2e_clock, make_subscribers, run_sync):
    registry.seed(SLUG)
    integration = make_integration(
        SLUG,
        base_url=f"{sandbox_url}/{SLUG}",
        mappings=MAPPINGS,
        credentials={**accounts.demo_account(SLUG).credentials, "from_email": "news@example.com"},
    )
    make_subscribers()
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    return integration


@pytest.fixture
def assignment(integration, make_assignment):
    growth = Segment.objects.get(integration=integration, name="Growth Investors")
    income = Segment.objects.get(integration=integration, name="Dividend Income")
    assignment = make_assignment(
        (integration, growth.remote_id, "campaign", ""),
        (integration, income.remote_id, "campaign", ""),
        html="<p>For every reader</p>",
    )
    ContentVariation.objects.create(
        assignment=assignment,
        segment=growth,
        subject="Growth: three charts",
        html="<p>For growth investors</p>",
    )
    return assignment


def test_two_targets_with_different_segments_receive_different_subjects(
    assignment, author, approver
):
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)  # a rerun sends nothing more
    campaigns = {c.body["Subject"]: c for c in recorded(SLUG, "campaign")}
    assert set(campaigns) == {"Growth: three charts", "Markets this week"}
    growth, everyone = campaigns["Growth: three charts"], campaigns["Markets this week"]
    assert growth.content["html"] == "<p>For growth investors</p>"
    assert everyone.content["html"] == "<p>For every reader</p>"
    assert growth.content["text"] == everyone.content["text"] == "Hello readers"  # blank: fallback
    assert (growth.sends, everyone.sends) == (1, 1)
    assert growth.body["SegmentIDs"] != everyone.body["SegmentIDs"]
    sends = CampaignSend.objects.select_related("variation", "target__segment")
    assert {s.target.segment.name: bool(s.variation) for s in sends} == {
        "Growth Investors": True,
        "Dividend Income": False,
    }


def test_a_test_send_carries_each_targets_variation(assignment, author):
    outcomes = test_sends.send_test(assignment, author, ["qa@example.com"])
    assert [o.sent for o in outcomes] == [True, True]
    tests = sorted(recorded(SLUG, "test"), key=lambda t: t.body["Subject"])
    assert [(t.body["Subject"], t.content["html"]) for t in tests] == [
        ("Growth: three charts", "<p>For growth investors</p>"),
        ("Markets this week", "<p>For every reader</p>"),
    ]
    assert all(t.body["PreviewRecipients"] == ["qa@example.com"] for t in tests)
    assert recorded(SLUG, "campaign") == []  # each test's draft was deleted, nothing was sent
