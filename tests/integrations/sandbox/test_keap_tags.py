"""The Keap emulator's tags written through the API: createTag, applyTags (the per-contact
results map) and removeTags, reflected in its tag listing and tagged contacts."""

from __future__ import annotations

import orjson
import pytest

from integrations.sandbox import registry
from tests.integrations.sandbox.test_keap import BASE, TOKEN, body, post, token

pytestmark = pytest.mark.django_db


@pytest.fixture
def auth(db):
    token()
    registry.seed("keap")
    return {"Authorization": f"Bearer {TOKEN}"}


def send(client, auth, path, data):
    return client.post(
        f"{BASE}{path}", data=orjson.dumps(data), content_type="application/json", headers=auth
    )


@pytest.fixture
def tagged(client, auth):
    """A created tag and two contacts (ids)."""
    ann = post(client, auth, body("ann@example.com", opt_in=True)).json()["id"]
    bob = post(client, auth, body("bob@example.com", opt_in=True)).json()["id"]
    created = send(client, auth, "/tags", {"name": "Growth readers", "description": "SharpSend"})
    assert created.status_code == 201
    return created.json(), ann, bob


def tagged_contacts(client, auth, tag_id) -> list[tuple[str, str]]:
    data = client.get(f"{BASE}/tags/{tag_id}/contacts", headers=auth).json()
    return [(c["id"], c["email"]) for c in data["contacts"]]


def test_a_created_tag_is_listed_with_its_id(client, auth, tagged):
    tag, _, _ = tagged
    assert tag["name"] == "Growth readers" and tag["id"].isdigit()
    listed = client.get(f"{BASE}/tags", headers=auth).json()["tags"]
    assert [t["name"] for t in listed if t["id"] == tag["id"]] == ["Growth readers"]
    assert tagged_contacts(client, auth, tag["id"]) == []


def test_apply_answers_a_status_per_contact_and_remove_takes_them_off(client, auth, tagged):
    tag, ann, bob = tagged
    path = f"/tags/{tag['id']}/contacts"
    applied = send(client, auth, f"{path}:applyTags", {"contact_ids": [ann, bob, "999999"]})
    assert applied.status_code == 200
    assert applied.json() == {
        "results": {ann: "SUCCESS", bob: "SUCCESS", "999999": "CONTACT_DOES_NOT_EXIST"}
    }
    assert tagged_contacts(client, auth, tag["id"]) == [
        (ann, "ann@example.com"),
        (bob, "bob@example.com"),
    ]
    again = send(client, auth, f"{path}:applyTags", {"contact_ids": [ann]})
    assert again.json() == {"results": {ann: "SUCCESS"}}  # tagged already: still one tagging
    removed = send(client, auth, f"{path}:removeTags", {"contact_ids": [ann, "999999"]})
    assert removed.status_code == 204 and not removed.content
    assert tagged_contacts(client, auth, tag["id"]) == [(bob, "bob@example.com")]


@pytest.mark.parametrize(
    "data",
    [{"ids": ["1"]}, {"contact_ids": [1]}, {"contact_ids": ["1", "1"]}, ["1"]],
    ids=["wrong-key", "numbers", "repeated", "not-an-object"],
)
def test_a_wrong_body_is_refused(client, auth, tagged, data):
    tag, _, _ = tagged
    answer = send(client, auth, f"/tags/{tag['id']}/contacts:applyTags", data)
    assert answer.status_code == 400 and answer.json()["status"] == "Bad Request"


def test_an_unknown_tag_is_404_and_a_demo_tag_takes_no_contacts(client, auth, tagged):
    _, ann, _ = tagged
    missing = send(client, auth, "/tags/9999/contacts:removeTags", {"contact_ids": [ann]})
    assert missing.status_code == 404
    demo = next(
        t
        for t in client.get(f"{BASE}/tags", headers=auth).json()["tags"]
        if t["name"] != "Growth readers"
    )
    refused = send(client, auth, f"/tags/{demo['id']}/contacts:applyTags", {"contact_ids": [ann]})
    assert refused.status_code == 400


@pytest.mark.parametrize(
    "data", [{}, {"name": ""}, {"name": "x", "colour": "red"}, {"name": 5}], ids=str
)
def test_a_tag_needs_a_name_and_only_the_spec_s_properties(client, auth, data):
    assert send(client, auth, "/tags", data).status_code == 400


def test_writes_need_the_token(client, tagged):
    tag, ann, _ = tagged
    assert send(client, {}, "/tags", {"name": "x"}).status_code == 401
    answer = send(client, {}, f"/tags/{tag['id']}/contacts:applyTags", {"contact_ids": [ann]})
    assert answer.status_code == 401
