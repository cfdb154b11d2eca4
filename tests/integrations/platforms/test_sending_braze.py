"""Braze API-triggered campaigns and Canvases against strict `responses` mocks shaped like the
fact sheet (../shared/platforms/braze.md §7, §11–§13; Braze publishes no OpenAPI document)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.braze import BrazeClient
from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.sending import SendSpec, StepKind
from integrations.platforms.types import Rate
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_braze import AUTH, JSON_BODY, KEY, US
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

CAMPAIGN_ID = "c4a1d7e0-5e11-4d2b-9a10-000000000001"
CANVAS_ID = "ca7a5000-1d2e-4f3a-8b4c-000000000001"
CAMPAIGN = SendSpec(
    "ss-4-9-abc",
    "api_triggered_campaign",
    "Issue 42",
    subject="Markets",
    preview_text="Charts",
    html="<p>Hi</p>",
    plain_text="Hi",
    from_name="The Desk",
    remote_campaign_id=CAMPAIGN_ID,
    data={"sharpsend_assignment": 4},
)
CANVAS = SendSpec(**{**CAMPAIGN.__dict__, "method": "api_triggered_canvas",
                     "remote_campaign_id": CANVAS_ID})  # fmt: skip
PROPERTIES = {
    "sharpsend_send": "ss-4-9-abc",
    "title": "Issue 42",
    "subject": "Markets",
    "preview_text": "Charts",
    "from_name": "The Desk",
    "html": "<p>Hi</p>",
    "plain_text": "Hi",
    "sharpsend_assignment": 4,
}


@pytest.fixture
def client(make_integration):
    return BrazeClient(make_integration("braze", region="us-01", credentials={"api_key": KEY}))


def body(expected):
    return matchers.json_params_matcher(expected, strict_match=True)


def test_the_send_methods_and_rates_are_declared():
    methods = {m.key: m for m in BrazeClient.send_methods}
    assert set(methods) == {"api_triggered_campaign", "api_triggered_canvas"}
    for method in methods.values():
        assert method.trigger_only and not method.needs_segment and method.can_schedule
        assert BrazeClient.can_unschedule(method.key)
    assert BrazeClient.limits.rates["broadcast"] == Rate(250, 60.0)
    assert BrazeClient.limits.rates["sends.id.create"] == Rate(100, 86_400.0, burst=100)


def test_a_trigger_cannot_be_asked_whether_it_went_out():
    assert not BrazeClient.can_check_sent("api_triggered_campaign")
    assert not BrazeClient.can_check_sent("api_triggered_canvas")


def test_a_campaign_gets_a_send_id_then_is_triggered_for_its_audience(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/sends/id/create",
            match=[AUTH, JSON_BODY, body({"campaign_id": CAMPAIGN_ID, "send_id": "ss-4-9-abc"})],
            status=201,
            json={"message": "success", "send_id": "ss-4-9-abc"},
        )
        rsps.post(
            f"{US}/campaigns/trigger/send",
            match=[
                AUTH,
                JSON_BODY,
                body(
                    {
                        "campaign_id": CAMPAIGN_ID,
                        "send_id": "ss-4-9-abc",
                        "trigger_properties": PROPERTIES,
                        "broadcast": True,
                    }
                ),
            ],
            status=201,
            json={"dispatch_id": "d1sp4tch", "message": "success"},
        )
        result = client.send_campaign(CAMPAIGN, ledger)
    assert (result.remote_id, result.remote_send_id) == ("ss-4-9-abc", "d1sp4tch")
    assert ledger.calls == ["creating", ("created", "ss-4-9-abc"), "sending"]


def test_a_rerun_with_the_send_id_created_only_triggers(client):
    ledger = Recorder()
    with strict() as rsps:
        trigger = rsps.post(
            f"{US}/campaigns/trigger/send",
            status=201,
            json={"dispatch_id": "d2", "message": "success"},
        )
        result = client.send_campaign(CAMPAIGN.resuming("ss-4-9-abc"), ledger)
    assert trigger.call_count == 1 and result.remote_send_id == "d2"
    assert ledger.calls == ["sending"]


def test_a_create_interrupted_is_made_again_under_the_same_send_id(client):
    """Braze cannot list send ids: the rerun creates the same identifier again."""
    interrupted = SendSpec(**{**CAMPAIGN.__dict__, "interrupted": True})
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/sends/id/create",
            match=[body({"campaign_id": CAMPAIGN_ID, "send_id": "ss-4-9-abc"})],
            status=201,
            json={"message": "success", "send_id": "ss-4-9-abc"},
        )
        rsps.post(f"{US}/campaigns/trigger/send", status=201, json={"dispatch_id": "d3"})
        assert client.send_campaign(interrupted, Recorder()).remote_id == "ss-4-9-abc"


def test_a_canvas_is_triggered_with_the_assignment_as_entry_properties(client):
    ledger = Recorder()
    with strict() as rsps:
        rsps.post(
            f"{US}/canvas/trigger/send",
            match=[
                AUTH,
                JSON_BODY,
                body({"canvas_id": CANVAS_ID, "context": PROPERTIES, "broadcast": True}),
            ],
            status=201,
            json={"dispatch_id": "c4nv4s", "message": "success"},
        )
        result = client.send_campaign(CANVAS, ledger)
    assert (result.remote_id, result.remote_send_id) == ("c4nv4s", "c4nv4s")
    assert ledger.calls == ["sending"]


def test_a_stopped_canvas_sends_nothing_and_says_so(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/canvas/trigger/send",
            status=201,
            json={"dispatch_id": "x", "message": "success", "notice": "The Canvas is paused."},
        )
        with pytest.raises(ValidationFailed) as caught:
            client.send_campaign(CANVAS, Recorder())
    assert (
        caught.value.message == "Braze accepted the trigger but sent nothing: The Canvas is paused."
    )


def test_a_5xx_on_the_trigger_is_not_retried(client):
    with strict() as rsps:
        rsps.post(f"{US}/canvas/trigger/send", status=503, json={"message": "Service Unavailable"})
        with pytest.raises(TransientError):
            client.send_campaign(CANVAS, Recorder())
        assert len(rsps.calls) == 1


def test_an_invalid_campaign_is_braze_s_fatal_400(client):
    with strict() as rsps:
        rsps.post(f"{US}/sends/id/create", status=400, json={"message": "Invalid Campaign ID"})
        with pytest.raises(ValidationFailed) as caught:
            client.send_campaign(CAMPAIGN, Recorder())
    assert (
        caught.value.message == "Braze answered 400 to POST /sends/id/create: Invalid Campaign ID"
    )


def test_the_dry_run_shows_the_send_id_to_come(client):
    steps = client.plan_send(CAMPAIGN)
    assert [s.kind for s in steps] == [StepKind.CREATE, StepKind.SEND]
    assert '"send_id":"{remote_id}"' in steps[1].request.content.decode()
    assert steps[1].request.rate == "broadcast" and steps[0].request.rate == "sends.id.create"


def page(key, items):
    return {"message": "success", key: items}


def listed(n, prefix="c", **extra):
    return [{"id": f"{prefix}{i}", "name": f"Campaign {i}", "tags": [], **extra} for i in range(n)]


def test_trigger_choices_page_through_campaigns_without_api_campaigns(client):
    first = listed(100, is_api_campaign=False)
    second = [
        {"id": "api-1", "name": "Receipts", "is_api_campaign": True},
        {"id": "c100", "name": "Daily issue", "is_api_campaign": False},
    ]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/campaigns/list",
            match=[AUTH, matchers.query_param_matcher({"page": "0"})],
            json=page("campaigns", first),
        )
        rsps.get(
            f"{US}/campaigns/list",
            match=[matchers.query_param_matcher({"page": "1"})],
            json=page("campaigns", second),
        )
        choices = client.trigger_choices("api_triggered_campaign")
    assert len(choices) == 101
    assert choices[-1] == ("c100", "Daily issue") and ("api-1", "Receipts") not in choices


def test_trigger_choices_of_canvases(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/canvas/list",
            match=[AUTH, matchers.query_param_matcher({"page": "0"})],
            json=page("canvases", [{"id": CANVAS_ID, "name": "Welcome", "tags": []}]),
        )
        assert client.trigger_choices("api_triggered_canvas") == [(CANVAS_ID, "Welcome")]
    assert client.trigger_choices("something_else") == []


def test_preflight_a_campaign_braze_does_not_have(client):
    with strict() as rsps:
        rsps.get(f"{US}/campaigns/list", json=page("campaigns", listed(2)))
        assert client.preflight(CAMPAIGN) == [
            f"Braze has no campaign {CAMPAIGN_ID} in this workspace (make it in Braze with "
            "API-triggered delivery)."
        ]


def test_preflight_an_api_campaign_cannot_be_triggered(client):
    with strict() as rsps:
        rsps.get(
            f"{US}/campaigns/list",
            json=page("campaigns", [{"id": CAMPAIGN_ID, "name": "R", "is_api_campaign": True}]),
        )
        (problem,) = client.preflight(CAMPAIGN)
    assert problem.startswith(f"Braze campaign {CAMPAIGN_ID} is an API campaign")


def test_preflight_a_segment_cannot_narrow_a_trigger(client):
    spec = SendSpec(**{**CAMPAIGN.__dict__, "segment_id": "5a9d0000-0000-4000-8000-000000000003"})
    with strict() as rsps:
        rsps.get(
            f"{US}/campaigns/list",
            json=page("campaigns", [{"id": CAMPAIGN_ID, "name": "D", "is_api_campaign": False}]),
        )
        assert client.preflight(spec) == [
            "Braze triggers go to the audience set on the campaign or Canvas in Braze; its API "
            "cannot narrow them to a segment: choose no segment for this target."
        ]


def test_preflight_a_canvas_gone_and_too_much_context(client):
    spec = SendSpec(**{**CANVAS.__dict__, "html": "x" * 50_000})
    with strict() as rsps:
        rsps.get(f"{US}/canvas/list", json=page("canvases", []))
        problems = client.preflight(spec)
    assert problems[0].startswith("The Canvas entry properties are 50,") and problems[0].endswith(
        "bytes; Braze takes at most 50,000."
    )
    assert problems[1] == (
        f"Braze has no Canvas {CANVAS_ID} in this workspace (make it in Braze with "
        "API-triggered entry)."
    )


def test_preflight_local_problems_need_no_call(client):
    spec = SendSpec("k", "api_triggered_canvas", "x", send_at=datetime(2026, 1, 1, tzinfo=UTC))
    with strict():
        problems = client.preflight(spec, can_write=False)
    assert problems == [
        "The Braze key is read-only: it cannot send.",
        "Name the Braze api-triggered canvas to trigger.",
    ]
