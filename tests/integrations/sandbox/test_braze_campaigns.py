"""The Braze emulator's campaigns and Canvases: lists, send ids, triggers and their refusals."""

from __future__ import annotations

import pytest

from integrations.sandbox import registry
from integrations.sandbox.braze import CAMPAIGNS, CANVASES
from integrations.sandbox.models import SandboxContact, SandboxSend
from tests.integrations.sandbox.test_braze import ACCOUNT, RESTRICTED, US, US_KEY, post

pytestmark = pytest.mark.django_db

DAILY, GROWTH, RECEIPTS = CAMPAIGNS
WELCOME, WINBACK = CANVASES


@pytest.fixture
def readers(db):
    registry.seed("braze")
    for email, interest in (("a@example.com", "growth"), ("b@example.com", "dividends")):
        SandboxContact.objects.create(
            platform="braze", account=ACCOUNT, identifier=email, attributes={"interest": interest}
        )


def send_id(client, campaign_id=DAILY, value="ss-1-1-abc"):
    return post(client, "/sends/id/create", {"campaign_id": campaign_id, "send_id": value})


def test_the_lists_name_what_the_workspace_has(client):
    campaigns = client.get(f"{US}/campaigns/list?page=0", headers=US_KEY).json()
    assert campaigns["message"] == "success"
    assert [(c["id"], c["is_api_campaign"]) for c in campaigns["campaigns"]] == [
        (DAILY, False), (GROWTH, False), (RECEIPTS, True)
    ]  # fmt: skip
    assert client.get(f"{US}/campaigns/list?page=1", headers=US_KEY).json()["campaigns"] == []
    canvases = client.get(f"{US}/canvas/list", headers=RESTRICTED).json()  # a read permission
    assert [c["id"] for c in canvases["canvases"]] == [WELCOME, WINBACK]


def test_a_send_id_is_ascii_of_at_most_64_and_belongs_to_one_campaign(client):
    assert send_id(client).status_code == 201
    again = send_id(client)
    assert again.status_code == 201 and again.json() == {
        "message": "success",
        "send_id": "ss-1-1-abc",
    }
    assert SandboxSend.objects.filter(kind="send_id").count() == 1
    assert send_id(client, GROWTH).json()["message"].startswith("Invalid send_id")
    assert send_id(client, value="x" * 65).status_code == 400
    assert send_id(client, value="café").status_code == 400
    assert send_id(client, "nope").json() == {"message": "Invalid Campaign ID"}


def test_a_broadcast_reaches_the_campaign_s_segment(client, readers):
    send_id(client)
    body = {"campaign_id": GROWTH, "broadcast": True, "trigger_properties": {"subject": "Hi"}}
    refused = post(client, "/campaigns/trigger/send", {**body, "send_id": "ss-1-1-abc"})
    assert refused.json()["message"].startswith("Invalid send_id")  # made for another campaign
    response = post(client, "/campaigns/trigger/send", body)
    assert response.status_code == 201 and response.json()["message"] == "success"
    (trigger,) = SandboxSend.objects.filter(kind="campaign_trigger")
    assert trigger.remote_id == response.json()["dispatch_id"]
    assert trigger.recipients == 1 and trigger.sends == 1  # growth readers only


def test_recipients_instead_of_a_broadcast(client, readers):
    body = {"campaign_id": DAILY, "recipients": [{"email": "A@example.com"}]}
    assert post(client, "/campaigns/trigger/send", body).status_code == 201
    assert SandboxSend.objects.get(kind="campaign_trigger").recipients == 1
    both = post(client, "/campaigns/trigger/send", {**body, "broadcast": True})
    assert both.status_code == 400


@pytest.mark.parametrize(
    "body, message",
    [
        ({"campaign_id": DAILY}, "No Recipients"),
        ({"campaign_id": RECEIPTS, "broadcast": True}, "Invalid Campaign ID"),
        ({"campaign_id": "nope", "broadcast": True}, "Invalid Campaign ID"),
        ({"campaign_id": DAILY, "broadcast": True, "audience": {"AND": []}},
         "The sandbox does not emulate connected audiences"),
        ({"campaign_id": DAILY, "broadcast": True, "trigger_properties": []},
         "trigger_properties must be an object"),
    ],
)  # fmt: skip
def test_fatal_errors(client, body, message):
    response = post(client, "/campaigns/trigger/send", body)
    assert response.status_code == 400 and response.json() == {"message": message}
    assert not SandboxSend.objects.exists()


def test_a_restricted_key_cannot_trigger(client):
    body = {"canvas_id": WELCOME, "broadcast": True}
    response = post(client, "/canvas/trigger/send", body, headers=RESTRICTED)
    assert response.status_code == 403 and response.json() == {"message": "Access Denied"}


def test_canvases(client, readers):
    assert post(client, "/canvas/trigger/send", {"canvas_id": "x", "broadcast": True}).json() == {
        "message": "Invalid Canvas ID"
    }
    big = {"canvas_id": WELCOME, "broadcast": True, "context": {"html": "x" * 50_000}}
    assert post(client, "/canvas/trigger/send", big).status_code == 400
    stopped = post(client, "/canvas/trigger/send", {"canvas_id": WINBACK, "broadcast": True})
    assert stopped.status_code == 201 and "stopped" in stopped.json()["notice"]
    assert not SandboxSend.objects.exists()
    sent = post(client, "/canvas/trigger/send", {"canvas_id": WELCOME, "broadcast": True})
    assert sent.status_code == 201 and "notice" not in sent.json()
    assert SandboxSend.objects.get(kind="canvas_trigger").recipients == 2


def test_broadcasts_are_limited_to_250_a_minute(client, monkeypatch):
    import types

    from integrations.sandbox import emulation

    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: 1000.0, sleep=lambda s: None)
    )
    body = {"canvas_id": WINBACK, "broadcast": True}
    for _ in range(250):
        assert post(client, "/canvas/trigger/send", body).status_code == 201
    limited = post(client, "/canvas/trigger/send", body)
    assert limited.status_code == 429 and limited.json() == {"message": "Rate Limited"}
    assert limited.headers["X-RateLimit-Limit"] == "250"
