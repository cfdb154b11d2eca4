"""Campaign Monitor campaigns end to end: the emulator fetches the content from the console's
signed URLs over real HTTP (the same live server), and delivers it to the segment's members."""

from __future__ import annotations

import pytest

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending
from integrations.models import Segment
from integrations.platforms.registry import get_platform
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import approved, recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "campaign_monitor"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
HTML = (
    '<h1>Markets</h1><p>Three charts — “ünïcode” &amp; <a href="https://example.com">more</a></p>'
)


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


def growth(integration):
    """A campaign to the "Growth Investors" segment."""
    segment = Segment.objects.get(integration=integration, name="Growth Investors")
    return integration, segment.remote_id, "campaign", ""


def test_the_campaign_carries_exactly_the_assignments_content(
    integration, make_assignment, author, approver
):
    assignment = approved(
        make_assignment,
        growth(integration),
        author=author,
        approver=approver,
        html=HTML,
        plain_text="Three charts",
    )
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (campaign,) = recorded(SLUG, "campaign")
    assert campaign.content["html"] == HTML
    assert campaign.content["text"] == "Three charts"
    assert (campaign.status, campaign.sends, campaign.recipients) == ("sent", 1, 10)
    send = CampaignSend.objects.get()
    assert send.state == SendState.SENT and send.remote_id == campaign.remote_id
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_content_the_emulator_cannot_fetch_fails_the_send_and_sends_nothing(
    integration, make_assignment, author, approver, settings
):
    assignment = approved(make_assignment, growth(integration), author=author, approver=approver)
    settings.CONSOLE_BASE_URL = "http://127.0.0.1:9"  # nothing answers there
    sending.send_assignment(assignment.pk)
    send = CampaignSend.objects.get()
    assert send.state == SendState.FAILED
    assert "HTML content could not be imported" in send.error
    assert not SandboxSend.objects.filter(platform=SLUG).exists()
