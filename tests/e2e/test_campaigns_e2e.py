"""Assignments become sends over real HTTP: approved to Customer.io (an API-triggered
broadcast) and Mailchimp (a regular campaign), each sent exactly once however the sender is
rerun or interrupted."""

from __future__ import annotations

import pytest

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending, workflow
from integrations.platforms.sending import StepKind
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def targets(make_integration, sandbox_url, e2e_clock):
    found = []
    for slug, method, remote in (
        ("customerio", "api_triggered_broadcast", "1"),
        ("mailchimp", "campaign", ""),
    ):
        registry.seed(slug)
        integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}")
        import_segments(integration)
        found.append((integration, "3", method, remote))  # "All readers" in both
    return found


def sandbox_sends(slug: str) -> list[SandboxSend]:
    return list(SandboxSend.objects.filter(platform=slug))


def test_approved_and_sent_once_even_when_the_sender_runs_twice(
    make_assignment,
    targets,
    author,
    approver,
):
    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    assert CampaignSend.objects.filter(target__assignment=assignment).count() == 2
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT
    (trigger,) = sandbox_sends("customerio")
    assert trigger.kind == "trigger" and trigger.sends == 1
    assert trigger.body["recipients"] == {"segment": {"id": 3}}
    assert trigger.body["data"]["subject"] == "Markets this week"
    (campaign,) = sandbox_sends("mailchimp")
    assert campaign.status == "sent" and campaign.sends == 1
    assert campaign.content == {"html": "<p>Hello readers</p>", "plain_text": "Hello readers"}
    sends = {s.target.integration.platform: s for s in CampaignSend.objects.all()}
    assert sends["mailchimp"].remote_id == campaign.remote_id
    assert sends["customerio"].remote_send_id == trigger.remote_id
    assert all(s.state == SendState.SENT and s.attempts == 1 for s in sends.values())
    statuses = [(e.from_status, e.to_status) for e in assignment.events.all()]
    assert statuses == [
        ("draft", "in_review"),
        ("in_review", "approved"),
        ("approved", "sending"),
        ("sending", "sent"),
    ]


def test_interrupted_after_create_resumes_without_creating_again(
    make_assignment,
    targets,
    author,
    approver,
    monkeypatch,
):
    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    with crash_at(monkeypatch, "ledger", "created"), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    mailchimp = CampaignSend.objects.get(target__integration__platform="mailchimp")
    assert mailchimp.state == SendState.CREATED and mailchimp.remote_id
    assert [s.status for s in sandbox_sends("mailchimp")] == ["save"]
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (campaign,) = sandbox_sends("mailchimp")
    assert campaign.status == "sent" and campaign.sends == 1
    assert [s.sends for s in sandbox_sends("customerio")] == [1]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_interrupted_after_the_send_call_never_sends_again(
    make_assignment,
    targets,
    author,
    approver,
    monkeypatch,
):
    """The call went out and the worker died before recording it: Mailchimp is asked and
    found sent; Customer.io cannot be asked, so that send is marked unknown, not repeated."""
    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    with crash_at(monkeypatch, "call", StepKind.SEND):
        for _ in targets:
            with pytest.raises(Crash):
                sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    states = {s.target.integration.platform: s.state for s in CampaignSend.objects.all()}
    assert states == {"mailchimp": SendState.SENT, "customerio": SendState.UNKNOWN}
    assert [s.sends for s in sandbox_sends("customerio")] == [1]
    assert [s.sends for s in sandbox_sends("mailchimp")] == [1]
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PARTLY_SENT


def test_preflight_stops_approval_for_an_unknown_broadcast(
    make_assignment,
    targets,
    author,
    approver,
):
    cio, _ = targets
    assignment = make_assignment((cio[0], "3", "api_triggered_broadcast", "99"))
    workflow.submit(assignment, author)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.approve(assignment, approver, queue_send=False)
    assert "Customer.io has no broadcast 99" in caught.value.message
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.IN_REVIEW
    assert not CampaignSend.objects.exists() and not SandboxSend.objects.exists()


def test_one_target_failing_leaves_the_other_sent(
    make_assignment, targets, author, approver, e2e_clock
):
    from integrations.sandbox.emulation import set_faults

    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    set_faults("mailchimp", error_rate=1.0, error_status=503)
    sending.send_assignment(assignment.pk)
    sends = {s.target.integration.platform: s for s in CampaignSend.objects.all()}
    assert sends["customerio"].state == SendState.SENT
    assert sends["mailchimp"].state == SendState.FAILED
    assert (
        sends["mailchimp"].error
        == "Mailchimp answered 503 to POST /3.0/campaigns: Service Unavailable"
    )
    assert not sandbox_sends("mailchimp")
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PARTLY_SENT


def test_two_broadcasts_in_a_row_keep_customerio_s_limit(
    make_assignment, targets, author, approver, e2e_clock
):
    """1 trigger per 10 s per workspace: the second waits its turn (on the shared limiter)
    instead of being refused."""
    cio, _ = targets
    first = approved(make_assignment, cio, author=author, approver=approver)
    second = approved(make_assignment, cio, author=author, approver=approver)
    sending.send_assignment(first.pk)
    started = e2e_clock.now()
    sending.send_assignment(second.pk)
    assert e2e_clock.now() - started >= 9.9
    assert [s.sends for s in sandbox_sends("customerio")] == [1, 1]
    assert set(CampaignSend.objects.values_list("state", flat=True)) == {SendState.SENT}


def test_an_unexpected_error_stops_one_target_and_a_rerun_finishes_it_once(
    make_assignment, targets, author, approver, monkeypatch
):
    """An answer the client cannot read (after Mailchimp created the campaign): the other
    target is sent, this one waits in `creating`; the rerun finds the campaign by its title."""
    from integrations.platforms.mailchimp import MailchimpClient

    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    readable = MailchimpClient.read_created

    def unreadable(self, response):
        raise KeyError("id")

    monkeypatch.setattr(MailchimpClient, "read_created", unreadable)
    sending.send_assignment(assignment.pk)
    sends = {s.target.integration.platform: s for s in CampaignSend.objects.all()}
    assert sends["customerio"].state == SendState.SENT
    assert sends["mailchimp"].state == SendState.CREATING
    assert "unexpected error (KeyError)" in sends["mailchimp"].error
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENDING
    monkeypatch.setattr(MailchimpClient, "read_created", readable)
    sending.send_assignment(assignment.pk)
    (campaign,) = sandbox_sends("mailchimp")
    assert campaign.status == "sent" and campaign.sends == 1
    assert CampaignSend.objects.get(target__integration__platform="mailchimp").remote_id == (
        campaign.remote_id
    )
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_a_segment_dropped_after_approval_does_not_widen_the_audience(
    make_assignment, targets, author, approver
):
    from integrations.models import Segment

    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    Segment.objects.filter(remote_id="3").delete()  # a re-import no longer finds it
    sending.send_assignment(assignment.pk)
    (campaign,) = sandbox_sends("mailchimp")
    assert campaign.body["recipients"]["segment_opts"] == {"saved_segment_id": 3}
    (trigger,) = sandbox_sends("customerio")
    assert trigger.body["recipients"] == {"segment": {"id": 3}}


def test_the_send_command_reports_each_target(make_assignment, targets, author, approver):
    from io import StringIO

    from django.core.management import call_command

    assignment = approved(make_assignment, *targets, author=author, approver=approver)
    out = StringIO()
    call_command("send_assignment", str(assignment.pk), stdout=out)
    (campaign,) = sandbox_sends("mailchimp")
    (trigger,) = sandbox_sends("customerio")
    lines = out.getvalue().splitlines()
    assert lines == [
        f"customerio test → All readers: Sent (remote {trigger.remote_id})",
        f"mailchimp test → All readers: Sent (remote {campaign.remote_id})",
        "“Issue 42”: sent.",
    ]
