"""Klaviyo, SendGrid, Kit, Mailchimp, Iterable (blast) and Campaign Monitor sends over real HTTP
against their
emulators: one send each, however often the sender runs, and none repeated after an
interruption."""

from __future__ import annotations

from contextlib import suppress

import pytest

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending
from integrations.models import Segment
from integrations.platforms.sending import StepKind
from integrations.sandbox import accounts, registry
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_at, recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# platform → (send method, extra credentials, the kind of object the emulator records)
CASES = {
    "klaviyo": ("campaign", {}, "campaign"),
    "sendgrid": ("single_send", {"sender_id": "1", "suppression_group_id": "5"}, "single_send"),
    "kit": ("broadcast", {}, "broadcast"),
    "mailchimp": ("campaign", {}, "campaign"),
    "iterable": ("blast_campaign", {}, "campaign"),
    # Campaign Monitor fetches the content from the console's signed URLs (the live server).
    "campaign_monitor": ("campaign", {"from_email": "news@example.com"}, "campaign"),
}


@pytest.fixture(params=sorted(CASES))
def target(request, make_integration, sandbox_url, e2e_clock):
    slug = request.param
    method, extra, kind = CASES[slug]
    registry.seed(slug)
    credentials = {**accounts.demo_account(slug).credentials, **extra}
    integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}", credentials=credentials)
    import_segments(integration)
    segment = Segment.objects.filter(integration=integration).order_by("name").first()
    return slug, kind, (integration, segment.remote_id, method, "")


def test_sent_once_when_run_twice(make_assignment, target, author, approver):
    slug, kind, spec = target
    assignment = approved(make_assignment, spec, author=author, approver=approver)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (send,) = recorded(slug, kind)
    assert send.sends == 1
    row = CampaignSend.objects.get()
    assert row.state == SendState.SENT and row.remote_id == send.remote_id
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_interrupted_in_the_send_call_is_not_sent_again(
    make_assignment, target, author, approver, monkeypatch
):
    slug, kind, spec = target
    assignment = approved(make_assignment, spec, author=author, approver=approver)
    with crash_at(monkeypatch, "call", StepKind.SEND), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (send,) = recorded(slug, kind)
    assert send.sends == 1
    row = CampaignSend.objects.get()
    assert row.state == SendState.SENT and row.remote_id == send.remote_id


# Where the worker dies: right after a ledger entry is committed, or right after a step's call
# was answered (before anything about it is recorded).
CRASHES = [
    ("ledger", "creating"),
    ("ledger", "created"),
    ("ledger", "sending"),
    ("call", StepKind.CONTENT),
    ("call", StepKind.CHECK),
    ("call", StepKind.SEND),
]


@pytest.mark.parametrize("where", CRASHES, ids=[f"{a}-{b}" for a, b in CRASHES])
def test_a_crash_at_any_step_still_sends_exactly_once(
    make_assignment, target, author, approver, monkeypatch, where
):
    slug, kind, spec = target
    assignment = approved(make_assignment, spec, author=author, approver=approver)
    with crash_at(monkeypatch, *where), suppress(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    assert [s.sends for s in recorded(slug, kind)] == [1]
    assert CampaignSend.objects.get().state == SendState.SENT
