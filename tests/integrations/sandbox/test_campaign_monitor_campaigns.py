"""The Campaign Monitor emulator's campaigns: a draft fetches its content from the console's
URLs (or is refused), the client's lists of campaigns, one send only, the summary and history.
The console's content pages are `responses` mocks here; the e2e tests fetch them for real."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest
import responses

from integrations.sandbox import registry, scheduled
from integrations.sandbox.campaign_monitor import (
    CLIENT_ID,
    DEMO_LIST_ID,
    OTHER_CLIENT_ID,
    segment_id,
)
from integrations.sandbox.models import SandboxContact, SandboxSend
from tests.integrations.sandbox.test_campaign_monitor import ACCOUNT, ACCOUNT_KEY, OTHER_KEY, V

pytestmark = pytest.mark.django_db

CONSOLE = "https://console.example.com"
HTML_URL = f"{CONSOLE}/content/1/token-html/"
TEXT_URL = f"{CONSOLE}/content/1/token-text/"
GROWTH = segment_id(2)


@pytest.fixture(autouse=True)
def seeded(settings):
    settings.CONSOLE_BASE_URL = CONSOLE
    registry.seed("campaign_monitor")
    for i, interest in enumerate(["growth", "growth", "dividends"]):
        SandboxContact.objects.create(
            platform="campaign_monitor",
            account=ACCOUNT,
            identifier=f"r{i}@example.com",
            attributes={
                "EmailAddress": f"r{i}@example.com",
                "State": "Active",
                "interest": interest,
            },
        )


@pytest.fixture
def console():
    with responses.RequestsMock() as rsps:
        rsps.get(HTML_URL, body="<p>Hi ü</p>", content_type="text/html; charset=utf-8")
        rsps.get(TEXT_URL, body="Hi ü", content_type="text/plain; charset=utf-8")
        yield rsps


def draft(**changes):
    return {
        "Name": "Issue 42 [ss-1-1-abc]",
        "Subject": "Markets",
        "FromName": "The Desk",
        "FromEmail": "news@example.com",
        "ReplyTo": "desk@example.com",
        "HtmlUrl": HTML_URL,
        "TextUrl": TEXT_URL,
        "SegmentIDs": [GROWTH],
        **changes,
    }


def post(client, path, body, headers=ACCOUNT_KEY):
    return client.post(
        f"{V}{path}", data=orjson.dumps(body), content_type="application/json", headers=headers
    )


def create(client, **changes):
    return post(client, f"/campaigns/{CLIENT_ID}.json", draft(**changes))


def send_now(client, campaign_id):
    body = {"ConfirmationEmail": "desk@example.com", "SendDate": "Immediately"}
    return post(client, f"/campaigns/{campaign_id}/send.json", body)


def test_a_draft_holds_the_content_it_fetched(client, console):
    response = create(client)
    assert response.status_code == 201
    campaign_id = response.json()
    assert isinstance(campaign_id, str) and len(campaign_id) == 32
    (row,) = SandboxSend.objects.filter(platform="campaign_monitor", kind="campaign")
    assert (row.remote_id, row.status, row.sends) == (campaign_id, "draft", 0)
    assert row.content == {"html": "<p>Hi ü</p>", "text": "Hi ü"}
    assert [c.request.url for c in console.calls] == [HTML_URL, TEXT_URL]
    drafts = client.get(f"{V}/clients/{CLIENT_ID}/drafts.json", headers=ACCOUNT_KEY).json()
    assert [(d["CampaignID"], d["Name"]) for d in drafts] == [(campaign_id, row.name)]


def test_content_that_cannot_be_fetched_is_refused(client):
    with responses.RequestsMock() as rsps:
        rsps.get(HTML_URL, status=404)
        response = create(client)
    assert response.status_code == 400 and response.json()["Code"] == 310
    assert not SandboxSend.objects.exists()


def test_only_the_consoles_content_pages_are_fetched(client):
    with responses.RequestsMock() as rsps:  # any request it made would fail this block
        for url in ("http://169.254.169.254/latest/", f"{CONSOLE}/admin/", "ftp://x/"):
            response = create(client, HtmlUrl=url, Name=url)
            assert response.json()["Code"] == 310
        assert not rsps.calls


@pytest.mark.parametrize(
    "changes, code",
    [
        ({"Subject": ""}, 304),
        ({"FromName": ""}, 305),
        ({"FromEmail": "not-an-address"}, 307),
        ({"ReplyTo": ""}, 308),
        ({"SegmentIDs": [segment_id(99)]}, 103),
        ({"SegmentIDs": [], "ListIDs": ["nope"]}, 101),
    ],
)
def test_a_draft_is_checked_before_its_content_is_fetched(client, changes, code):
    with responses.RequestsMock():
        response = create(client, **changes)
    assert response.status_code == 400 and response.json()["Code"] == code


def test_names_are_unique(client, console):
    assert create(client).status_code == 201
    again = create(client)
    assert again.status_code == 400 and again.json() == {
        "Code": 303,
        "Message": "Duplicate Campaign Name",
    }


def test_sent_once_to_the_active_members_of_its_segment(client, console):
    campaign_id = create(client).json()
    SandboxContact.objects.filter(identifier="r1@example.com").update(
        attributes={"EmailAddress": "r1@example.com", "State": "Unsubscribed", "interest": "growth"}
    )
    assert send_now(client, campaign_id).status_code == 200
    row = SandboxSend.objects.get()
    assert (row.status, row.sends, row.recipients) == ("sent", 1, 1)
    assert row.content["delivered"] == ["r0@example.com"]
    again = send_now(client, campaign_id)
    assert again.status_code == 400 and again.json()["Code"] == 331
    assert SandboxSend.objects.get().sends == 1
    page = client.get(
        f"{V}/clients/{CLIENT_ID}/campaigns.json",
        {"page": 1, "pagesize": 100, "orderdirection": "desc"},
        headers=ACCOUNT_KEY,
    ).json()
    assert [r["CampaignID"] for r in page["Results"]] == [campaign_id]
    assert (page["NumberOfPages"], page["Results"][0]["TotalRecipients"]) == (1, 1)
    assert client.get(f"{V}/clients/{CLIENT_ID}/drafts.json", headers=ACCOUNT_KEY).json() == []


def test_a_list_reaches_everyone_active(client, console):
    campaign_id = create(client, SegmentIDs=[], ListIDs=[DEMO_LIST_ID]).json()
    send_now(client, campaign_id)
    assert SandboxSend.objects.get().recipients == 3


def test_send_errors(client, console):
    campaign_id = create(client).json()
    assert send_now(client, "0" * 32).json()["Code"] == 301
    late = {"ConfirmationEmail": "desk@example.com", "SendDate": "next tuesday"}
    assert post(client, f"/campaigns/{campaign_id}/send.json", late).json()["Code"] == 5
    nobody = {"ConfirmationEmail": "", "SendDate": "Immediately"}
    assert post(client, f"/campaigns/{campaign_id}/send.json", nobody).status_code == 400
    assert SandboxSend.objects.get().sends == 0


def test_a_date_schedules_it(client, console):
    campaign_id = create(client).json()
    body = {"ConfirmationEmail": "desk@example.com", "SendDate": "2030-01-05 09:30"}
    assert post(client, f"/campaigns/{campaign_id}/send.json", body).status_code == 200
    (row,) = client.get(f"{V}/clients/{CLIENT_ID}/scheduled.json", headers=ACCOUNT_KEY).json()
    assert (row["CampaignID"], row["DateScheduled"]) == (campaign_id, "2030-01-05 09:30:00")
    # Held until 09:30 in the client's zone (Sydney, daylight saving in January: UTC+11).
    campaign = SandboxSend.objects.get()
    assert scheduled.due_at(campaign) == datetime(2030, 1, 4, 22, 30, tzinfo=UTC)
    assert (campaign.status, campaign.sends, campaign.recipients) == ("scheduled", 0, 0)
    assert scheduled.deliver_due(datetime(2030, 1, 4, 22, 29, tzinfo=UTC)) == 0
    assert scheduled.deliver_due(datetime(2030, 1, 4, 22, 30, tzinfo=UTC)) == 1
    campaign.refresh_from_db()
    assert (campaign.status, campaign.sends, campaign.recipients) == ("sent", 1, 2)
    assert sorted(campaign.content["delivered"]) == ["r0@example.com", "r1@example.com"]


def test_the_client_details_give_its_time_zone(client):
    details = client.get(f"{V}/clients/{CLIENT_ID}.json", headers=ACCOUNT_KEY).json()
    assert details["BasicDetails"]["TimeZone"] == "(GMT+10:00) Canberra, Melbourne, Sydney"
    assert client.get(f"{V}/clients/{'9' * 32}.json", headers=ACCOUNT_KEY).json()["Code"] == 102


def test_a_past_date_is_refused_and_unschedule_takes_it_back(client, console):
    campaign_id = create(client).json()
    past = {"ConfirmationEmail": "desk@example.com", "SendDate": "2020-01-05 09:30"}
    assert post(client, f"/campaigns/{campaign_id}/send.json", past).json()["Code"] == 336
    assert post(client, f"/campaigns/{campaign_id}/unschedule.json", {}).json()["Code"] == 334
    body = {"ConfirmationEmail": "desk@example.com", "SendDate": "2030-01-05 09:30"}
    post(client, f"/campaigns/{campaign_id}/send.json", body)
    assert post(client, f"/campaigns/{campaign_id}/unschedule.json", {}).status_code == 200
    (row,) = client.get(f"{V}/clients/{CLIENT_ID}/drafts.json", headers=ACCOUNT_KEY).json()
    assert row["CampaignID"] == campaign_id
    assert scheduled.deliver_due(datetime(2031, 1, 1, tzinfo=UTC)) == 0
    assert SandboxSend.objects.get().sends == 0


def test_another_clients_key_sees_nothing(client, console):
    create(client)
    refused = client.get(f"{V}/clients/{CLIENT_ID}/drafts.json", headers=OTHER_KEY)
    assert refused.status_code == 401
    own = client.get(f"{V}/clients/{OTHER_CLIENT_ID}/drafts.json", headers=OTHER_KEY)
    assert own.json() == []


def test_summary_and_history_follow_the_seeded_engagement(client, console):
    campaign_id = create(client, SegmentIDs=[], ListIDs=[DEMO_LIST_ID]).json()
    assert (
        client.get(f"{V}/campaigns/{campaign_id}/summary.json", headers=ACCOUNT_KEY).json()["Code"]
        == 301
    )  # a draft has no report yet
    send_now(client, campaign_id)
    summary = client.get(f"{V}/campaigns/{campaign_id}/summary.json", headers=ACCOUNT_KEY).json()
    assert summary["Recipients"] == 3 and summary["Name"] == "Issue 42 [ss-1-1-abc]"
    assert 0 <= summary["UniqueOpened"] <= 3
    history = client.get(
        f"{V}/subscribers/{DEMO_LIST_ID}/history.json",
        {"email": "r0@example.com"},
        headers=ACCOUNT_KEY,
    ).json()
    assert [(h["ID"], h["Type"]) for h in history] == [(campaign_id, "Campaign")]
    assert {a["Event"] for a in history[0]["Actions"]} <= {"Open", "Click", "Unsubscribe"}


def test_a_preview_is_recorded_as_a_test_and_the_draft_stays_a_draft(client, console):
    campaign_id = create(client).json()
    body = {"PreviewRecipients": ["qa@example.com"], "Personalize": "Fallback"}
    assert post(client, f"/campaigns/{campaign_id}/sendpreview.json", body).status_code == 200
    (test,) = SandboxSend.objects.filter(platform="campaign_monitor", kind="test")
    assert (test.recipients, test.body["Subject"], test.content["html"]) == (
        1,
        "Markets",
        "<p>Hi ü</p>",
    )
    campaign = SandboxSend.objects.get(platform="campaign_monitor", kind="campaign")
    assert (campaign.status, campaign.sends) == ("draft", 0)
    bad = post(client, f"/campaigns/{campaign_id}/sendpreview.json", {"PreviewRecipients": []})
    assert bad.status_code == 400
    unknown = post(client, "/campaigns/nope/sendpreview.json", body)
    assert unknown.json()["Code"] == 301


def test_a_sent_campaign_cannot_be_previewed_and_a_deleted_one_is_gone(client, console):
    campaign_id = create(client).json()
    assert send_now(client, campaign_id).status_code == 200
    body = {"PreviewRecipients": ["qa@example.com"], "Personalize": "Fallback"}
    assert post(client, f"/campaigns/{campaign_id}/sendpreview.json", body).status_code == 400
    gone = client.delete(f"{V}/campaigns/{campaign_id}.json", headers=ACCOUNT_KEY)
    assert gone.status_code == 200
    assert not SandboxSend.objects.filter(kind="campaign").exists()
    again = client.delete(f"{V}/campaigns/{campaign_id}.json", headers=ACCOUNT_KEY)
    assert again.json()["Code"] == 301
    assert client.get(f"{V}/campaigns/{CLIENT_ID}.json", headers=ACCOUNT_KEY).status_code == 405
