"""Test sends over real HTTP: the testers get the assignment as the real send would carry it,
the draft made for the test is gone afterwards, and the real send still goes out once."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

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
