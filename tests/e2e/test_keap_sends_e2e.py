"""Keap emails end to end over real HTTP: an assignment goes to a tag's contacts batch by batch
(3 a call here), and no contact ever receives it twice — however often the sender runs, and
wherever it is interrupted."""

from __future__ import annotations

from collections import Counter

import pytest

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending
from integrations.models import Segment
from integrations.platforms.keap import KeapClient
from integrations.platforms.registry import get_platform
from integrations.platforms.sending import StepKind
from integrations.sandbox import keap as emulator
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact, SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_at, recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

SLUG = "keap"
MAPPINGS = (*get_platform(SLUG).suggested_mappings, ("attributes.interest", "interest", "", False))
HTML = "<p>Dividends this week — “ünïcode” &amp; more</p>"
TAG = "Dividend Income"  # 8 contacts (readers 7 and 19 unsubscribed: never created in Keap)
ACCOUNT = "sandbox-keap-app"


@pytest.fixture
def integration(oauth_integration, sandbox_url, e2e_clock, make_subscribers, run_sync, monkeypatch):
    monkeypatch.setattr(KeapClient, "recipients_per_send", 3)
    registry.seed(SLUG)
    integration = oauth_integration(SLUG, base_url=f"{sandbox_url}/{SLUG}", mappings=MAPPINGS)
    make_subscribers()
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    # One of the tag's addresses bounced: Keap sends it nothing.
    emulator.set_email_status(ACCOUNT, "reader01@example.com", "HARD_BOUNCE")
    return integration


@pytest.fixture
def assignment(integration, make_assignment, author, approver):
    tag = Segment.objects.get(integration=integration, name=TAG)
    target = (integration, tag.remote_id, "email", "")
    return approved(
        make_assignment, target, author=author, approver=approver, html=HTML, plain_text="Hi"
    )


def members() -> dict[str, bool]:
    """The tag's contacts → whether they are marketable."""
    rows = SandboxContact.objects.filter(platform=SLUG, attributes__interest="dividends")
    return {r.identifier: r.attributes.get("email_status") in emulator.MARKETABLE for r in rows}


def received() -> Counter:
    emails = recorded(SLUG, "email")
    return Counter(i for e in emails for i in e.content["delivered"])


def test_each_contact_gets_it_once_however_often_the_sender_runs(assignment):
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    marketable = {i for i, ok in members().items() if ok}
    assert len(members()) == 8 and len(marketable) == 7
    assert received() == Counter(marketable)  # each exactly once
    emails = recorded(SLUG, "email")
    assert len(emails) == 3 and all(e.sends == 1 for e in emails)  # 8 ids, 3 a call
    assert {e.content["html"] for e in emails} == {HTML}
    assert {e.content["plain"] for e in emails} == {"Hi"}
    send = CampaignSend.objects.get()
    assert send.state == SendState.SENT and send.attempts == 3
    assert (send.batches["sent"], send.batches["batches"], send.batches["lost"]) == (8, 3, 0)
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_the_request_is_keaps_shape(assignment):
    sending.send_assignment(assignment.pk)
    email = SandboxSend.objects.filter(platform=SLUG, kind="email").first()
    assert email.body["user_id"] == "1" and email.body["subject"] == "Markets this week"
    assert len(email.body["contacts"]) == 3


CRASHES = [
    ("after the second batch was recorded as sent", "ledger", "batch_done"),
    ("after the second batch's call was answered", "call", StepKind.SEND),
    ("after the second batch was recorded in flight", "ledger", "batch_sending"),
]


@pytest.mark.parametrize("where, place, name", CRASHES, ids=[c[0] for c in CRASHES])
def test_a_crash_anywhere_sends_no_contact_twice(assignment, monkeypatch, where, place, name):
    with crash_at(monkeypatch, place, name, times=2), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    counts = received()
    assert max(counts.values()) == 1  # nobody twice
    send = CampaignSend.objects.get()
    progress = send.batches
    assert progress["sent"] + progress["lost"] == 8 and progress["in_flight"] == ""
    if where.startswith("after the second batch was recorded as sent"):
        # Resumed after the last batch done: everyone marketable, once.
        assert counts == Counter({i for i, ok in members().items() if ok})
        assert send.state == SendState.SENT
    else:
        # The batch in flight cannot be checked: given up (3 contacts), never repeated.
        assert (progress["lost"], progress["lost_batches"]) == (3, 1)
        assert send.state == SendState.UNKNOWN and "unknown outcome" in send.error
        assignment.refresh_from_db()
        assert assignment.status == AssignmentStatus.PARTLY_SENT
