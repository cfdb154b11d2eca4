"""The Iterable emulator's templates, campaigns and journeys: creation, states, refusals."""

from __future__ import annotations

from datetime import timedelta

import orjson
import pytest
from django.utils import timezone

from integrations.sandbox import registry
from integrations.sandbox.models import SandboxContact, SandboxSegment, SandboxSend
from tests.integrations.sandbox.test_iterable import ACCOUNT, READ_ONLY_KEY, US, US_KEY

pytestmark = pytest.mark.django_db


def post(client, path, body, headers=US_KEY):
    return client.post(
        f"{US}{path}", data=orjson.dumps(body), content_type="application/json", headers=headers
    )


def get(client, path, headers=US_KEY):
    return client.get(f"{US}{path}", headers=headers)


@pytest.fixture
def project(db):
    registry.seed("iterable")
    for email in ("a@example.com", "b@example.com"):
        SandboxContact.objects.create(platform="iterable", account=ACCOUNT, identifier=email)


@pytest.fixture
def template(client, project):
    body = {"clientTemplateId": "ss-1", "name": "Issue", "subject": "Hi", "html": "<p>1</p>"}
    assert post(client, "/api/templates/email/upsert", body).json()["code"] == "Success"
    return get(client, "/api/templates/getByClientTemplateId?clientTemplateId=ss-1").json()[
        "templates"
    ][0]["templateId"]


def test_an_upsert_updates_the_template_with_that_client_id(client, template):
    post(client, "/api/templates/email/upsert", {"clientTemplateId": "ss-1", "html": "<p>2</p>"})
    (row,) = SandboxSend.objects.filter(kind="template")
    assert template == int(row.remote_id) == 3001
    assert row.content == {"name": "Issue", "subject": "Hi", "html": "<p>2</p>"}
    assert post(client, "/api/templates/email/upsert", {"name": "x"}).status_code == 400
    missing = get(client, "/api/templates/getByClientTemplateId?clientTemplateId=other")
    assert missing.json() == {"templates": []}


def test_a_blast_sends_a_copy_of_its_template_to_its_lists(client, template):
    response = post(client, "/api/campaigns/create", {"name": "Issue 1", "templateId": template,
                                                      "listIds": [3]})  # fmt: skip
    assert response.json() == {"campaignId": 1001}
    detail = get(client, "/api/campaigns/1001").json()
    assert (detail["type"], detail["campaignState"], detail["sendSize"]) == ("Blast", "Finished", 2)
    row = SandboxSend.objects.get(kind="campaign")
    assert row.sends == 1 and row.content["html"] == "<p>1</p>"
    assert post(client, "/api/campaigns/1001/send", {}).json()["code"] == "BadParams"


def test_a_campaign_made_unscheduled_is_sent_or_scheduled_later(client, template):
    body = {"name": "Later", "templateId": template, "listIds": [3], "scheduleSend": False}
    post(client, "/api/campaigns/create", body)
    assert get(client, "/api/campaigns/1001").json()["campaignState"] == "Ready"
    assert post(client, "/api/campaigns/1001/schedule", {"sendAt": "tomorrow"}).status_code == 400
    at = (timezone.now() + timedelta(days=1)).isoformat()
    assert post(client, "/api/campaigns/1001/schedule", {"sendAt": at}).json()["code"] == "Success"
    assert SandboxSend.objects.get(kind="campaign").status == "Scheduled"
    post(client, "/api/campaigns/create", {**body, "name": "Now"})
    assert post(client, "/api/campaigns/1002/send", {}).json()["code"] == "Success"
    assert SandboxSend.objects.get(remote_id="1002").sends == 1


@pytest.mark.parametrize(
    "change, message",
    [
        ({"listIds": []}, "listIds must be a non-empty array"),
        ({"templateId": 99}, "Template 99 does not exist"),
        ({"listIds": [42]}, "List 42 does not exist"),
        ({"sendAt": "2026-01-05T14:00:00Z"}, "sendAt must be YYYY-MM-DD HH:MM:SS"),
        ({"suppressionListIds": [77]}, "Suppression list 77 does not exist"),
    ],
)
def test_a_create_refused(client, template, change, message):
    body = {"name": "Issue", "templateId": template, "listIds": [3], **change}
    response = post(client, "/api/campaigns/create", body)
    assert response.status_code == 400
    assert response.json()["code"] == "BadParams" and response.json()["msg"].startswith(message)
    assert not SandboxSend.objects.filter(kind="campaign").exists()


def test_a_send_more_than_21_days_ahead_is_refused(client, template):
    at = (timezone.now() + timedelta(days=22)).strftime("%Y-%m-%d %H:%M:%S")
    body = {"name": "Far", "templateId": template, "listIds": [3], "sendAt": at}
    assert (
        post(client, "/api/campaigns/create", body).json()["msg"].endswith("21 days in the future")
    )


def test_a_read_only_key_cannot_create(client, template):
    body = {"name": "Issue", "templateId": template, "listIds": [3]}
    assert post(client, "/api/campaigns/create", body, headers=READ_ONLY_KEY).status_code == 401


def test_the_campaign_list_pages_and_sorts(client, template):
    for n in range(3):
        post(client, "/api/campaigns/create", {"name": f"B{n}", "templateId": template,
                                               "listIds": [3]})  # fmt: skip
    first = get(client, "/api/campaigns?page=1&pageSize=2&sort=-id").json()
    assert [c["id"] for c in first["campaigns"]] == [1003, 1002]
    assert first["totalCampaignsCount"] == 5 and "page=2" in first["nextPageUrl"]
    last = get(client, "/api/campaigns?page=3&pageSize=2&sort=-id").json()
    assert [c["id"] for c in last["campaigns"]] == [101] and "nextPageUrl" not in last
    assert get(client, "/api/campaigns/9").status_code == 404


def test_triggers_reach_the_list_without_the_suppressed(client, project):
    suppression = SandboxSegment.create_static("iterable", ACCOUNT, "Do not mail", "Suppression")
    suppression.static_members.add(SandboxContact.objects.get(identifier="a@example.com"))
    lists = {item["id"]: item for item in get(client, "/api/lists").json()["lists"]}
    assert lists[suppression.remote_id]["isGlobalSuppressionEnabled"] is True
    body = {"campaignId": 101, "listIds": [3], "suppressionListIds": [suppression.remote_id]}
    assert post(client, "/api/campaigns/trigger", body).json()["code"] == "Success"
    assert SandboxSend.objects.get(kind="trigger").recipients == 1
    refused = post(client, "/api/campaigns/trigger", {"campaignId": 999, "listIds": [3]})
    assert refused.status_code == 400
    to_suppression = {"campaignId": 101, "listIds": [suppression.remote_id]}
    assert post(client, "/api/campaigns/trigger", to_suppression).status_code == 400


def test_journeys(client, project):
    listed = get(client, "/api/journeys?page=1&pageSize=50").json()
    assert [(j["id"], j["enabled"]) for j in listed["journeys"]] == [(201, True), (202, False)]
    data = {"subject": "Hi"}
    ok = post(client, "/api/workflows/triggerWorkflow", {"workflowId": 201, "listId": 3,
                                                         "dataFields": data})  # fmt: skip
    assert ok.json()["code"] == "Success"
    assert SandboxSend.objects.get(kind="journey_trigger").recipients == 2
    closed = post(client, "/api/workflows/triggerWorkflow", {"workflowId": 202, "listId": 3})
    assert closed.status_code == 400 and "not accepting" in closed.json()["msg"]
    no_list = post(client, "/api/workflows/triggerWorkflow", {"workflowId": 201})
    assert no_list.status_code == 400


def test_a_proof_is_recorded_as_a_test_and_a_template_in_use_is_not_deleted(client, template):
    proof = {"templateId": template, "recipientEmail": "qa@example.com"}
    assert post(client, "/api/templates/email/proof", proof).json()["code"] == "Success"
    (test,) = SandboxSend.objects.filter(kind="test")
    assert (test.recipients, test.body["recipientEmail"]) == (1, "qa@example.com")
    assert test.content["html"] == "<p>1</p>"
    both = {**proof, "recipientUserId": "42"}
    assert post(client, "/api/templates/email/proof", both).status_code == 400
    unknown = {"templateId": 9999, "recipientEmail": "qa@example.com"}
    assert post(client, "/api/templates/email/proof", unknown).json()["code"] == "NotFound"
    assert (
        post(client, "/api/templates/email/proof", proof, headers=READ_ONLY_KEY).status_code == 401
    )
    # A template a campaign uses stays; one no campaign uses goes; ids never collide after.
    post(client, "/api/campaigns/create", {"name": "B", "templateId": template, "listIds": [1]})
    post(client, "/api/templates/email/upsert", {"clientTemplateId": "t-2", "name": "T2"})
    answer = post(client, "/api/templates/bulkDelete", {"ids": [template, 3002]}).json()
    assert (answer["success"], answer["failed"]) == ([3002], [template])
    SandboxSend.objects.filter(kind="template", remote_id=str(template)).update(remote_id="3005")
    post(client, "/api/templates/email/upsert", {"clientTemplateId": "t-3", "name": "T3"})
    assert SandboxSend.objects.filter(kind="template", name="t-3").get().remote_id == "3006"
