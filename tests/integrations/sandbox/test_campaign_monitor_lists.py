"""The Campaign Monitor emulator's lists created through the API (what a segment push makes):
create for the client, the import into them, delete from them, their stats, state lists and
the client's lists."""

from __future__ import annotations

import orjson
import pytest

from integrations.sandbox import registry
from integrations.sandbox.campaign_monitor import CLIENT_ID, DEMO_LIST_ID, OTHER_CLIENT_ID
from integrations.sandbox.models import SandboxSegment
from tests.integrations.sandbox.test_campaign_monitor import (
    ACCOUNT_KEY,
    CLIENT_KEY,
    OTHER_KEY,
    V,
    sandbox_time,  # noqa: F401
    stored,
    subscriber,
)
from tests.integrations.sandbox.test_campaign_monitor import do_import as _import

pytestmark = pytest.mark.django_db

BODY = {
    "Title": "Growth readers",
    "UnsubscribePage": "",
    "ConfirmedOptIn": False,
    "ConfirmationSuccessPage": "",
    "UnsubscribeSetting": "AllClientLists",
}


@pytest.fixture(autouse=True)
def seeded(sandbox_time):  # noqa: F811
    registry.seed("campaign_monitor")
    return sandbox_time


@pytest.fixture
def do_import(seeded):
    """The emulator's import, a second apart (it takes 2 imports a second)."""

    def call(*args, **kwargs):
        seeded.now += 1.0
        return _import(*args, **kwargs)

    return call


def create(client, body=BODY, headers=ACCOUNT_KEY, client_id=CLIENT_ID):
    return client.post(
        f"{V}/lists/{client_id}.json",
        data=orjson.dumps(body),
        content_type="application/json",
        headers=headers,
    )


def delete(client, list_ref, email):
    return client.delete(f"{V}/subscribers/{list_ref}.json?email={email}", headers=ACCOUNT_KEY)


def test_a_list_is_created_for_the_client_and_listed_with_its_stats(client):
    response = create(client)
    assert response.status_code == 201
    list_ref = response.json()
    assert isinstance(list_ref, str) and len(list_ref) == 32
    (row,) = SandboxSegment.objects.filter(platform="campaign_monitor", static=True)
    assert (row.name, row.kind) == ("Growth readers", "list")
    lists = client.get(f"{V}/clients/{CLIENT_ID}/lists.json", headers=ACCOUNT_KEY).json()
    assert {"ListID": list_ref, "Name": "Growth readers"} in lists
    stats = client.get(f"{V}/lists/{list_ref}/stats.json", headers=ACCOUNT_KEY).json()
    assert (stats["TotalActiveSubscribers"], stats["TotalDeleted"]) == (0, 0)


@pytest.mark.parametrize(
    "body, code",
    [
        ({**BODY, "Title": " "}, 251),
        ({**BODY, "UnsubscribeSetting": "Everywhere"}, 1),
        ({**BODY, "ConfirmedOptIn": "no"}, 1),
    ],
)
def test_a_bad_create_is_refused(client, body, code):
    response = create(client, body)
    assert response.status_code == 400 and response.json()["Code"] == code
    assert not SandboxSegment.objects.filter(platform="campaign_monitor", static=True).exists()


def test_a_client_key_of_another_client_cannot_create(client):
    assert create(client, headers=OTHER_KEY).status_code == 401
    assert create(client, headers=CLIENT_KEY, client_id=OTHER_CLIENT_ID).status_code == 401


def test_the_import_fills_the_created_list_only(client, do_import):
    do_import(client, [subscriber("ann@example.com")])  # a reader of the demo list
    list_ref = create(client).json()
    response = do_import(
        client,
        [subscriber("ann@example.com"), subscriber("new@example.com"), subscriber("bad")],
        list_ref=list_ref,
    )
    assert response.status_code == 400
    data = response.json()
    assert data["Code"] == 210
    assert data["ResultData"]["FailureDetails"] == [
        {"EmailAddress": "bad", "Code": 1, "Message": "Invalid Email Address"}
    ]
    assert (
        data["ResultData"]["TotalNewSubscribers"],
        data["ResultData"]["TotalExistingSubscribers"],
    ) == (2, 0)
    (row,) = SandboxSegment.objects.filter(platform="campaign_monitor", static=True)
    assert {c.identifier for c in row.members()} == {"ann@example.com", "new@example.com"}
    again = do_import(client, [subscriber("ann@example.com")], list_ref=list_ref)
    assert again.status_code == 201 and again.json()["TotalExistingSubscribers"] == 1
    active = client.get(f"{V}/lists/{list_ref}/active.json", headers=ACCOUNT_KEY).json()
    assert active["TotalNumberOfRecords"] == 2


def test_delete_moves_a_member_to_the_list_s_deleted_state_and_import_leaves_them_there(
    client, do_import
):
    do_import(client, [subscriber("ann@example.com")])
    list_ref = create(client).json()
    do_import(client, [subscriber("ann@example.com")], list_ref=list_ref)
    assert delete(client, list_ref, "ann@example.com").status_code == 200
    assert stored()["ann@example.com"]["State"] == "Active"  # the demo list keeps them
    one = client.get(
        f"{V}/subscribers/{list_ref}.json?email=ann@example.com", headers=ACCOUNT_KEY
    ).json()
    assert one["State"] == "Deleted" and one["CustomFields"] == []
    deleted = client.get(f"{V}/lists/{list_ref}/deleted.json", headers=ACCOUNT_KEY).json()
    assert [r["EmailAddress"] for r in deleted["Results"]] == ["ann@example.com"]
    assert deleted["Results"][0]["State"] == "Deleted"
    stats = client.get(f"{V}/lists/{list_ref}/stats.json", headers=ACCOUNT_KEY).json()
    assert (stats["TotalActiveSubscribers"], stats["TotalDeleted"]) == (0, 1)

    back = do_import(client, [subscriber("ann@example.com")], list_ref=list_ref)
    assert back.status_code == 201 and back.json()["TotalExistingSubscribers"] == 1
    (row,) = SandboxSegment.objects.filter(platform="campaign_monitor", static=True)
    assert not row.members().exists()  # no Resubscribe: still Deleted
    do_import(client, [subscriber("ann@example.com")], list_ref=list_ref, Resubscribe=True)
    assert {c.identifier for c in row.members()} == {"ann@example.com"}

    lists = client.get(
        f"{V}/clients/{CLIENT_ID}/listsforemail.json?email=ann@example.com", headers=ACCOUNT_KEY
    ).json()
    assert {(i["ListID"], i["SubscriberState"]) for i in lists} == {
        (DEMO_LIST_ID, "Active"),
        (list_ref, "Active"),
    }


def test_deleting_someone_the_list_never_held_answers_203(client, do_import):
    do_import(client, [subscriber("ann@example.com")])
    list_ref = create(client).json()
    response = delete(client, list_ref, "ann@example.com")
    assert response.status_code == 400 and response.json()["Code"] == 203
    assert delete(client, list_ref, "nobody@example.com").json()["Code"] == 203
