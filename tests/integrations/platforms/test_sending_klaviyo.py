"""Klaviyo campaigns against strict `responses` mocks, bodies validated against Klaviyo's
OpenAPI document (tests/specs/klaviyo/stable.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.klaviyo import KlaviyoClient
from integrations.platforms.sending import SendSpec
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_klaviyo import BASE, HEADERS, KEY, body_schema, spec  # noqa: F401
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

SEND = SendSpec(
    "ss-1-3-abc",
    "campaign",
    "Issue 42",
    subject="Markets",
    preview_text="Charts",
    html="<p>Hi</p>",
    plain_text="Hi",
    from_name="The Desk",
    reply_to="desk@example.com",
    segment_id="segment:Y6nRLr",
)


@pytest.fixture
def client(make_integration):
    return KlaviyoClient(make_integration("klaviyo", credentials={"private_api_key": KEY}))


def campaign(campaign_id, status="Draft"):
    return {"data": {"type": "campaign", "id": campaign_id, "attributes": {"status": status}}}


def validated(spec, path):  # noqa: F811
    schema = body_schema(spec, path)

    def check(request):
        jsonschema.Draft4Validator(schema).validate(json.loads(request.body))
        return True, ""

    return check


def test_create_template_assign_send(client, spec):  # noqa: F811
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        create = rsps.post(
            f"{BASE}/api/campaigns",
            match=[HEADERS, validated(spec, "/api/campaigns")],
            status=201,
            json=campaign("C1"),
        )
        rsps.get(
            f"{BASE}/api/campaigns/C1/relationships/campaign-messages",
            json={"data": [{"type": "campaign-message", "id": "M1"}]},
        )
        template = rsps.post(
            f"{BASE}/api/templates",
            match=[validated(spec, "/api/templates")],
            status=201,
            json={"data": {"type": "template", "id": "T1"}},
        )
        rsps.post(
            f"{BASE}/api/campaign-message-assign-template",
            match=[
                validated(spec, "/api/campaign-message-assign-template"),
                matchers.json_params_matcher(
                    {
                        "data": {
                            "type": "campaign-message",
                            "id": "M1",
                            "relationships": {
                                "template": {"data": {"type": "template", "id": "T1"}}
                            },
                        }
                    }
                ),
            ],
            status=201,
            json={"data": {"type": "campaign-message", "id": "M1"}},
        )
        rsps.post(
            f"{BASE}/api/campaign-send-jobs",
            match=[
                validated(spec, "/api/campaign-send-jobs"),
                matchers.json_params_matcher({"data": {"type": "campaign-send-job", "id": "C1"}}),
            ],
            status=202,
            json={
                "data": {
                    "type": "campaign-send-job",
                    "id": "C1",
                    "attributes": {"status": "queued"},
                }
            },
        )
        result = client.send_campaign(SEND, ledger)
    body = json.loads(create.calls[0].request.body)["data"]["attributes"]
    assert body["audiences"] == {"included": ["Y6nRLr"]}
    assert body["send_strategy"] == {"method": "immediate"}
    assert body["name"] == "Issue 42 [ss-1-3-abc]"
    definition = body["campaign-messages"]["data"][0]["attributes"]["definition"]
    assert definition["content"] == {
        "subject": "Markets",
        "preview_text": "Charts",
        "from_label": "The Desk",
        "reply_to_email": "desk@example.com",
    }
    sent_template = json.loads(template.calls[0].request.body)["data"]["attributes"]
    assert sent_template["editor_type"] == "CODE" and sent_template["html"] == "<p>Hi</p>"
    assert result.remote_id == "C1" and result.remote_send_id == "C1"
    assert ledger.calls == ["creating", ("created", "C1"), "sending"]


def test_scheduled_is_a_static_strategy(client):
    at = datetime(2026, 1, 5, 14, 0, tzinfo=UTC)
    steps = client.plan_send(SendSpec(**{**SEND.__dict__, "send_at": at}))
    body = json.loads(steps[0].request.content)["data"]["attributes"]
    assert body["send_strategy"] == {
        "method": "static",
        "datetime": "2026-01-05T14:00:00+00:00",
        "options": {"is_local": False},
    }


def test_a_rerun_finds_the_campaign_sent(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/api/campaigns/C1", match=[HEADERS], json=campaign("C1", "Sending"))
        result = client.send_campaign(SEND.resuming("C1"), Recorder())
    assert result.already_sent and result.remote_state == "Sending"


def test_the_dry_run_shows_the_values_to_come(client):
    steps = client.plan_send(SEND)
    assign = json.loads(steps[3].request.content)["data"]
    assert assign["id"] == "{message_id}"
    assert assign["relationships"]["template"]["data"]["id"] == "{template_id}"
    assert steps[1].request.path == "/api/campaigns/{remote_id}/relationships/campaign-messages"


def test_an_interrupted_send_is_found_by_name_and_not_sent_again(client):
    interrupted = SendSpec(**{**SEND.__dict__, "interrupted": True})
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/api/campaigns",
            match=[
                HEADERS,
                matchers.query_param_matcher(
                    {"filter": "and(equals(messages.channel,'email'),contains(name,'ss-1-3-abc'))"}
                ),
            ],
            json={
                "data": [
                    {"type": "campaign", "id": "C0", "attributes": {"name": "Other [ss-1-3-abc]"}},
                    {"type": "campaign", "id": "C1", "attributes": {"name": SEND.remote_name}},
                ]
            },
        )
        rsps.get(f"{BASE}/api/campaigns/C1", json=campaign("C1", "Sent"))
        result = client.send_campaign(interrupted, ledger)
    assert result.already_sent and result.remote_id == "C1"
    assert ledger.calls == [("created", "C1")]
