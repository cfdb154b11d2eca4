"""Braze scheduled triggers against strict `responses` mocks shaped like Braze's "schedule
messages" reference (the fact sheet, ../shared/platforms/braze.md §7, names the endpoints):
the send call's body plus `schedule.time`, the schedule id kept, and its delete."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from responses.registries import OrderedRegistry

from integrations.platforms.braze import BrazeClient
from integrations.platforms.errors import ValidationFailed
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_braze import AUTH, JSON_BODY, KEY, US
from tests.integrations.platforms.test_sending_braze import (
    CAMPAIGN,
    CAMPAIGN_ID,
    CANVAS,
    CANVAS_ID,
    PROPERTIES,
    body,
)
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

AT = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


@pytest.fixture
def client(make_integration):
    return BrazeClient(make_integration("braze", region="us-01", credentials={"api_key": KEY}))


def test_a_scheduled_campaign_gets_its_send_id_then_a_schedule(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/sends/id/create",
            match=[AUTH, body({"campaign_id": CAMPAIGN_ID, "send_id": "ss-4-9-abc"})],
            status=201,
            json={"message": "success", "send_id": "ss-4-9-abc"},
        )
        rsps.post(
            f"{US}/campaigns/trigger/schedule/create",
            match=[
                AUTH,
                JSON_BODY,
                body(
                    {
                        "campaign_id": CAMPAIGN_ID,
                        "send_id": "ss-4-9-abc",
                        "trigger_properties": PROPERTIES,
                        "broadcast": True,
                        "schedule": {"time": "2026-01-05T14:30:00Z"},
                    }
                ),
            ],
            status=201,
            json={"dispatch_id": "d1", "schedule_id": "sch-1", "message": "success"},
        )
        result = client.send_campaign(dataclasses.replace(CAMPAIGN, send_at=AT), ledger)
    assert (result.remote_id, result.remote_send_id) == ("ss-4-9-abc", "sch-1")
    assert result.scheduled and result.remote_state == "scheduled"


def test_a_scheduled_canvas_takes_its_context_and_the_time(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/canvas/trigger/schedule/create",
            match=[
                AUTH,
                body(
                    {
                        "canvas_id": CANVAS_ID,
                        "context": PROPERTIES,
                        "broadcast": True,
                        "schedule": {"time": "2026-01-05T14:30:00Z"},
                    }
                ),
            ],
            status=201,
            json={"dispatch_id": "d2", "schedule_id": "sch-2", "message": "success"},
        )
        result = client.send_campaign(dataclasses.replace(CANVAS, send_at=AT), Recorder())
    assert result.remote_send_id == "sch-2"


@pytest.mark.parametrize(
    ("spec", "path", "key", "remote"),
    [
        (CAMPAIGN, "/campaigns/trigger/schedule/delete", "campaign_id", CAMPAIGN_ID),
        (CANVAS, "/canvas/trigger/schedule/delete", "canvas_id", CANVAS_ID),
    ],
)
def test_unschedule_deletes_the_schedule(client, spec, path, key, remote):
    with strict() as rsps:
        rsps.post(
            f"{US}{path}",
            match=[AUTH, JSON_BODY, body({key: remote, "schedule_id": "sch-1"})],
            status=201,
            json={"message": "success"},
        )
        client.unschedule(dataclasses.replace(spec, send_at=AT), "ss-4-9-abc", "sch-1")


def test_a_refused_delete_says_why(client):
    with strict() as rsps:
        rsps.post(
            f"{US}/campaigns/trigger/schedule/delete",
            status=400,
            json={"message": "Invalid schedule_id"},
        )
        with pytest.raises(ValidationFailed, match="Invalid schedule_id"):
            client.unschedule(CAMPAIGN, "ss-4-9-abc", "sch-x")
