"""Campaign Monitor scheduled sends against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/campaign_monitor.md §3, §7): SendDate in the client's time zone, the zone
checked against the client's details, and the unschedule call."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.campaign_monitor import CampaignMonitorClient
from integrations.platforms.campaign_monitor.schedule import schedule_problems, send_date, zone_of
from integrations.platforms.errors import ValidationFailed
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_campaign_monitor import AUTH, BASE, CLIENT, KEY, LIST
from tests.integrations.platforms.test_sending_campaign_monitor import CREATE, JSON_BODY, SPEC
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

SYDNEY = "(GMT+10:00) Canberra, Melbourne, Sydney"
# 2026-01-05 03:30 UTC is 14:30 in Sydney (daylight saving: UTC+11); in July it is UTC+10.
SUMMER = datetime(2026, 1, 5, 3, 30, tzinfo=UTC)
WINTER = datetime(2026, 7, 6, 4, 30, tzinfo=UTC)


@pytest.fixture
def client(make_integration):
    integration = make_integration(
        "campaign_monitor",
        credentials={
            "api_key": KEY,
            "client_id": CLIENT,
            "list_id": LIST,
            "from_email": "news@example.com",
            "time_zone": "Australia/Sydney",
        },
    )
    return CampaignMonitorClient(integration)


def details(rsps, zone=SYDNEY):
    rsps.get(
        f"{BASE}/clients/{CLIENT}.json",
        match=[AUTH],
        json={"ApiKey": KEY, "BasicDetails": {"ClientID": CLIENT, "TimeZone": zone}},
    )


@pytest.mark.parametrize(
    ("at", "local"), [(SUMMER, "2026-01-05 14:30"), (WINTER, "2026-07-06 14:30")]
)
def test_send_date_is_the_clients_wall_clock_with_its_daylight_saving(at, local):
    assert send_date(at, zone_of("Australia/Sydney")) == local
    assert send_date(None, None) == "Immediately"


def test_a_scheduled_send_goes_as_send_date_in_the_clients_zone(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{BASE}/campaigns/{CLIENT}.json",
            match=[AUTH, matchers.json_params_matcher(CREATE, strict_match=True)],
            status=201,
            json="f" * 32,
        )
        rsps.post(
            f"{BASE}/campaigns/{'f' * 32}/send.json",
            match=[
                AUTH,
                JSON_BODY,
                matchers.json_params_matcher(
                    {"ConfirmationEmail": "desk@example.com", "SendDate": "2026-01-05 14:30"},
                    strict_match=True,
                ),
            ],
            body="",
        )
        result = client.send_campaign(dataclasses.replace(SPEC, send_at=SUMMER), ledger)
    assert result.scheduled and result.remote_state == "scheduled"
    assert ledger.calls == ["creating", ("created", "f" * 32), "sending"]


def test_preflight_checks_the_zone_against_the_clients_details(client):
    scheduled = dataclasses.replace(SPEC, send_at=SUMMER)
    with strict(registry=OrderedRegistry) as rsps:
        details(rsps)
        rsps.get(f"{BASE}/segments/{'c' * 32}/active.json", json={"TotalNumberOfRecords": 8})
        assert client.preflight(scheduled) == []
    with strict(registry=OrderedRegistry) as rsps:
        details(rsps, "(GMT) Dublin, Edinburgh, Lisbon, London")
        (problem,) = client.preflight(scheduled)
    assert "does not match the client's time zone in Campaign Monitor ((GMT) Dublin" in problem


def test_preflight_asks_for_a_zone_without_calling(make_integration):
    bare = CampaignMonitorClient(
        make_integration(
            "campaign_monitor",
            name="no zone",
            credentials={
                "api_key": KEY,
                "client_id": CLIENT,
                "list_id": LIST,
                "from_email": "news@example.com",
            },
        )
    )
    with strict():
        (problem,) = bare.preflight(dataclasses.replace(SPEC, send_at=SUMMER))
    assert problem.startswith("To schedule on Campaign Monitor, set the client's time zone")


def test_times_the_send_date_cannot_say_are_refused():
    assert schedule_problems(SUMMER.replace(second=5), "Australia/Sydney", SYDNEY) == [
        "Campaign Monitor schedules to the minute: give a time with no seconds."
    ]
    # 2026-04-05 02:30 in Sydney happens twice (clocks go back at 03:00 to 02:00).
    (problem,) = schedule_problems(
        datetime(2026, 4, 4, 15, 30, tzinfo=UTC), "Australia/Sydney", SYDNEY
    )
    assert "falls in a daylight-saving change" in problem
    assert "not 'Mars/Base'" in schedule_problems(SUMMER, "Mars/Base", SYDNEY)[0]


def test_unschedule_posts_to_the_campaign(client):
    with strict() as rsps:
        rsps.post(f"{BASE}/campaigns/{'f' * 32}/unschedule.json", match=[AUTH], body="")
        client.unschedule(dataclasses.replace(SPEC, send_at=SUMMER), "f" * 32, "")
    assert client.can_unschedule("campaign")


def test_a_refused_unschedule_says_why(client):
    with strict() as rsps:
        rsps.post(
            f"{BASE}/campaigns/{'f' * 32}/unschedule.json",
            status=400,
            json={"Code": 301, "Message": "Invalid CampaignID"},
        )
        with pytest.raises(ValidationFailed, match="Invalid CampaignID"):
            client.unschedule(SPEC, "f" * 32, "")
