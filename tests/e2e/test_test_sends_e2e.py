"""Test sends over real HTTP: the testers get the assignment as the real send would carry it,
the draft made for the test is gone afterwards, and the real send still goes out once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from campaigns.models import CampaignSend
from campaigns.services import sending, test_sends, workflow
from integrations.models import Segment
from integrations.sandbox import accounts, registry
from integrations.sandbox.models import SandboxSend
from integrations.services.segments import import_segments
from tests.e2e.sending import recorded

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def assignment(make_integration, make_assignment, sandbox_url, e2e_clock):
    targets = []
    for slug, method, remote in (("mailchimp", "campaign", ""), ("kit", "broadcast", "")):
        registry.seed(slug)
        integration = make_integration(
            slug,
            base_url=f"{sandbox_url}/{slug}",
            credentials=dict(accounts.demo_account(slug).credentials),
        )
        import_segments(integration)
        segment = Segment.objects.filter(integration=integration).order_by("name").first()
        targets.append((integration, segment.remote_id, method, remote))
    return make_assignment(*targets, html="<p>Issue <b>42</b></p>")


def test_the_testers_get_what_the_send_carries_and_the_draft_is_gone(assignment, author):
    outcomes = test_sends.send_test(assignment, author, ["QA@example.com", "ed@example.com"])
    assert [(o.target.integration.platform, o.sent) for o in outcomes] == [
        ("mailchimp", True),
        ("kit", False),
    ]
    assert outcomes[0].message == "test sent to ed@example.com, qa@example.com"
    assert outcomes[1].message == ("Kit cannot test send: the v4 API has no test-send endpoint.")
    (test,) = recorded("mailchimp", "test")
    assert test.body["test_emails"] == ["ed@example.com", "qa@example.com"]
    assert test.content == {"html": "<p>Issue <b>42</b></p>", "plain_text": "Hello readers"}
    assert test.body["settings"]["subject_line"] == "Markets this week"
    assert test.name.startswith("[Test] Issue 42 [test-")
    assert not SandboxSend.objects.filter(platform="mailchimp", kind="campaign").exists()

    workflow.submit(assignment, author)
    assignment.targets.filter(integration__platform="kit").delete()
    from django.contrib.auth.models import Permission, User

    approver = User.objects.create_user("approver", is_staff=True)
    approver.user_permissions.add(Permission.objects.get(codename="approve_assignment"))
    workflow.approve(assignment, User.objects.get(pk=approver.pk), queue_send=False)
    sending.send_assignment(assignment.pk)
    (real,) = recorded("mailchimp", "campaign")
    assert real.sends == 1 and "[Test]" not in real.name


def test_the_command_sends_a_test_and_says_so(assignment, capsys):
    call_command("send_assignment", str(assignment.pk), "--test-to", "qa@example.com")
    out = capsys.readouterr().out
    assert "test sent to qa@example.com" in out and "Kit cannot test send" in out
    with pytest.raises(CommandError, match="not an email address"):
        call_command("send_assignment", str(assignment.pk), "--test-to", "nobody")
    assert SandboxSend.objects.filter(kind="test").count() == 1


@pytest.fixture
def campaign_monitor_assignment(make_integration, make_assignment, sandbox_url, e2e_clock):
    registry.seed("campaign_monitor")
    integration = make_integration(
        "campaign_monitor",
        base_url=f"{sandbox_url}/campaign_monitor",
        credentials={
            **accounts.demo_account("campaign_monitor").credentials,
            "from_email": "news@example.com",
        },
    )
    import_segments(integration)
    segment = Segment.objects.get(integration=integration, name="Growth Investors")
    return make_assignment((integration, segment.remote_id, "campaign", ""), html="<p>CM</p>")


def test_campaign_monitor_previews_its_own_draft_from_the_admin_action(
    campaign_monitor_assignment, client
):
    from django.contrib.auth.models import Group, User
    from django.urls import reverse

    from integrations import roles

    roles.ensure_roles()
    editor = User.objects.create_user("ed", email="ed@example.com", is_staff=True)
    editor.groups.add(Group.objects.get(name="Editor"))
    client.force_login(editor)
    answer = client.post(
        reverse("admin:campaigns_assignment_changelist"),
        {"action": "send_test_to_me", "_selected_action": [campaign_monitor_assignment.pk]},
        follow=True,
    )
    shown = [str(m) for m in answer.context["messages"]]
    assert shown == ["campaign_monitor test → Growth Investors: test sent to ed@example.com"]
    (test,) = recorded("campaign_monitor", "test")
    assert test.body["PreviewRecipients"] == ["ed@example.com"]
    assert test.body["Subject"] == "Markets this week"
    assert test.content["html"] == "<p>CM</p>"  # fetched from the console's signed URL
    assert test.name.startswith("[Test] Issue 42 [test-")
    # The test's draft is deleted, and a test is not the send: nothing in the ledger.
    assert not SandboxSend.objects.filter(platform="campaign_monitor", kind="campaign").exists()
    assert not CampaignSend.objects.exists()


# platform → (send method, extra credentials, the kind of the real send's record, the kinds a
# test leaves nothing of afterwards (its draft: deleted))
TESTABLE = {
    "mailchimp": ("campaign", {}, "campaign", ("campaign",)),
    "campaign_monitor": ("campaign", {"from_email": "news@example.com"}, "campaign", ("campaign",)),
    "iterable": ("blast_campaign", {}, "campaign", ("campaign", "template")),
    "sendgrid": (
        "single_send",
        {"sender_id": "1", "suppression_group_id": "5"},
        "single_send",
        ("single_send", "template"),
    ),
}


@pytest.fixture(params=sorted(TESTABLE))
def testable(request, make_integration, make_assignment, sandbox_url, e2e_clock):
    slug = request.param
    method, extra, kind, drafts = TESTABLE[slug]
    registry.seed(slug)
    credentials = {**accounts.demo_account(slug).credentials, **extra}
    integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}", credentials=credentials)
    import_segments(integration)
    segment = Segment.objects.filter(integration=integration).order_by("name").first()
    assignment = make_assignment((integration, segment.remote_id, method, ""), html="<p>T</p>")
    return slug, kind, drafts, assignment


def test_a_test_from_the_command_then_the_real_send_goes_once(testable, author, approver, capsys):
    slug, kind, drafts, assignment = testable
    testers = "ed@example.com,qa@example.com"
    call_command("send_assignment", str(assignment.pk), "--test-to", testers)
    assert "test sent to ed@example.com, qa@example.com" in capsys.readouterr().out
    tests = recorded(slug, "test")
    assert tests and sum(t.recipients for t in tests) == 2
    assert all("<p>T</p>" in str(t.content) for t in tests)
    for draft in drafts:  # the test's own draft is gone, and no campaign went out
        assert recorded(slug, draft) == [], draft
    assert not CampaignSend.objects.exists()  # a test is not in the ledger
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    sending.send_assignment(assignment.pk)
    sending.send_assignment(assignment.pk)
    (real,) = recorded(slug, kind)
    assert real.sends == 1 and "[Test]" not in real.name
    assert len(recorded(slug, "test")) == len(tests)  # the send made no test
    assert CampaignSend.objects.get().state == "sent"


def test_an_iterable_triggered_campaign_says_why_it_cannot_be_tested(
    make_integration, make_assignment, sandbox_url, e2e_clock, author
):
    registry.seed("iterable")
    integration = make_integration(
        "iterable",
        base_url=f"{sandbox_url}/iterable",
        credentials=dict(accounts.demo_account("iterable").credentials),
    )
    import_segments(integration)
    segment = Segment.objects.filter(integration=integration).order_by("name").first()
    assignment = make_assignment((integration, segment.remote_id, "triggered_campaign", "101"))
    (outcome,) = test_sends.send_test(assignment, author, ["qa@example.com"])
    assert not outcome.sent
    assert outcome.message == (
        "Iterable cannot test send a triggered campaign: the console sends no content of its "
        "own to test (send a test from Iterable)."
    )
    assert recorded("iterable", "test") == []
