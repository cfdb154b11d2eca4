"""SendGrid Single Sends against strict `responses` mocks, bodies validated against
tsg_mc_singlesends_v3.json (tests/specs/sendgrid)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import ValidationFailed
from integrations.platforms.sendgrid import SendGridClient
from integrations.platforms.sending import SendSpec
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_sending_customerio import Recorder
from tests.specs import SPECS

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://api.sendgrid.com"
KEY = "SG.sandbox-sendgrid-key"
AUTH = matchers.header_matcher({"Authorization": f"Bearer {KEY}"})
SEGMENT = "segment:0bd7a5e6-0f5c-4d5b-9c8e-3c6f1f1b2a10"
SEND = SendSpec(
    "ss-1-4-abc",
    "single_send",
    "Issue 42",
    subject="Markets",
    html="<p>Hi</p>",
    plain_text="Hi",
    segment_id=SEGMENT,
)


def schema(name):
    document = json.loads((SPECS / "sendgrid/tsg_mc_singlesends_v3.json").read_text())
    return jsonschema.Draft7Validator(
        {"$ref": f"#/components/schemas/{name}", "components": document["components"]}
    )


@pytest.fixture
def client(make_integration):
    credentials = {"api_key": KEY, "sender_id": "77", "suppression_group_id": "12"}
    return SendGridClient(make_integration("sendgrid", credentials=credentials))


def test_create_then_schedule_now(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        create = rsps.post(
            f"{BASE}/v3/marketing/singlesends",
            match=[AUTH],
            status=201,
            json={"id": "S1", "status": "draft", "name": "Issue 42 [ss-1-4-abc]"},
        )
        rsps.put(
            f"{BASE}/v3/marketing/singlesends/S1/schedule",
            match=[AUTH, matchers.json_params_matcher({"send_at": "now"})],
            status=201,
            json={"send_at": "2026-01-05T14:00:00Z", "status": "scheduled"},
        )
        result = client.send_campaign(SEND, ledger)
    body = json.loads(create.calls[0].request.body)
    schema("SinglesendRequest").validate(body)
    assert body == {
        "name": "Issue 42 [ss-1-4-abc]",
        "categories": ["sharpsend"],
        "send_to": {"segment_ids": ["0bd7a5e6-0f5c-4d5b-9c8e-3c6f1f1b2a10"]},
        "email_config": {
            "subject": "Markets",
            "html_content": "<p>Hi</p>",
            "generate_plain_content": False,
            "editor": "code",
            "sender_id": 77,
            "suppression_group_id": 12,
            "plain_content": "Hi",
        },
    }
    assert result.remote_id == "S1"
    assert ledger.calls == ["creating", ("created", "S1"), "sending"]


def test_a_scheduled_send(client):
    at = datetime(2026, 1, 5, 14, 7, tzinfo=UTC)
    steps = client.plan_send(SendSpec(**{**SEND.__dict__, "send_at": at}), "S1")
    assert steps[1].request.path == "/v3/marketing/singlesends/S1/schedule"
    assert json.loads(steps[1].request.content) == {"send_at": "2026-01-05T14:07:00Z"}


def test_a_rerun_finds_it_scheduled(client):
    with strict() as rsps:
        rsps.get(f"{BASE}/v3/marketing/singlesends/S1", json={"id": "S1", "status": "scheduled"})
        assert client.send_campaign(SEND.resuming("S1"), Recorder()).already_sent


def test_preflight_needs_a_verified_sender(client, make_integration):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/v3/marketing/senders/77", json={"id": 77, "verified": False})
        rsps.get(
            f"{BASE}/v3/marketing/segments/2.0/0bd7a5e6-0f5c-4d5b-9c8e-3c6f1f1b2a10",
            json={"contacts_count": 3},
        )
        assert client.preflight(SEND) == ["SendGrid's sender 77 is not verified yet."]
    bare = SendGridClient(make_integration("sendgrid", name="bare", credentials={"api_key": KEY}))
    with strict():
        assert bare.preflight(SEND) == [
            "SendGrid needs a verified sender: set the Sender ID on the integration.",
            "SendGrid needs an unsubscribe group to send: set the Unsubscribe group ID on the "
            "integration.",
        ]


def test_an_interrupted_send_is_found_by_name(client):
    interrupted = SendSpec(**{**SEND.__dict__, "interrupted": True})
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/v3/marketing/singlesends/search",
            match=[AUTH, matchers.json_params_matcher({"name": "ss-1-4-abc"})],
            json={"result": [{"id": "S1", "name": "Issue 42 [ss-1-4-abc]", "status": "draft"}]},
        )
        rsps.get(f"{BASE}/v3/marketing/singlesends/S1", json={"id": "S1", "status": "draft"})
        rsps.put(f"{BASE}/v3/marketing/singlesends/S1/schedule", status=201, json={})
        result = client.send_campaign(interrupted, Recorder())
    assert result.remote_id == "S1" and not result.already_sent


# --- test sends: a dynamic template of its own (tsg_templates_v3.json, tsg_mc_test_v3.json) -----


def send_email_schema():
    """The test endpoint's request body schema, from tsg_mc_test_v3.json."""
    document = json.loads((SPECS / "sendgrid/tsg_mc_test_v3.json").read_text())
    operation = document["paths"]["/v3/marketing/test/send_email"]["post"]
    return jsonschema.Draft7Validator(
        operation["requestBody"]["content"]["application/json"]["schema"]
    )


def test_a_test_send_goes_through_a_dynamic_template_of_its_own_then_deletes_it(client):
    test = SendSpec(
        **{**SEND.__dict__, "idempotency_key": "test-1-ab12", "name": "[Test] Issue 42"}
    )
    name = "[Test] Issue 42 [test-1-ab12]"
    version = {
        "name": name,
        "active": 1,
        "subject": "Markets",
        "html_content": "<p>Hi</p>",
        "generate_plain_content": False,
        "editor": "code",
        "plain_content": "Hi",
    }
    tid = "5f0c2a8e-3f5b-4c8e-9d1a-0b7e6c5d4a31"
    testers = ["ed@example.com", "qa@example.com"]
    send = {"template_id": tid, "emails": testers, "sender_id": 77, "suppression_group_id": 12}
    exactly = matchers.json_params_matcher
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/v3/templates",
            match=[AUTH, exactly({"name": name, "generation": "dynamic"}, strict_match=True)],
            status=201,
            json={"id": tid, "name": name, "generation": "dynamic", "versions": []},
        )
        rsps.post(
            f"{BASE}/v3/templates/{tid}/versions",
            match=[AUTH, exactly(version, strict_match=True)],
            status=201,
            json={"id": "v1", "template_id": tid, **version},
        )
        test_send = rsps.post(
            f"{BASE}/v3/marketing/test/send_email",
            match=[AUTH, exactly(send, strict_match=True)],
            status=202,
            json={},
        )
        rsps.delete(f"{BASE}/v3/templates/{tid}", match=[AUTH], status=204)
        assert client.send_test(test, testers) == tid
    send_email_schema().validate(json.loads(test_send.calls[0].request.body))
    # No Single Send is made: /v3/marketing/singlesends is not registered (strict mocks).


def test_a_refused_test_send_still_deletes_the_template(client):
    tid = "5f0c2a8e-3f5b-4c8e-9d1a-0b7e6c5d4a31"
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{BASE}/v3/templates", status=201, json={"id": tid})
        rsps.post(f"{BASE}/v3/templates/{tid}/versions", status=201, json={"id": "v1"})
        rsps.post(
            f"{BASE}/v3/marketing/test/send_email",
            status=400,
            json={"errors": [{"field": "sender_id", "message": "a verified sender is required"}]},
        )
        rsps.delete(f"{BASE}/v3/templates/{tid}", status=204)
        with pytest.raises(ValidationFailed, match="verified sender"):
            client.send_test(SEND, ["qa@example.com"])
        assert rsps.calls[-1].request.method == "DELETE"
