"""The Iterable emulator's scheduled blasts: held until their time ("Scheduled"), then sent
once ("Finished") to their lists' users as they are then; a cancelled one never goes."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from django.utils import timezone

from integrations.sandbox import scheduled
from integrations.sandbox.models import SandboxContact, SandboxSend
from tests.integrations.sandbox.test_iterable import ACCOUNT
from tests.integrations.sandbox.test_iterable_campaigns import get, post
from tests.integrations.sandbox.test_iterable_campaigns import project as project  # fixtures
from tests.integrations.sandbox.test_iterable_campaigns import template as template

pytestmark = pytest.mark.django_db


def later(hours: int = 2):
    return (timezone.now().astimezone(UTC) + timedelta(hours=hours)).replace(microsecond=0)


def create(client, template, at=None, **extra):
    body = {"name": "Issue", "templateId": template, "listIds": [3], **extra}
    if at is not None:
        body["sendAt"] = at.strftime("%Y-%m-%d %H:%M:%S")
    return post(client, "/api/campaigns/create", body).json()["campaignId"]


def test_a_blast_created_for_later_is_delivered_once_at_its_time(client, template):
    at = later()
    campaign_id = create(client, template, at)
    held = SandboxSend.objects.get(kind="campaign")
    assert (held.status, held.sends, held.sent_at, scheduled.due_at(held)) == (
        "Scheduled", 0, None, at
    )  # fmt: skip
    detail = get(client, f"/api/campaigns/{campaign_id}").json()
    assert (detail["campaignState"], detail["startAt"]) == ("Scheduled", int(at.timestamp()) * 1000)
    SandboxContact.objects.filter(platform="iterable", account=ACCOUNT).first().delete()
    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.recipients, held.sent_at) == ("Finished", 1, 1, at)


def test_a_ready_blast_scheduled_then_cancelled_is_never_delivered(client, template):
    campaign_id = create(client, template, scheduleSend=False)
    at = later()
    answer = post(client, f"/api/campaigns/{campaign_id}/schedule", {"sendAt": at.isoformat()})
    assert answer.json()["code"] == "Success"
    assert scheduled.due_at(SandboxSend.objects.get(kind="campaign")) == at
    assert post(client, "/api/campaigns/cancel", {"campaignId": campaign_id}).json()["code"] == (
        "Success"
    )
    assert post(client, "/api/campaigns/cancel", {"campaignId": campaign_id}).status_code == 400
    assert scheduled.deliver_due(at + timedelta(days=1)) == 0
    held = SandboxSend.objects.get(kind="campaign")
    assert (held.status, held.sends, held.sent_at) == ("Cancelled", 0, None)
