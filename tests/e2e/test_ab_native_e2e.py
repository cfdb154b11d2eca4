"""Mailchimp's own A/B test (a variate campaign) end to end over real HTTP: the console sees
the test fits, creates and sends one variate campaign through the ledger (a rerun sends
nothing more), Mailchimp's emulator splits the test share across the subjects, waits, picks
the better subject by opens and sends it to the rest; the console reads its choice back into
the variants and the decision, `select_ab_winners` records the winner without sending it,
and the sandbox holds exactly one message per reader."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from audience.models import Subscriber
from campaigns.models import (
    CampaignSend,
    ExperimentMember,
    ExperimentMethod,
    ExperimentState,
    SendState,
)
from campaigns.services import ab_sending, experiments, metrics, workflow
from integrations.models import Segment
from integrations.sandbox import engagement, outbound, registry
from integrations.sandbox.mailchimp import variate
from integrations.sandbox.models import SandboxSend, SandboxWebhookEvent
from integrations.services import membership, sync
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, crash_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
READERS = 2_000  # half tested: 500 a subject
SUBJECTS = [
    "Markets this week", "Three stocks to watch", "The Fed, explained", "Your Monday brief",
    "What moved today", "Dividends in December", "Five charts", "Growth at a fair price",
]  # fmt: skip


@pytest.fixture
def mailchimp(make_integration, sandbox_url, e2e_clock):
    Subscriber.objects.bulk_create(Subscriber(email=f"nv{i}@example.com") for i in range(READERS))
    registry.seed("mailchimp")
    integration = make_integration("mailchimp", base_url=f"{sandbox_url}/mailchimp")
    run, _ = sync.start_sync(integration, "command")
    sync.execute_sync(run.pk)
    import_segments(integration)
    everyone = Segment.objects.get(integration=integration, name="All readers")
    assert membership.refresh_members(everyone).matched == READERS
    return integration


def the_campaign() -> SandboxSend:
    (campaign,) = SandboxSend.objects.filter(platform="mailchimp", kind="campaign")
    return campaign


def test_the_native_variate_test_each_reader_once(
    mailchimp, make_assignment, author, approver, admin_client
):
    ranked = sorted(SUBJECTS, key=engagement.subject_lift)
    worst, best = ranked[0], ranked[-1]
    assignment = make_assignment((mailchimp, "3", "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": worst}, {"subject": best}],
        test_share=0.5, min_sample=300, longest_wait_hours=4,
    )  # fmt: skip
    assert experiment.method == ExperimentMethod.NATIVE
    assert "Mailchimp runs the test itself (variate)" in experiment.method_reason
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)

    (send,) = ab_sending.launch(experiment)
    assert send.state == SendState.SENT and send.target.audience_group == "native"
    assert ab_sending.launch(experiment)[0].pk == send.pk  # a rerun: the same send, not resent
    campaign = the_campaign()
    assert campaign.sends == 1 and campaign.status == "sending"
    assert campaign.body["type"] == "variate"
    assert campaign.body["variate_settings"] == {
        "winner_criteria": "opens", "wait_time": 240, "test_size": 50,
        "subject_lines": [worst, best],
    }  # fmt: skip
    assert not ExperimentMember.objects.exists()  # Mailchimp splits, not the console
    tests = list(variate.children(campaign, variate.TEST))
    assert [t.recipients for t in tests] == [500, 500]
    assert [t.body["settings"]["subject_line"] for t in tests] == [worst, best]

    # Before the wait is over Mailchimp has not chosen: the test goes on.
    assert experiments.select_winners() == {"collecting": 1}
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.TESTING
    assert "Mailchimp is testing (variate): it picks by opens after 4 h" in (
        experiment.decision_reason
    )

    # Five hours later (the sandbox's sends moved back, as the metrics tests do).
    earlier = timezone.now() - timedelta(hours=5)
    SandboxSend.objects.filter(platform="mailchimp").update(sent_at=earlier)
    CampaignSend.objects.update(sent_at=earlier)
    out = StringIO()
    call_command("select_ab_winners", stdout=out)
    assert f"Mailchimp chose B: {best} by opens (native variate)" in out.getvalue()
    assert "winner B, sent to the rest by the platform itself (native)." in out.getvalue()
    experiment.refresh_from_db()
    campaign.refresh_from_db()
    (winner_send,) = variate.children(campaign, variate.WINNER)
    assert campaign.status == "sent" and campaign.sends == 1
    # The console's winner is the emulator's, and the emulator's is the better subject here.
    chosen = next(
        t for t in tests if t.body["combination_id"] == winner_send.body["combination_id"]
    )
    assert experiment.winner.subject == chosen.body["settings"]["subject_line"] == best
    assert experiment.decided_by == "platform"
    assert experiment.state == ExperimentState.WINNER_SENT
    assert f"Mailchimp chose B: {best} by opens (native variate)" in experiment.decision_reason
    assert f"its campaign {winner_send.remote_id}" in experiment.decision_reason
    figures = experiment.native_result["combinations"]
    assert [(c["label"], c["sent"]) for c in figures] == [("A", 500), ("B", 500)]
    assert figures[1]["opened"] > figures[0]["opened"] > 0

    # The console sent nothing itself: one campaign on Mailchimp, one send in the ledger.
    assert SandboxSend.objects.filter(platform="mailchimp", kind="campaign").count() == 1
    assert CampaignSend.objects.count() == 1
    ab_sending.send_winner(experiment)  # a rerun records nothing new and sends nothing
    assert SandboxSend.objects.filter(platform="mailchimp").count() == 4  # parent, 2 tests, win
    received = Counter(variate.deliveries(campaign))
    assert winner_send.recipients == READERS - 1000
    assert len(received) == READERS and set(received.values()) == {1}  # one message each
    assignment.refresh_from_db()
    assert assignment.status == "sent"
    # The webhooks' engagement is the test and winner sends', not the whole audience again.
    assert outbound.harvest("mailchimp", campaign.account, timezone.now()) > 0
    sent_by = set(SandboxWebhookEvent.objects.values_list("send_id", flat=True))
    assert sent_by <= {t.remote_id for t in tests} | {winner_send.remote_id}

    # Metrics of the one send are the campaign's totals; the page says how it was decided.
    assert metrics.refresh_metrics().read == 1
    page = admin_client.get(f"/console/analytics/assignments/{assignment.pk}/").content.decode()
    assert "The platform&#x27;s own A/B test" in page and "native variate" in page
    assert f"Winner: <strong>B: {best}</strong> (decided by platform" in page
    assert "All readers · A/B test run by the platform (every variant, then the winner)" in page
    admin = admin_client.get(f"/admin/campaigns/experiment/{experiment.pk}/change/")
    assert admin.status_code == 200 and "Mailchimp runs the test itself" in admin.content.decode()


def test_click_to_open_falls_back_to_the_console_split(mailchimp, make_assignment):
    assignment = make_assignment((mailchimp, "3", "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": SUBJECTS[0]}, {"subject": SUBJECTS[1]}],
        metric="click_to_open", test_share=0.5, min_sample=300,
    )  # fmt: skip
    assert experiment.method == ExperimentMethod.SPLIT
    assert "Mailchimp's own A/B test cannot run it" in experiment.method_reason
    assert "not by the click-to-open rate." in experiment.method_reason


def test_a_crash_after_the_create_finds_the_variate_campaign_again(
    mailchimp, make_assignment, monkeypatch
):
    assignment = make_assignment((mailchimp, "3", "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": SUBJECTS[0]}, {"subject": SUBJECTS[1]}, {"subject": SUBJECTS[2]}],
        test_share=0.3, longest_wait_hours=2,
    )  # fmt: skip
    with pytest.raises(Crash), crash_at(monkeypatch, "call", "create"):
        ab_sending.launch(experiment)  # Mailchimp made the campaign; the ledger never heard
    assert CampaignSend.objects.get().state == SendState.CREATING
    (send,) = ab_sending.launch(experiment)
    campaign = the_campaign()  # one campaign: found by its title, not made again
    assert send.state == SendState.SENT and send.remote_id == campaign.remote_id
    assert campaign.sends == 1 and campaign.body["variate_settings"]["subject_lines"] == [
        SUBJECTS[0], SUBJECTS[1], SUBJECTS[2]
    ]  # fmt: skip
    assert [t.recipients for t in variate.children(campaign, variate.TEST)] == [200, 200, 200]


def test_a_test_across_mailchimp_and_klaviyo_is_the_console_split_on_both(
    mailchimp, make_integration, sandbox_url, run_sync, make_assignment
):
    registry.seed("klaviyo")
    klaviyo = make_integration("klaviyo", base_url=f"{sandbox_url}/klaviyo")
    run_sync(klaviyo)
    assignment = make_assignment((mailchimp, "3", "campaign", ""), (klaviyo, "", "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": SUBJECTS[0]}, {"subject": SUBJECTS[1]}],
        test_share=0.2, min_sample=100,
    )  # fmt: skip
    assert experiment.method == ExperimentMethod.SPLIT
    assert "spans 2 targets" in experiment.method_reason
    assert "Mailchimp's own test would decide for its own audience only" in (
        experiment.method_reason
    )
    sends = ab_sending.launch(experiment)
    experiment.refresh_from_db()
    assert experiment.method == ExperimentMethod.SPLIT  # chosen for good at the start
    assert [s.state for s in sends] == [SendState.SENT] * 4  # each variant on each platform
    mailchimp_sends = SandboxSend.objects.filter(platform="mailchimp", kind="campaign")
    assert {s.body["type"] for s in mailchimp_sends} == {"regular"}  # no variate campaign
    assert SandboxSend.objects.filter(platform="klaviyo", kind="campaign").count() == 2
    groups = ExperimentMember.objects.values_list("integration__platform", "group")
    assert {platform for platform, _ in groups} == {"mailchimp", "klaviyo"}
