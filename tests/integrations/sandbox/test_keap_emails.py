"""The Keap emulator's emails: the app's users by email, `emails:send` (its checks, who it
reaches, one SandboxSend a call) and the sent-email records with seeded opens and clicks."""

from __future__ import annotations

import base64

import orjson
import pytest

from integrations.sandbox import registry
from integrations.sandbox.models import SandboxSend
from tests.integrations.sandbox.test_keap import BASE, TOKEN, body, post, token

pytestmark = pytest.mark.django_db

OWNER = "owner@sandbox-keap-app.example.com"


@pytest.fixture
def auth():
    token()
    registry.seed("keap")
    return {"Authorization": f"Bearer {TOKEN}"}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def contact_ids(client, auth):
    """Three contacts: two marketable (opted in), one not."""
    made = [
        post(client, auth, body("a@example.com", opt_in=True)),
        post(client, auth, body("b@example.com", opt_in=True)),
        post(client, auth, body("c@example.com")),
    ]
    return [m.json()["id"] for m in made]


def send(client, auth, **fields):
    data = {"contacts": [], "subject": "Markets", "user_id": "1", "html_content": b64("<p>Hi</p>")}
    data.update(fields)
    return client.post(
        f"{BASE}/emails:send",
        data=orjson.dumps(data),
        content_type="application/json",
        headers=auth,
    )


def test_the_app_user_is_found_by_email(client, auth):
    found = client.get(f"{BASE}/users", {"filter": f"email=={OWNER}"}, headers=auth).json()
    assert [(u["id"], u["global_user_id"]) for u in found["users"]] == [("1", "123456")]
    none = client.get(f"{BASE}/users", {"filter": "email==x@example.com"}, headers=auth).json()
    assert none["users"] == []
    info = client.get(f"{BASE}/oauth/connect/userinfo", headers=auth).json()
    assert (info["email"], info["id"]) == (OWNER, "123456")


def test_an_email_reaches_the_marketable_contacts_it_names(client, auth):
    a, b, c = contact_ids(client, auth)
    response = send(client, auth, contacts=[b, a, c, "999999"], plain_content=b64("Hi ü"))
    assert response.status_code == 202 and response.content == b""
    assert "x-keap-product-quota-limit" in response.headers
    (row,) = SandboxSend.objects.filter(platform="keap", kind="email")
    assert (row.name, row.sends, row.recipients) == ("Markets", 1, 2)
    assert row.content == {
        "html": "<p>Hi</p>",
        "plain": "Hi ü",
        "delivered": sorted([a, b], key=int),
    }
    assert "html_content" not in row.body and row.body["contacts"] == [b, a, c, "999999"]


@pytest.mark.parametrize(
    "fields, words",
    [
        ({"contacts": []}, "contacts"),
        ({"subject": " "}, "subject"),
        ({"from_address": OWNER}, "Exactly one"),
        ({"user_id": "7"}, "Invalid user_id"),
        ({"html_content": "not base64!"}, "Base64"),
        ({"attachments": [{}] * 11}, "attachments"),
        ({"reply_to": "x@example.com"}, "Unknown properties"),
    ],
)
def test_a_bad_request_is_refused_and_sends_nothing(client, auth, fields, words):
    (a, *_) = contact_ids(client, auth)
    response = send(client, auth, **{"contacts": [a], **fields})
    assert response.status_code == 400 and words in response.json()["message"]
    assert response.json()["status"] == "Bad Request"
    assert not SandboxSend.objects.exists()


def test_from_the_owners_address_instead_of_the_user(client, auth):
    (a, *_) = contact_ids(client, auth)
    data = {"contacts": [a], "subject": "S", "from_address": OWNER}
    response = client.post(
        f"{BASE}/emails:send",
        data=orjson.dumps(data),
        content_type="application/json",
        headers=auth,
    )
    assert response.status_code == 202


def test_the_records_show_what_each_reader_did(client, auth):
    a, b, c = contact_ids(client, auth)
    send(client, auth, contacts=[a, b, c])
    mine = client.get(f"{BASE}/emails", {"filter": f"contact_id=={a}"}, headers=auth).json()
    (record,) = mine["emails"]
    assert (record["contact_id"], record["subject"], record["sent_to_address"]) == (
        a,
        "Markets",
        "a@example.com",
    )
    assert record["sent_time"].endswith("Z")
    by_email = client.get(f"{BASE}/emails", {"filter": "email==c@example.com"}, headers=auth)
    assert by_email.json()["emails"] == []  # not marketable: not sent
    refused = client.get(f"{BASE}/emails", headers=auth)
    assert refused.status_code == 400
