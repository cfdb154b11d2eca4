"""Trigger-only sends over real HTTP against the emulators: Braze API-triggered campaigns and
Canvases, Iterable triggered campaigns and journeys. Each goes out once however often the
sender runs; one whose outcome is unknown (the worker died during the call) is marked unknown
and never repeated; a crash before the trigger resumes and sends it once."""

from __future__ import annotations

import pytest

from campaigns.models import AssignmentStatus, CampaignSend, SendState
from campaigns.services import sending, workflow
from integrations.platforms.sending import StepKind
from integrations.sandbox import accounts, braze, iterable, registry
from integrations.sandbox.models import SandboxContact, SandboxSegment, SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import Crash, approved, crash_at, recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

BRAZE_CAMPAIGN = "c4a1d7e0-5e11-4d2b-9a10-000000000001"  # "Daily issue", to "All readers"
BRAZE_CANVAS = "ca7a5000-1d2e-4f3a-8b4c-000000000001"
# case → (platform, send method, what it triggers, the kind the emulator records, by segment)
CASES = {
    "braze-campaign": (
        "braze",
        "api_triggered_campaign",
        BRAZE_CAMPAIGN,
        "campaign_trigger",
        False,
    ),
    "braze-canvas": ("braze", "api_triggered_canvas", BRAZE_CANVAS, "canvas_trigger", False),
    "iterable-triggered": ("iterable", "triggered_campaign", "101", "trigger", True),
    "iterable-journey": ("iterable", "journey", "201", "journey_trigger", True),
}
READERS = ("ann@example.com", "bob@example.com", "cy@example.com")


def readers(slug: str, **attributes) -> None:
    account = accounts.demo_account(slug).account
    for email in READERS:
        SandboxContact.objects.create(
            platform=slug, account=account, identifier=email, attributes={"email": email}
        )
    for email, values in attributes.items():
        SandboxContact.objects.filter(platform=slug, identifier=email).update(attributes=values)


def connect(make_integration, sandbox_url, slug):
    registry.seed(slug)
    integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}")
    import_segments(integration)
    return integration


@pytest.fixture(params=sorted(CASES))
def case(request, make_integration, sandbox_url, e2e_clock):
    slug, method, remote, kind, by_segment = CASES[request.param]
    readers(slug)
    integration = connect(make_integration, sandbox_url, slug)
    segment = "3" if by_segment else ""  # Iterable: "All readers"; Braze: the campaign's own
    return slug, kind, (integration, segment, method, remote)


def test_sent_once_to_the_audience_when_run_twice(make_assignment, case, author, approver):
    slug, kind, target = case
    assignment = approved(make_assignment, target, author=author, approver=approver)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (trigger,) = recorded(slug, kind)
    assert trigger.sends == 1 and trigger.recipients == len(READERS)
    data = trigger.body.get("trigger_properties") or trigger.body.get("context")
    data = data or trigger.body["dataFields"]
    assert data["subject"] == "Markets this week" and data["html"] == "<p>Hello readers</p>"
    row = CampaignSend.objects.get()
    assert row.state == SendState.SENT and row.attempts == 1
    assert data["sharpsend_send"] == row.idempotency_key
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.SENT


def test_interrupted_after_the_trigger_is_unknown_and_never_repeated(
    make_assignment, case, author, approver, monkeypatch
):
    slug, kind, target = case
    assignment = approved(make_assignment, target, author=author, approver=approver)
    with crash_at(monkeypatch, "call", StepKind.SEND), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    assert [s.sends for s in recorded(slug, kind)] == [1]
    row = CampaignSend.objects.get()
    assert row.state == SendState.UNKNOWN and "cannot be asked" in row.error
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.PARTLY_SENT


def test_interrupted_before_the_trigger_call_is_never_sent_twice(
    make_assignment, case, author, approver, monkeypatch
):
    """The attempt is committed, then the worker dies: at most once, so it stays unsent."""
    slug, kind, target = case
    assignment = approved(make_assignment, target, author=author, approver=approver)
    with crash_at(monkeypatch, "ledger", "sending"), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    assert recorded(slug, kind) == []
    assert CampaignSend.objects.get().state == SendState.UNKNOWN


BRAZE_CRASHES = [("ledger", "creating"), ("ledger", "created"), ("call", StepKind.CREATE)]


@pytest.mark.parametrize("where", BRAZE_CRASHES, ids=[f"{a}-{b}" for a, b in BRAZE_CRASHES])
def test_a_braze_crash_around_the_send_id_still_triggers_once(
    make_assignment, make_integration, sandbox_url, e2e_clock, author, approver, monkeypatch, where
):
    readers("braze")
    integration = connect(make_integration, sandbox_url, "braze")
    target = (integration, "", "api_triggered_campaign", BRAZE_CAMPAIGN)
    assignment = approved(make_assignment, target, author=author, approver=approver)
    with crash_at(monkeypatch, *where), pytest.raises(Crash):
        sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (trigger,) = recorded("braze", "campaign_trigger")
    row = CampaignSend.objects.get()
    assert trigger.sends == 1 and row.state == SendState.SENT
    (send_id,) = recorded("braze", "send_id")
    assert send_id.remote_id == row.remote_id == row.idempotency_key
    assert trigger.body["send_id"] == row.idempotency_key
    assert row.remote_send_id == trigger.remote_id  # Braze's dispatch id


def test_braze_reaches_the_campaign_s_segment_without_the_unsubscribed(
    make_assignment, make_integration, sandbox_url, e2e_clock, author, approver
):
    readers("braze", **{"bob@example.com": {"email_subscribe": "unsubscribed"}})
    SandboxContact.objects.filter(identifier="cy@example.com").update(suppressed=True)
    integration = connect(make_integration, sandbox_url, "braze")
    target = (integration, "", "api_triggered_canvas", BRAZE_CANVAS)
    sending.send_assignment(approved(make_assignment, target, author=author, approver=approver).pk)
    (trigger,) = recorded("braze", "canvas_trigger")
    assert trigger.recipients == 1  # ann: bob unsubscribed, cy blocked


def test_a_stopped_canvas_fails_the_send_and_records_nothing(
    make_assignment, make_integration, sandbox_url, e2e_clock, author, approver
):
    integration = connect(make_integration, sandbox_url, "braze")
    stopped = "ca7a5000-1d2e-4f3a-8b4c-000000000002"
    target = (integration, "", "api_triggered_canvas", stopped)
    assignment = approved(make_assignment, target, author=author, approver=approver)
    sending.send_assignment(assignment.pk)
    row = CampaignSend.objects.get()
    assert row.state == SendState.FAILED
    assert row.error.startswith(
        "Braze accepted the trigger but sent nothing: The Canvas is stopped"
    )
    assert recorded("braze", "canvas_trigger") == []
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.FAILED


@pytest.mark.parametrize(
    "slug, method, remote, segment, problem",
    [
        ("braze", "api_triggered_campaign", "nope", "", "Braze has no campaign nope"),
        ("braze", "api_triggered_canvas", "nope", "", "Braze has no Canvas nope"),
        ("braze", "api_triggered_campaign", BRAZE_CAMPAIGN, "3", "cannot narrow them"),
        ("iterable", "triggered_campaign", "999", "3", "Iterable has no campaign 999"),
        ("iterable", "journey", "202", "3", "Iterable journey 202 does not accept"),
    ],
)
def test_preflight_stops_approval(
    make_assignment, make_integration, sandbox_url, e2e_clock, author, approver,
    slug, method, remote, segment, problem,
):  # fmt: skip
    integration = connect(make_integration, sandbox_url, slug)
    if segment and slug == "braze":
        segment = braze.segment_id(int(segment))
    assignment = make_assignment((integration, segment, method, remote))
    workflow.submit(assignment, author)
    with pytest.raises(workflow.WorkflowError) as caught:
        workflow.approve(assignment, approver, queue_send=False)
    assert problem in caught.value.message
    assert not CampaignSend.objects.exists() and not SandboxSend.objects.exists()


def test_iterable_leaves_out_the_global_suppression_list(
    make_assignment, make_integration, sandbox_url, e2e_clock, author, approver
):
    readers("iterable")
    integration = connect(make_integration, sandbox_url, "iterable")
    account = accounts.demo_account("iterable").account
    suppression = SandboxSegment.create_static("iterable", account, "Do not mail", "Suppression")
    suppression.static_members.add(SandboxContact.objects.get(identifier="bob@example.com"))
    assignment = approved(
        make_assignment,
        (integration, "3", "triggered_campaign", "101"),
        (integration, "3", "blast_campaign", ""),
        author=author,
        approver=approver,
    )
    sending.send_assignment(assignment.pk)
    (trigger,) = recorded("iterable", "trigger")
    (blast,) = recorded("iterable", "campaign")
    for send in (trigger, blast):
        assert send.body["suppressionListIds"] == [suppression.remote_id]
        assert send.recipients == 2
    assert blast.status == "Finished" and blast.sends == 1
    assert blast.content["html"] == "<p>Hello readers</p>" and blast.content["subject"] == (
        "Markets this week"
    )
    assert set(CampaignSend.objects.values_list("state", flat=True)) == {SendState.SENT}


def test_trigger_choices_read_the_emulated_workspaces(make_integration, sandbox_url, e2e_clock):
    client = connect(make_integration, sandbox_url, "braze").client()
    assert client.trigger_choices("api_triggered_campaign") == [
        (key, name) for key, (name, _, api) in braze.CAMPAIGNS.items() if not api
    ]
    assert [key for key, _ in client.trigger_choices("api_triggered_canvas")] == list(
        braze.CANVASES
    )
    client = connect(make_integration, sandbox_url, "iterable").client()
    assert client.trigger_choices("triggered_campaign") == [
        (str(key), name) for key, name in iterable.TRIGGERED.items()
    ]
    assert client.trigger_choices("journey") == [("201", iterable.JOURNEYS[201][0])]
