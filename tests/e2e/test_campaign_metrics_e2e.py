"""Metrics back over real HTTP: a sent assignment's figures read from Customer.io's broadcast
metrics and Mailchimp's campaign report, as the sandbox's seeded engagement made them."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from audience.models import Subscriber
from campaigns.models import CampaignSend, MetricsSnapshot
from campaigns.services import metrics, sending, workflow
from integrations.models import ApiCall
from integrations.sandbox import engagement, registry
from integrations.sandbox.models import SandboxContact, SandboxSend
from integrations.services import sync
from integrations.services.segments import import_segments
from tests.e2e.sending import deliver_soon

pytest_plugins = ["tests.campaigns.fixtures"]
pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
READERS = 400


@pytest.fixture
def sent(make_integration, sandbox_url, e2e_clock, make_assignment, author, approver):
    Subscriber.objects.bulk_create(Subscriber(email=f"m{i}@example.com") for i in range(READERS))
    targets = []
    for slug, method, remote in (
        ("customerio", "api_triggered_broadcast", "1"),
        ("mailchimp", "campaign", ""),
    ):
        registry.seed(slug)
        integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}")
        run, _ = sync.start_sync(integration, "command")
        sync.execute_sync(run.pk)
        import_segments(integration)
        targets.append((integration, "3", method, remote))  # "All readers"
    assignment = make_assignment(*targets)
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    sending.send_assignment(assignment.pk)
    # Two days later, as far as the sandbox's readers and the ledger are concerned.
    two_days_ago = timezone.now() - timedelta(hours=47)
    SandboxSend.objects.update(sent_at=two_days_ago)
    CampaignSend.objects.update(sent_at=two_days_ago)
    return assignment, two_days_ago


def expected(slug: str, send: SandboxSend) -> dict:
    subject = (
        send.body["data"]["subject"]
        if slug == "customerio"
        else send.body["settings"]["subject_line"]
    )
    emails = SandboxContact.objects.filter(platform=slug, account=send.account).values_list(
        "identifier", flat=True
    )
    key = f"{slug}:{send.account}:{send.remote_id}"
    return engagement.totals(key, emails, subject, send.sent_at, timezone.now())


def test_metrics_are_read_back_into_snapshots(sent):
    assignment, _ = sent
    result = metrics.refresh_metrics()
    assert (result.read, result.failed, result.unsupported) == (2, [], 0)
    for slug in ("customerio", "mailchimp"):
        send = CampaignSend.objects.get(target__integration__platform=slug)
        snapshot = metrics.latest(send)
        truth = expected(slug, SandboxSend.objects.get(platform=slug))
        assert (
            snapshot.sent == truth["sent"] == SandboxContact.objects.filter(platform=slug).count()
        )
        assert snapshot.opened == truth["opened"] and snapshot.clicked == truth["clicked"]
        assert snapshot.bounced == truth["bounced_hard"] + truth["bounced_soft"]
        assert snapshot.unsubscribed == truth["unsubscribed"]
        assert 0.2 < snapshot.open_rate < 0.4  # the sandbox's 30 % ± the subject's lift
    assert ApiCall.objects.filter(feature="metrics").count() == 2


def test_a_read_is_due_again_after_half_an_hour_in_the_first_two_days(sent):
    metrics.refresh_metrics()
    assert metrics.due_sends().count() == 0  # just read
    MetricsSnapshot.objects.update(taken_at=timezone.now() - timedelta(minutes=31))
    assert metrics.due_sends().count() == 2
    CampaignSend.objects.update(sent_at=timezone.now() - timedelta(days=3))
    assert metrics.due_sends().count() == 0  # daily now, and read 31 minutes ago
    CampaignSend.objects.update(sent_at=timezone.now() - timedelta(days=31))
    MetricsSnapshot.objects.all().delete()
    assert metrics.due_sends().count() == 0  # too old to ask


def test_refresh_metrics_command_prints_each_sends_figures(sent, capsys):
    assignment, _ = sent
    call_command("refresh_metrics", "--assignment", str(assignment.pk))
    out = capsys.readouterr().out
    assert out.startswith("2 sends read, 0 failed")
    assert out.count("opened ") == 2 and "%" in out


@pytest.fixture
def sent_on(
    make_integration, sandbox_url, e2e_clock, make_subscribers, run_sync, make_assignment,
    author, approver,
):  # fmt: skip
    """sent_on(slug, segment name, method, readers, credentials, mappings): an assignment sent
    to that segment on the platform's emulator, two days ago for the sandbox and the ledger;
    then the metrics read once (one send read, none failed)."""
    from integrations.models import Segment
    from integrations.platforms.registry import get_platform
    from integrations.sandbox import accounts

    def send(slug, segment_name, method, readers, credentials=(), mappings=()):
        registry.seed(slug)
        integration = make_integration(
            slug,
            base_url=f"{sandbox_url}/{slug}",
            credentials={**accounts.demo_account(slug).credentials, **dict(credentials)},
            mappings=(*get_platform(slug).suggested_mappings, *mappings),
        )
        make_subscribers(readers)
        assert run_sync(integration).status == "succeeded"
        import_segments(integration)
        segment = Segment.objects.get(integration=integration, name=segment_name)
        assignment = make_assignment((integration, segment.remote_id, method, ""))
        workflow.submit(assignment, author)
        workflow.approve(assignment, approver, queue_send=False)
        sending.send_assignment(assignment.pk)
        deliver_soon()  # Kit's send "now" is held two minutes
        two_days_ago = timezone.now() - timedelta(hours=47)
        SandboxSend.objects.update(sent_at=two_days_ago)
        CampaignSend.objects.update(sent_at=two_days_ago)
        result = metrics.refresh_metrics()
        assert (result.read, result.failed, result.unsupported) == (1, [], 0)
        return metrics.latest(CampaignSend.objects.get())

    return send


def test_campaign_monitor_reads_its_campaign_summary(sent_on):
    interest = (("attributes.interest", "interest", "", False),)
    snapshot = sent_on("campaign_monitor", "Growth Investors", "campaign", 60,
                       {"from_email": "news@example.com"}, interest)  # fmt: skip
    (campaign,) = SandboxSend.objects.filter(platform="campaign_monitor", kind="campaign")
    truth = engagement.totals(
        f"campaign_monitor:{campaign.account}:{campaign.remote_id}",
        campaign.content["delivered"],
        campaign.body["Subject"],
        campaign.sent_at,
        timezone.now(),
    )
    assert snapshot.sent == truth["sent"] == campaign.recipients > 0
    assert (snapshot.opened, snapshot.clicked) == (truth["opened"], truth["clicked"])
    assert snapshot.bounced == truth["bounced_hard"] + truth["bounced_soft"]
    assert snapshot.unsubscribed == truth["unsubscribed"]
    assert snapshot.delivered is None  # the summary has no delivered count


def test_kit_reads_its_broadcast_stats(sent_on):
    snapshot = sent_on("kit", "All readers", "broadcast", 40)
    (broadcast,) = SandboxSend.objects.filter(platform="kit", kind="broadcast")
    readers = SandboxContact.objects.filter(platform="kit").exclude(
        attributes__state__in=("cancelled", "bounced", "complained", "inactive")
    )
    truth = engagement.totals(
        f"kit:{broadcast.account}:{broadcast.remote_id}",
        readers.values_list("identifier", flat=True),
        broadcast.body["subject"],
        broadcast.sent_at,
        timezone.now(),
    )
    assert snapshot.sent == truth["sent"] == broadcast.recipients > 0
    assert (snapshot.opened, snapshot.clicked) == (truth["opened"], truth["clicked"])
    assert snapshot.unsubscribed == truth["unsubscribed"]
    assert snapshot.bounced is None  # Kit reports no bounces per broadcast


def test_sendgrid_reads_its_single_send_stats(sent_on):
    from integrations.sandbox import accounts
    from integrations.sandbox.sendgrid.webhooks import _audience

    snapshot = sent_on("sendgrid", "All readers", "single_send", 50,
                       {"sender_id": "1", "suppression_group_id": "5"})  # fmt: skip
    (single,) = SandboxSend.objects.filter(platform="sendgrid", kind="single_send")
    audience = _audience(accounts.demo_account("sendgrid"), single)
    truth = engagement.totals(
        audience.key, audience.emails, audience.subject, single.sent_at, timezone.now()
    )
    assert snapshot.sent == truth["sent"] == len(audience.emails) > 0
    assert (snapshot.delivered, snapshot.opened, snapshot.clicked) == (
        truth["delivered"], truth["opened"], truth["clicked"],
    )  # fmt: skip
    assert snapshot.complained == truth["complained"]


def test_klaviyo_reads_its_campaign_in_a_values_report(sent_on):
    from integrations.sandbox import accounts
    from integrations.sandbox.klaviyo.webhooks import _audience

    snapshot = sent_on("klaviyo", "All readers", "campaign", 50)
    (campaign,) = SandboxSend.objects.filter(platform="klaviyo", kind="campaign")
    audience = _audience(accounts.demo_account("klaviyo"), campaign)
    truth = engagement.totals(
        audience.key, audience.emails, audience.subject, campaign.sent_at, timezone.now()
    )
    assert snapshot.sent == truth["sent"] == len(audience.emails) > 0
    assert (snapshot.delivered, snapshot.opened, snapshot.clicked) == (
        truth["delivered"], truth["opened"], truth["clicked"],
    )  # fmt: skip
    assert snapshot.unsubscribed == truth["unsubscribed"]
    assert snapshot.converted == 0 and snapshot.note == "conversions: Placed Order"
