"""The Mailchimp emulator's scheduled campaigns: held until their time, then delivered once to
the list's subscribed members as they are then; an unscheduled one never goes."""

from __future__ import annotations

from datetime import UTC, timedelta

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import registry, scheduled
from integrations.sandbox.models import SandboxContact, SandboxSend
from tests.integrations.sandbox.test_mailchimp import ACCOUNT, KEY, LIST, US6, basic

pytestmark = pytest.mark.django_db


def post(client, path, body=None):
    data = orjson.dumps(body or {})
    return client.post(f"{US6}{path}", data=data, content_type="application/json",
                       headers=basic(KEY))  # fmt: skip


def member(email: str, status: str = "subscribed") -> None:
    SandboxContact.objects.create(platform="mailchimp", account=ACCOUNT, identifier=email,
                                  attributes={"email_address": email, "status": status})  # fmt: skip


@pytest.fixture
def campaign(client):
    registry.seed("mailchimp")
    member("a@example.com")
    member("gone@example.com", "unsubscribed")
    settings = {"title": "Issue", "subject_line": "Hi", "from_name": "Desk", "reply_to": "d@x.io"}
    body = {"type": "regular", "recipients": {"list_id": LIST}, "settings": settings}
    campaign_id = post(client, "/campaigns", body).json()["id"]
    client.put(f"{US6}/campaigns/{campaign_id}/content", data=orjson.dumps({"html": "<p>1</p>"}),
               content_type="application/json", headers=basic(KEY))  # fmt: skip
    return campaign_id


def quarter_hour(hours: int = 2):
    at = timezone.now().astimezone(UTC) + timedelta(hours=hours)
    return at.replace(minute=at.minute - at.minute % 15, second=0, microsecond=0)


def schedule(client, campaign_id, at):
    path = f"/campaigns/{campaign_id}/actions/schedule"
    return post(client, path, {"schedule_time": at.isoformat().replace("+00:00", "Z")})


def test_a_scheduled_campaign_is_delivered_once_at_its_time_to_the_list_then(client, campaign):
    at = quarter_hour()
    assert schedule(client, campaign, at).status_code == 204
    held = SandboxSend.objects.get(kind="campaign")
    assert (held.status, held.sends, held.sent_at, scheduled.due_at(held)) == (
        "schedule", 0, None, at
    )  # fmt: skip
    member("late@example.com")  # joins before the time: it gets the campaign
    assert scheduled.deliver_due(at - timedelta(seconds=1)) == 0
    assert scheduled.deliver_due(at) == 1
    assert scheduled.deliver_due(at + timedelta(hours=1)) == 0
    held.refresh_from_db()
    assert (held.status, held.sends, held.recipients, held.sent_at) == ("sent", 1, 2, at)
    view = client.get(f"{US6}/campaigns/{campaign}", headers=basic(KEY)).json()
    assert (view["status"], view["emails_sent"]) == ("sent", 2)


def test_an_unscheduled_campaign_is_never_delivered(client, campaign):
    at = quarter_hour()
    schedule(client, campaign, at)
    assert post(client, f"/campaigns/{campaign}/actions/unschedule").status_code == 204
    assert post(client, f"/campaigns/{campaign}/actions/unschedule").status_code == 400
    assert scheduled.deliver_due(at + timedelta(days=1)) == 0
    held = SandboxSend.objects.get(kind="campaign")
    assert (held.status, held.sends, scheduled.due_at(held)) == ("save", 0, None)


def test_a_time_past_or_off_the_quarter_hour_is_refused(client, campaign):
    assert schedule(client, campaign, quarter_hour(-1)).status_code == 400
    assert schedule(client, campaign, quarter_hour() + timedelta(minutes=5)).status_code == 400
    assert SandboxSend.objects.get(kind="campaign").status == "save"
