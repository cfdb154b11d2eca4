"""Kit broadcasts against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/kit.md §7)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.kit import KitClient
from integrations.platforms.sending import SendSpec
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_kit import AUTH, KEY
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

BASE = "https://api.kit.com"
SEND = SendSpec(
    "ss-1-5-abc",
    "broadcast",
    "Issue 42",
    subject="Markets",
    preview_text="Charts",
    html="<p>Hi</p>",
    segment_id="segment:18",
)


@pytest.fixture
def client(make_integration):
    return KitClient(make_integration("kit", credentials={"api_key": KEY}))


def expected_body(send_at):
    return {
        "subject": "Markets",
        "preview_text": "Charts",
        "content": "<p>Hi</p>",
        "description": "Issue 42 [ss-1-5-abc]",
        "public": False,
        "send_at": send_at,
        "subscriber_filter": [
            {"all": [{"type": "segment", "ids": [18]}], "any": None, "none": None}
        ],
    }


def test_a_broadcast_sent_now_is_scheduled_two_minutes_ahead(client, fake_clock):
    fake_clock.time = datetime(2026, 1, 5, 14, 0, tzinfo=UTC).timestamp()
    ledger = Recorder()
    with strict() as rsps:
        rsps.post(
            f"{BASE}/v4/broadcasts",
            match=[AUTH, matchers.json_params_matcher(expected_body("2026-01-05T14:02:00Z"))],
            status=201,
            json={"broadcast": {"id": 901, "send_at": "2026-01-05T14:02:00Z"}},
        )
        result = client.send_campaign(SEND, ledger)
    assert result.remote_id == "901" and result.remote_send_id == "901"
    assert ledger.calls == ["sending"]


def test_a_scheduled_broadcast_and_a_tag(client):
    spec = SendSpec(
        **{
            **SEND.__dict__,
            "segment_id": "tag:7",
            "send_at": datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
        }
    )
    (step,) = client.plan_send(spec)
    assert step.request.body["send_at"] == "2026-02-01T09:30:00Z"
    assert step.request.body["subscriber_filter"][0]["all"] == [{"type": "tag", "ids": [7]}]


def test_a_send_interrupted_in_the_call_is_found_and_not_repeated(client):
    interrupted = SendSpec(**{**SEND.__dict__, "interrupted": True})
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/v4/broadcasts",
            match=[matchers.query_param_matcher({"per_page": "1000"})],
            json={
                "broadcasts": [{"id": 900, "description": "Other"}],
                "pagination": {"has_next_page": True, "end_cursor": "c1"},
            },
        )
        rsps.get(
            f"{BASE}/v4/broadcasts",
            match=[matchers.query_param_matcher({"per_page": "1000", "after": "c1"})],
            json={
                "broadcasts": [{"id": 901, "description": "Issue 42 [ss-1-5-abc]"}],
                "pagination": {"has_next_page": False},
            },
        )
        rsps.get(
            f"{BASE}/v4/broadcasts/901",
            json={"broadcast": {"id": 901, "send_at": "2026-01-05T14:02:00Z"}},
        )
        result = client.send_campaign(interrupted, ledger)
    assert result.already_sent and result.remote_id == "901"
    assert ledger.calls == [("created", "901")]


def test_preflight_wants_a_segment_or_tag(client):
    spec = SendSpec(**{**SEND.__dict__, "segment_id": "list:3"})
    with strict():
        assert client.preflight(spec) == ["Kit sends to a segment or a tag; 'list:3' is neither."]
