"""Customer.io API-triggered broadcasts against strict `responses` mocks shaped like the fact
sheet (../shared/platforms/customerio.md §7, §11)."""

from __future__ import annotations

import json

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.customerio import CustomerIoClient
from integrations.platforms.errors import TransientError
from integrations.platforms.sending import SendSpec
from integrations.platforms.types import Rate
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_customerio import APP_US, US_CREDS, bearer

pytestmark = pytest.mark.usefixtures("steady_retries")

SPEC = SendSpec(
    "ss-1-1-abc",
    "api_triggered_broadcast",
    "Issue 42",
    subject="Markets",
    html="<p>Hi</p>",
    segment_id="7",
    remote_campaign_id="12",
)


@pytest.fixture
def client(make_integration):
    return CustomerIoClient(make_integration("customerio", region="us", credentials=dict(US_CREDS)))


class Recorder:
    def __init__(self):
        self.calls = []

    def creating(self):
        self.calls.append("creating")

    def created(self, remote_id):
        self.calls.append(("created", remote_id))

    def sending(self):
        self.calls.append("sending")


def test_the_trigger_rate_is_declared():
    assert CustomerIoClient.limits.rates["broadcast_trigger"] == Rate(1, 10.0)


def test_trigger_for_a_segment(client):
    ledger = Recorder()
    with strict() as rsps:
        call = rsps.post(
            f"{APP_US}/v1/campaigns/12/triggers",
            match=[bearer(US_CREDS)],
            json={"id": 4},
        )
        result = client.send_campaign(SPEC, ledger)
    body = json.loads(call.calls[0].request.body)
    assert body["recipients"] == {"segment": {"id": 7}}
    assert body["data"]["subject"] == "Markets"
    assert body["data"]["sharpsend_send"] == "ss-1-1-abc"
    assert result.remote_send_id == "4" and not result.already_sent
    assert ledger.calls == ["sending"]  # the attempt is recorded before the call


def test_a_timeout_on_the_trigger_is_not_retried(client):
    with strict() as rsps:
        rsps.post(f"{APP_US}/v1/campaigns/12/triggers", status=503, json={"meta": {}})
        with pytest.raises(TransientError):
            client.send_campaign(SPEC, Recorder())
        assert len(rsps.calls) == 1


def test_a_429_is_retried_after_the_wait(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{APP_US}/v1/campaigns/12/triggers",
            status=429,
            headers={"Retry-After": "10"},
            json={"meta": {"error": "Too many requests"}},
        )
        rsps.post(f"{APP_US}/v1/campaigns/12/triggers", json={"id": 5})
        assert client.send_campaign(SPEC, Recorder()).remote_send_id == "5"


def test_preflight_asks_for_the_broadcast_and_the_segment(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{APP_US}/v1/broadcasts", json={"broadcasts": [{"id": 3, "name": "Other"}]})
        rsps.get(
            f"{APP_US}/v1/segments/7/customer_count",
            status=404,
            json={"meta": {"error": "not found"}},
            match=[matchers.header_matcher({"Authorization": f"Bearer {US_CREDS['app_api_key']}"})],
        )
        problems = client.preflight(SPEC)
    assert problems == [
        "Customer.io has no broadcast 12 in this workspace (make it in Customer.io as an "
        "API-triggered broadcast).",
        "Customer.io has no segment 7 any more: choose another.",
    ]


def test_preflight_local_problems_need_no_call(client):
    from datetime import UTC, datetime

    spec = SendSpec("k", "api_triggered_broadcast", "x", send_at=datetime(2026, 1, 1, tzinfo=UTC))
    with strict():
        problems = client.preflight(spec, can_write=False)
    assert problems == [
        "The Customer.io key is read-only: it cannot send.",
        "No segment: choose one, or re-import segments if it is gone.",
        "Name the Customer.io api-triggered broadcast to trigger.",
        "A Customer.io api-triggered broadcast cannot be scheduled: clear the scheduled time "
        "(it is sent on approval).",
    ]


def test_trigger_choices_are_the_workspace_broadcasts(client):
    with strict() as rsps:
        rsps.get(
            f"{APP_US}/v1/broadcasts",
            match=[bearer(US_CREDS)],
            json={"broadcasts": [{"id": 3, "name": "Daily issue"}, {"id": 9, "name": ""}]},
        )
        assert client.trigger_choices("api_triggered_broadcast") == [
            ("3", "Daily issue"),
            ("9", "Broadcast 9"),
        ]
