"""approve_assignment and send_assignment --dry-run."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from campaigns.models import CampaignSend
from campaigns.services import workflow
from integrations.models import Segment


@pytest.fixture
def in_review(make_assignment, make_integration, author, mailchimp_answers):
    integration = make_integration("mailchimp")
    Segment.objects.create(
        integration=integration, remote_id="3", name="All", imported_at="2026-01-01T00:00Z"
    )
    return workflow.submit(make_assignment((integration, "3", "campaign", "")), author)


def test_approve_as_a_user_checks_their_rights(in_review, approver, capsys):
    with pytest.raises(CommandError, match="own assignments|may not approve"):
        call_command("approve_assignment", str(in_review.pk), "--as", "author", "--no-queue")
    call_command("approve_assignment", str(in_review.pk), "--as", "approver", "--no-queue")
    assert "Approved “Issue 42”: 1 sends not queued" in capsys.readouterr().out
    assert CampaignSend.objects.count() == 1


def test_send_dry_run_prints_the_requests_and_sends_nothing(in_review, approver, capsys):
    workflow.approve(in_review, approver, queue_send=False)
    call_command("send_assignment", str(in_review.pk), "--dry-run")
    out = capsys.readouterr().out
    assert "create: POST [api] /3.0/campaigns\n" in out
    body = json.loads(out.split("create: POST [api] /3.0/campaigns\n", 1)[1].split("\n", 1)[0])
    assert body["settings"]["title"].startswith("Issue 42 [ss-")
    assert "send: POST [api] /3.0/campaigns/{remote_id}/actions/send" in out
    assert CampaignSend.objects.get().state == "pending"
