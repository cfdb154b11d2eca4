"""Iterable blast campaigns, triggered campaigns and journeys against strict `responses` mocks;
every request body checked against Iterable's Swagger document (tests/specs/iterable)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import jsonschema
import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.iterable import IterableClient
from integrations.platforms.sending import SendSpec, StepKind
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_iterable import AUTH, JSON_BODY, KEY, SPEC, US
from tests.integrations.platforms.test_iterable import _closed as closed
from tests.integrations.platforms.test_iterable import _resolve as resolve
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

BLAST = SendSpec(
    "ss-5-2-abc",
    "blast_campaign",
    "Issue 42",
    subject="Markets",
    preview_text="Charts",
    html="<p>Hi</p>",
    plain_text="Hi",
    from_name="The Desk",
    reply_to="desk@example.com",
    segment_id="3",
    data={"sharpsend_assignment": 5},
)
TRIGGERED = SendSpec(**{**BLAST.__dict__, "method": "triggered_campaign",
                        "remote_campaign_id": "101"})  # fmt: skip
JOURNEY = SendSpec(**{**BLAST.__dict__, "method": "journey", "remote_campaign_id": "201"})
DATA_FIELDS = {
    "sharpsend_send": "ss-5-2-abc",
    "title": "Issue 42",
    "subject": "Markets",
    "preview_text": "Charts",
    "from_name": "The Desk",
    "html": "<p>Hi</p>",
    "plain_text": "Hi",
    "sharpsend_assignment": 5,
}
LISTS = {
    "lists": [
        {"id": 3, "name": "All readers", "createdAt": 1, "listType": "Standard"},
        {"id": 9, "name": "Global", "createdAt": 1, "listType": "Suppression",
         "isGlobalSuppressionEnabled": True},
        {"id": 10, "name": "Local", "createdAt": 1, "listType": "Suppression",
         "isGlobalSuppressionEnabled": False},
    ]
}  # fmt: skip
OK = {"code": "Success", "msg": "", "params": None}


@pytest.fixture
def client(make_integration):
    return IterableClient(make_integration("iterable", region="us", credentials={"api_key": KEY}))


@pytest.fixture(scope="module")
def schemas():
    spec = json.loads(SPEC.read_text())

    def body_schema(path):
        (param,) = [p for p in spec["paths"][path]["post"]["parameters"] if p["in"] == "body"]
        return closed(resolve(param["schema"], spec["definitions"]))

    return body_schema


def valid(schemas, path):
    """A matcher: the request body is what the spec's body schema for `path` allows."""
    schema = schemas(path)

    def check(request):
        jsonschema.Draft4Validator(schema).validate(json.loads(request.body))
        return True, ""

    return check


def exactly(expected):
    return matchers.json_params_matcher(expected, strict_match=True)


def test_the_send_methods_are_declared():
    methods = {m.key: m for m in IterableClient.send_methods}
    assert list(methods) == ["blast_campaign", "triggered_campaign", "journey", "journey_event"]
    assert methods["journey_event"].per_reader  # test_journeys_iterable.py
    assert not methods["blast_campaign"].trigger_only and methods["blast_campaign"].can_schedule
    for key in ("triggered_campaign", "journey"):
        assert methods[key].trigger_only and methods[key].needs_segment
        assert not methods[key].can_schedule


def test_only_the_blast_can_be_asked_whether_it_went_out():
    assert IterableClient.can_check_sent("blast_campaign")
    assert not IterableClient.can_check_sent("triggered_campaign")
    assert not IterableClient.can_check_sent("journey")


def test_a_blast_writes_its_template_then_creates_the_campaign(client, schemas):
    ledger = Recorder()
    template = {
        "clientTemplateId": "ss-5-2-abc",
        "name": "Issue 42 [ss-5-2-abc]",
        "subject": "Markets",
        "preheaderText": "Charts",
        "html": "<p>Hi</p>",
        "plainText": "Hi",
        "fromName": "The Desk",
        "replyToEmail": "desk@example.com",
    }
    create = {
        "name": "Issue 42 [ss-5-2-abc]",
        "templateId": 3001,
        "listIds": [3],
        "scheduleSend": True,
        "suppressionListIds": [9],  # the global suppression list, not the local one
    }
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/api/templates/email/upsert",
            match=[
                AUTH,
                JSON_BODY,
                exactly(template),
                valid(schemas, "/api/templates/email/upsert"),
            ],
            json=OK,
        )
        rsps.get(
            f"{US}/api/templates/getByClientTemplateId",
            match=[AUTH, matchers.query_param_matcher({"clientTemplateId": "ss-5-2-abc"})],
            json={"templates": [{"templateId": 3001}]},
        )
        rsps.get(f"{US}/api/lists", match=[AUTH], json=LISTS)
        rsps.post(
            f"{US}/api/campaigns/create",
            match=[AUTH, JSON_BODY, exactly(create), valid(schemas, "/api/campaigns/create")],
            json={"campaignId": 789},
        )
        result = client.send_campaign(BLAST, ledger)
    assert (result.remote_id, result.remote_send_id) == ("789", "789")
    assert ledger.calls == ["sending"]  # the create is the send: nothing made before it


def test_a_scheduled_blast_names_its_utc_time_and_no_suppression_when_none(client, schemas):
    at = datetime(2026, 1, 5, 15, 30, tzinfo=UTC) + timedelta(hours=-1)
    spec = SendSpec(**{**BLAST.__dict__, "send_at": at})
    steps = client.plan_send(spec, values={"template_id": "3001", "suppression_list_ids": ""})
    body = json.loads(steps[-1].request.content)
    assert body == {
        "name": "Issue 42 [ss-5-2-abc]",
        "templateId": 3001,
        "listIds": [3],
        "scheduleSend": True,
        "sendAt": "2026-01-05 14:30:00",
    }
    jsonschema.Draft4Validator(schemas("/api/campaigns/create")).validate(body)


def test_the_dry_run_shows_the_values_to_come(client):
    steps = client.plan_send(BLAST)
    assert [s.kind for s in steps] == [
        StepKind.CONTENT,
        StepKind.CHECK,
        StepKind.CHECK,
        StepKind.SEND,
    ]
    assert [s.provides for s in steps] == ["", "template_id", "suppression_list_ids", ""]
    body = json.loads(steps[-1].request.content)
    assert body["templateId"] == "{template_id}"
    assert body["suppressionListIds"] == ["{suppression_list_ids}"]


def test_a_template_iterable_did_not_keep_stops_the_send(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{US}/api/templates/email/upsert", json=OK)
        rsps.get(f"{US}/api/templates/getByClientTemplateId", json={"templates": []})
        with pytest.raises(ValidationFailed) as caught:
            client.send_campaign(BLAST, Recorder())
    assert "kept no template" in caught.value.message


def test_the_create_is_not_retried_after_a_5xx(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{US}/api/templates/email/upsert", json=OK)
        rsps.get(
            f"{US}/api/templates/getByClientTemplateId", json={"templates": [{"templateId": 1}]}
        )
        rsps.get(f"{US}/api/lists", json=LISTS)
        create = rsps.post(f"{US}/api/campaigns/create", status=503, json={"code": "GenericError"})
        with pytest.raises(TransientError):
            client.send_campaign(BLAST, Recorder())
    assert create.call_count == 1


def campaigns_page(*campaigns):
    return {"campaigns": list(campaigns), "totalCampaignsCount": len(campaigns)}


def details(campaign_id, name, state, kind="Blast"):
    return {"id": campaign_id, "name": name, "type": kind, "campaignState": state,
            "messageMedium": "Email", "createdAt": 1, "updatedAt": 1, "createdByUserId": "x"}  # fmt: skip


def test_an_interrupted_blast_is_found_by_name_and_not_sent_again(client):
    interrupted = SendSpec(**{**BLAST.__dict__, "interrupted": True})
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/api/campaigns",
            match=[
                AUTH,
                matchers.query_param_matcher(
                    {"page": "1", "pageSize": "1000", "sort": "-createdAt"}
                ),
            ],
            json=campaigns_page(
                details(788, "Issue 41 [ss-5-1-abc]", "Finished"),
                details(789, BLAST.remote_name, "Starting"),
            ),
        )
        rsps.get(f"{US}/api/campaigns/789", match=[AUTH], json=details(789, "x", "Starting"))
        result = client.send_campaign(interrupted, ledger)
    assert result.already_sent and result.remote_id == "789" and result.remote_state == "Starting"
    assert ledger.calls == [("created", "789")]


def test_an_interrupted_blast_found_ready_is_sent_not_made_again(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/api/campaigns/789", json=details(789, "x", "Ready"))
        send = rsps.post(f"{US}/api/campaigns/789/send", match=[AUTH], json=OK)
        result = client.send_campaign(BLAST.resuming("789"), ledger)
    assert send.call_count == 1 and result.remote_id == "789" and not result.already_sent
    assert ledger.calls == ["sending"]


def test_a_ready_campaign_to_schedule_gets_an_iso_time(client, schemas):
    spec = SendSpec(**{**BLAST.__dict__, "send_at": datetime(2026, 1, 5, 14, 0, tzinfo=UTC)})
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/api/campaigns/789", json=details(789, "x", "Ready"))
        rsps.post(
            f"{US}/api/campaigns/789/schedule",
            match=[exactly({"sendAt": "2026-01-05T14:00:00Z"})],
            json=OK,
        )
        assert client.send_campaign(spec.resuming("789"), Recorder()).scheduled


def test_a_triggered_campaign_for_the_list_without_the_global_suppressed(client, schemas):
    ledger = Recorder()
    trigger = {
        "campaignId": 101,
        "listIds": [3],
        "dataFields": DATA_FIELDS,
        "suppressionListIds": [9],
    }
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/api/lists", match=[AUTH], json=LISTS)
        rsps.post(
            f"{US}/api/campaigns/trigger",
            match=[AUTH, JSON_BODY, exactly(trigger), valid(schemas, "/api/campaigns/trigger")],
            json=OK,
        )
        result = client.send_campaign(TRIGGERED, ledger)
    assert (result.remote_id, result.remote_send_id) == ("", "")
    assert ledger.calls == ["sending"]


def test_a_journey_for_the_list(client, schemas):
    trigger = {"workflowId": 201, "listId": 3, "dataFields": DATA_FIELDS}
    with strict() as rsps:
        rsps.post(
            f"{US}/api/workflows/triggerWorkflow",
            match=[
                AUTH,
                JSON_BODY,
                exactly(trigger),
                valid(schemas, "/api/workflows/triggerWorkflow"),
            ],
            json=OK,
        )
        client.send_campaign(JOURNEY, Recorder())


def test_a_trigger_is_not_looked_up_after_an_interruption(client):
    """A trigger leaves nothing to find: no lookup by name (the ledger marks it unknown)."""
    interrupted = SendSpec(**{**JOURNEY.__dict__, "interrupted": True})
    assert client.find_campaign(interrupted) == ""


def test_trigger_choices_page_through_triggered_campaigns(client):
    first = [details(i, f"Blast {i}", "Finished") for i in range(999)]
    first.append(details(101, "Daily issue (triggered)", "Running", "Triggered"))
    second = [
        details(102, "Old (triggered)", "Archived", "Triggered"),
        details(103, "Breaking news (triggered)", "Ready", "Triggered"),
    ]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US}/api/campaigns",
            match=[AUTH, matchers.query_param_matcher({"page": "1", "pageSize": "1000"})],
            json={**campaigns_page(*first), "nextPageUrl": f"{US}/api/campaigns?page=2"},
        )
        rsps.get(
            f"{US}/api/campaigns",
            match=[matchers.query_param_matcher({"page": "2", "pageSize": "1000"})],
            json=campaigns_page(*second),
        )
        choices = client.trigger_choices("triggered_campaign")
    assert choices == [("101", "Daily issue (triggered)"), ("103", "Breaking news (triggered)")]


def test_trigger_choices_of_journeys_leave_out_those_closed_to_entrances(client):
    journeys = [{"id": 201, "name": "Welcome", "enabled": True},
                {"id": 202, "name": "Winback", "enabled": False}]  # fmt: skip
    with strict() as rsps:
        rsps.get(
            f"{US}/api/journeys",
            match=[AUTH, matchers.query_param_matcher({"page": "1", "pageSize": "50"})],
            json={"journeys": journeys, "totalJourneysCount": 2},
        )
        assert client.trigger_choices("journey") == [("201", "Welcome")]
    assert client.trigger_choices("blast_campaign") == []


def test_preflight_of_a_blast(client, fake_clock):
    far = datetime.fromtimestamp(fake_clock.now(), UTC) + timedelta(days=22)
    suppression = SendSpec(**{**BLAST.__dict__, "segment_id": "9", "send_at": far})
    with strict() as rsps:
        rsps.get(f"{US}/api/lists", json=LISTS)
        assert client.preflight(suppression) == [
            "Iterable list 9 is a suppression list: choose another.",
            "Iterable schedules a campaign at most 21 days ahead.",
        ]
        gone = SendSpec(**{**BLAST.__dict__, "segment_id": "4"})
        assert client.preflight(gone) == ["Iterable has no list 4 any more: choose another."]
        assert client.preflight(BLAST) == []


def test_preflight_of_a_triggered_campaign(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/api/lists", json=LISTS)
        rsps.get(f"{US}/api/campaigns/101", status=404, json={"code": "NotFound", "msg": "no"})
        rsps.get(f"{US}/api/lists", json=LISTS)
        rsps.get(f"{US}/api/campaigns/101", json=details(101, "A blast", "Finished"))
        rsps.get(f"{US}/api/lists", json=LISTS)
        rsps.get(f"{US}/api/campaigns/101", json=details(101, "Gone", "Archived", "Triggered"))
        assert client.preflight(TRIGGERED) == [
            "Iterable has no campaign 101 in this project (make it in Iterable as a triggered "
            "campaign)."
        ]
        assert client.preflight(TRIGGERED) == [
            "Iterable campaign 101 is a Blast campaign, not a triggered one."
        ]
        assert client.preflight(TRIGGERED) == ["Iterable campaign 101 is archived."]


def test_preflight_of_a_journey(client):
    journeys = {"journeys": [{"id": 202, "name": "Winback", "enabled": False}],
                "totalJourneysCount": 1}  # fmt: skip
    closed_one = SendSpec(**{**JOURNEY.__dict__, "remote_campaign_id": "202"})
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US}/api/lists", json=LISTS)
        rsps.get(f"{US}/api/journeys", json=journeys)
        rsps.get(f"{US}/api/lists", json=LISTS)
        rsps.get(f"{US}/api/journeys", json=journeys)
        assert client.preflight(JOURNEY) == [
            "Iterable has no journey 201 in this project (or it is archived)."
        ]
        assert client.preflight(closed_one) == [
            "Iterable journey 202 does not accept new entrances."
        ]


def test_preflight_refuses_ids_that_are_not_numbers(client):
    spec = SendSpec(**{**TRIGGERED.__dict__, "segment_id": "all", "remote_campaign_id": "daily"})
    with strict():
        assert client.preflight(spec) == [
            "An Iterable list id is a number, not 'all'.",
            "An Iterable campaign id is a number, not 'daily'.",
        ]


# --- test sends: a template proof per tester ----------------------------------------------------


def test_a_test_send_proofs_a_template_of_its_own_per_tester_then_deletes_it(client, schemas):
    test = SendSpec(
        **{**BLAST.__dict__, "idempotency_key": "test-5-ab12", "name": "[Test] Issue 42"}
    )
    template = {
        "clientTemplateId": "test-5-ab12",
        "name": "[Test] Issue 42 [test-5-ab12]",
        "subject": "Markets",
        "preheaderText": "Charts",
        "html": "<p>Hi</p>",
        "plainText": "Hi",
        "fromName": "The Desk",
        "replyToEmail": "desk@example.com",
    }
    proof = valid(schemas, "/api/templates/email/proof")
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US}/api/templates/email/upsert",
            match=[
                AUTH,
                JSON_BODY,
                exactly(template),
                valid(schemas, "/api/templates/email/upsert"),
            ],
            json=OK,
        )
        rsps.get(
            f"{US}/api/templates/getByClientTemplateId",
            match=[AUTH, matchers.query_param_matcher({"clientTemplateId": "test-5-ab12"})],
            json={"templates": [{"templateId": 3007}]},
        )
        for email in ("ed@example.com", "qa@example.com"):
            rsps.post(
                f"{US}/api/templates/email/proof",
                match=[
                    AUTH,
                    JSON_BODY,
                    exactly({"templateId": 3007, "recipientEmail": email}),
                    proof,
                ],
                json=OK,
            )
        rsps.post(
            f"{US}/api/templates/bulkDelete",
            match=[
                AUTH,
                JSON_BODY,
                exactly({"ids": [3007]}),
                valid(schemas, "/api/templates/bulkDelete"),
            ],
            json={"success": [3007], "failed": [], "failureReason": ""},
        )
        assert client.send_test(test, ["ed@example.com", "qa@example.com"]) == "3007"
    # No campaign is made (campaigns/create is not registered: strict mocks refuse it).


def test_a_refused_proof_still_deletes_the_template(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{US}/api/templates/email/upsert", json=OK)
        rsps.get(
            f"{US}/api/templates/getByClientTemplateId", json={"templates": [{"templateId": 3007}]}
        )
        rsps.post(
            f"{US}/api/templates/email/proof",
            status=400,
            json={"code": "InvalidEmailAddressError", "msg": "Invalid email", "params": None},
        )
        rsps.post(f"{US}/api/templates/bulkDelete", match=[exactly({"ids": [3007]})], json={})
        with pytest.raises(ValidationFailed, match="Invalid email"):
            client.send_test(BLAST, ["qa@example.com"])


def test_only_a_blast_can_be_sent_as_a_test():
    assert IterableClient.test_send_problem("blast_campaign") == ""
    for method, label in (("triggered_campaign", "triggered campaign"), ("journey", "journey")):
        assert IterableClient.test_send_problem(method) == (
            f"Iterable cannot test send a {label}: the console sends no content of its own to "
            "test (send a test from Iterable)."
        )
