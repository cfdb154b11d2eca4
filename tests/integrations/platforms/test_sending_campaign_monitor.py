"""Campaign Monitor campaigns against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/campaign_monitor.md §7): a draft that fetches its content from the
console's URLs, then its send."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.sending import SendSpec
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_campaign_monitor import AUTH, BASE, CLIENT, KEY, LIST
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

SEGMENT = "c" * 32
HTML_URL = "https://console.example.com/content/7/signed-html/"
TEXT_URL = "https://console.example.com/content/7/signed-text/"
SPEC = SendSpec(
    "ss-7-9-abc",
    "campaign",
    "Issue 42",
    subject="Markets",
    html="<p>Hi</p>",
    plain_text="Hi",
    from_name="The Desk",
    reply_to="desk@example.com",
    segment_id=f"segment:{SEGMENT}",
    content_url=HTML_URL,
    text_url=TEXT_URL,
)
NAME = "Issue 42 [ss-7-9-abc]"
CREATE = {
    "Name": NAME,
    "Subject": "Markets",
    "FromName": "The Desk",
    "FromEmail": "news@example.com",
    "ReplyTo": "desk@example.com",
    "HtmlUrl": HTML_URL,
    "TextUrl": TEXT_URL,
    "SegmentIDs": [SEGMENT],
}
SEND = {"ConfirmationEmail": "desk@example.com", "SendDate": "Immediately"}
JSON_BODY = matchers.header_matcher({"Content-Type": "application/json"})


@pytest.fixture
def client(make_integration):
    integration = make_integration(
        "campaign_monitor",
        credentials={
            "api_key": KEY,
            "client_id": CLIENT,
            "list_id": LIST,
            "from_email": "news@example.com",
        },
    )
    return CampaignMonitorClient(integration)


def spec(**changes) -> SendSpec:
    return dataclasses.replace(SPEC, **changes)


def listed(rsps, drafts=(), scheduled=(), sent=()):
    rsps.get(f"{BASE}/clients/{CLIENT}/drafts.json", match=[AUTH], json=list(drafts))
    rsps.get(f"{BASE}/clients/{CLIENT}/scheduled.json", match=[AUTH], json=list(scheduled))
    rsps.get(
        f"{BASE}/clients/{CLIENT}/campaigns.json",
        match=[
            AUTH,
            matchers.query_param_matcher(
                {"page": "1", "pagesize": "100", "orderdirection": "desc"}
            ),
        ],
        json={"Results": list(sent), "PageNumber": 1, "NumberOfPages": 1 if sent else 0},
    )


def test_create_the_draft_then_send_it(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/campaigns/{CLIENT}.json",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(CREATE, strict_match=True)],
            status=201,
            json="f" * 32,
        )
        rsps.post(
            f"{BASE}/campaigns/{'f' * 32}/send.json",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(SEND, strict_match=True)],
            body="",
        )
        result = client.send_campaign(SPEC, ledger)
    assert result.remote_id == "f" * 32 and result.remote_state == "sent"
    assert ledger.calls == ["creating", ("created", "f" * 32), "sending"]


def test_a_list_goes_as_list_ids_and_no_plain_text_as_null(client):
    body = json.loads(
        client.plan_send(spec(segment_id=f"list:{LIST}", text_url=""))[0].request.content
    )
    assert body["ListIDs"] == [LIST] and "SegmentIDs" not in body
    assert body["TextUrl"] is None


def test_a_rerun_with_the_draft_sends_it_without_creating_again(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/clients/{CLIENT}/drafts.json",
            json=[{"CampaignID": "d" * 32, "Name": NAME, "Subject": "Markets"}],
        )
        rsps.post(f"{BASE}/campaigns/{'d' * 32}/send.json", body="")
        assert client.send_campaign(SPEC.resuming("d" * 32), Recorder()).remote_id == "d" * 32


def test_a_rerun_finds_it_sent_and_sends_nothing(client):
    with strict(registry=OrderedRegistry) as rsps:
        listed(rsps, sent=[{"CampaignID": "d" * 32, "Name": NAME, "TotalRecipients": 8}])
        result = client.send_campaign(SPEC.resuming("d" * 32), Recorder())
    assert result.already_sent and result.remote_state == "sent"


def test_a_campaign_gone_from_every_list_is_not_sent_again(client):
    with strict(registry=OrderedRegistry) as rsps:
        listed(rsps)
        with pytest.raises(ValidationFailed, match="neither as a draft nor as scheduled"):
            client.send_campaign(SPEC.resuming("d" * 32), Recorder())


def test_a_crash_during_create_finds_the_draft_by_its_name(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/clients/{CLIENT}/drafts.json",
            json=[
                {"CampaignID": "e" * 32, "Name": "Other"},
                {"CampaignID": "d" * 32, "Name": NAME},
            ],
        )
        rsps.get(f"{BASE}/clients/{CLIENT}/drafts.json", json=[{"CampaignID": "d" * 32}])
        rsps.post(f"{BASE}/campaigns/{'d' * 32}/send.json", body="")
        assert client.send_campaign(spec(interrupted=True), ledger).remote_id == "d" * 32
    assert ledger.calls == [("created", "d" * 32), "sending"]


def test_a_crash_before_the_draft_existed_creates_it(client):
    with strict(registry=OrderedRegistry) as rsps:
        listed(rsps)
        rsps.post(f"{BASE}/campaigns/{CLIENT}.json", status=201, json="f" * 32)
        rsps.post(f"{BASE}/campaigns/{'f' * 32}/send.json", body="")
        assert client.send_campaign(spec(interrupted=True), Recorder()).remote_id == "f" * 32


def test_the_send_call_is_not_retried_after_a_5xx(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/clients/{CLIENT}/drafts.json", json=[{"CampaignID": "d" * 32}])
        rsps.post(
            f"{BASE}/campaigns/{'d' * 32}/send.json",
            status=500,
            json={"Code": 500, "Message": "Sorry"},
        )
        with pytest.raises(TransientError):
            client.send_campaign(SPEC.resuming("d" * 32), Recorder())
        assert [c.request.method for c in rsps.calls] == ["GET", "POST"]


def test_a_refused_draft_says_why(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/campaigns/{CLIENT}.json",
            status=400,
            json={"Code": 303, "Message": "Duplicate Campaign Name"},
        )
        with pytest.raises(ValidationFailed, match="Duplicate Campaign Name"):
            client.send_campaign(SPEC, Recorder())


def test_preflight_needs_a_sender_and_reply_to(client, make_integration):
    local = spec(reply_to="", from_name="", send_at=datetime(2026, 1, 5, 14, tzinfo=UTC))
    with strict():
        assert client.preflight(local) == [
            "Campaign Monitor needs a reply-to address to send.",
            "Campaign Monitor needs a sender name to send.",
        ]
    bare = CampaignMonitorClient(
        make_integration(
            "campaign_monitor",
            name="no sender",
            credentials={"api_key": KEY, "client_id": CLIENT, "list_id": LIST},
        )
    )
    with strict():
        assert bare.preflight(spec(content_url="http://127.0.0.1:8000/content/7/x/")) == [
            "Campaign Monitor needs a sender address to send: set the From email on the "
            "integration.",
            "Campaign Monitor fetches the content from the console: set CONSOLE_BASE_URL to the "
            "console's public https address.",
        ]


def test_preflight_asks_for_the_segment(client):
    with strict() as rsps:
        rsps.get(
            f"{BASE}/segments/{SEGMENT}/active.json",
            match=[matchers.query_param_matcher({"page": "1", "pagesize": "10"})],
            status=400,
            json={"Code": 103, "Message": "Invalid SegmentID"},
        )
        assert client.preflight(SPEC) == [
            f"Campaign Monitor has no segment:{SEGMENT} any more: choose another."
        ]
    with strict() as rsps:
        rsps.get(f"{BASE}/segments/{SEGMENT}/active.json", json={"TotalNumberOfRecords": 8})
        assert client.preflight(SPEC) == []


def test_the_dry_run_plan_is_the_requests(client):
    steps = client.plan_send(SPEC)
    assert [(s.kind, s.request.method, s.request.path) for s in steps] == [
        ("create", "POST", f"/api/v3.3/campaigns/{CLIENT}.json"),
        ("send", "POST", "/api/v3.3/campaigns/{remote_id}/send.json"),
    ]
    assert json.loads(steps[0].request.content) == CREATE


# --- test sends (sendpreview.json) ----------------------------------------------------------------


def test_a_test_send_previews_a_draft_of_its_own_then_deletes_it(client):
    test = spec(idempotency_key="test-7-ab12", name="[Test] Issue 42")
    created = {**CREATE, "Name": "[Test] Issue 42 [test-7-ab12]"}
    preview = {"PreviewRecipients": ["ed@example.com", "qa@example.com"], "Personalize": "Fallback"}
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/campaigns/{CLIENT}.json",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(created, strict_match=True)],
            status=201,
            json="d" * 32,
        )
        rsps.post(
            f"{BASE}/campaigns/{'d' * 32}/sendpreview.json",
            match=[AUTH, JSON_BODY, matchers.json_params_matcher(preview, strict_match=True)],
            body="",
        )
        rsps.delete(f"{BASE}/campaigns/{'d' * 32}.json", match=[AUTH], body="")
        assert client.send_test(test, ["ed@example.com", "qa@example.com"]) == "d" * 32
    # The draft's send (send.json) is never called: strict mocks refuse anything unregistered.


def test_a_refused_preview_still_deletes_the_draft(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{BASE}/campaigns/{CLIENT}.json", status=201, json="d" * 32)
        rsps.post(
            f"{BASE}/campaigns/{'d' * 32}/sendpreview.json",
            status=400,
            json={"Code": 400, "Message": "PreviewRecipients must be a list of email addresses"},
        )
        rsps.delete(f"{BASE}/campaigns/{'d' * 32}.json", match=[AUTH], body="")
        with pytest.raises(ValidationFailed, match="PreviewRecipients"):
            client.send_test(spec(), ["qa@example.com"])
        assert rsps.calls[-1].request.method == "DELETE"


def test_the_test_send_refuses_too_many_addresses_before_any_call(client):
    with strict(), pytest.raises(ValidationFailed, match="1 to 10 addresses"):
        client.send_test(spec(), [f"qa{n}@example.com" for n in range(11)])
