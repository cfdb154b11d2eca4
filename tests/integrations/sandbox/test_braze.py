"""The Braze emulator: Bearer keys per instance, permissions, /users/track limits and minor
errors, custom attributes, segments and sizes, user delete/export."""

from __future__ import annotations

import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.braze import segment_id
from integrations.sandbox.models import SandboxContact, SandboxFieldType

pytestmark = pytest.mark.django_db

US = "/sandbox/braze/rest.iad-01.braze.com"
EU = "/sandbox/braze/rest.fra-01.braze.eu"
MAU = "/sandbox/braze/rest.iad-03.braze.com"
US_KEY = {"Authorization": "Bearer sandbox-braze-rest-key-us01"}
EU_KEY = {"Authorization": "Bearer sandbox-braze-rest-key-eu01"}
MAU_KEY = {"Authorization": "Bearer sandbox-braze-rest-key-mau"}
RESTRICTED = {"Authorization": "Bearer sandbox-braze-restricted-key-us01"}
ACCOUNT = "sandbox-braze-workspace-us"


def post(client, path, body, headers=US_KEY, base=US):
    return client.post(
        f"{base}{path}", data=orjson.dumps(body), content_type="application/json", headers=headers
    )


def track(client, attributes, **kwargs):
    return post(client, "/users/track", {"attributes": attributes}, **kwargs)


def contact(identifier, account=ACCOUNT):
    return SandboxContact.objects.get(platform="braze", account=account, identifier=identifier)


@pytest.fixture
def sandbox_time(monkeypatch):
    state = types.SimpleNamespace(now=1000.0)
    monkeypatch.setattr(
        emulation, "time", types.SimpleNamespace(monotonic=lambda: state.now, sleep=lambda s: None)
    )
    return state


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "sandbox-braze-rest-key-us01"},
         EU_KEY],
        ids=["none", "wrong", "no-scheme", "eu-key-on-us-instance"],
    )  # fmt: skip
    def test_refused(self, client, headers):
        response = track(client, [{"email": "a@example.com"}], headers=headers)
        assert response.status_code == 401
        assert response.json()["message"].startswith("Invalid API key")
        assert client.get(f"{US}/segments/list", headers=headers).status_code == 401
        assert not SandboxContact.objects.exists()

    def test_each_key_on_its_instance(self, client):
        assert (
            track(client, [{"email": "a@example.com"}], headers=EU_KEY, base=EU).status_code == 201
        )
        assert contact("a@example.com", account="sandbox-braze-workspace-eu")

    def test_restricted_key_reads_but_gets_access_denied_on_writes(self, client):
        assert client.get(f"{US}/segments/list", headers=RESTRICTED).status_code == 200
        assert client.get(f"{US}/custom_attributes", headers=RESTRICTED).status_code == 200
        for response in (
            track(client, [{"email": "a@example.com"}], headers=RESTRICTED),
            post(client, "/users/delete", {"external_ids": ["1"]}, headers=RESTRICTED),
            post(client, "/users/export/ids", {"external_ids": ["7"], "fields_to_export": ["email"]},
                 headers=RESTRICTED),
        ):  # fmt: skip
            assert response.status_code == 403
            assert response.json() == {"message": "Access Denied"}
        assert not SandboxContact.objects.exists()

    def test_unknown_host_is_404(self, client):
        assert client.get("/sandbox/braze/sdk.iad-01.braze.com/segments/list").status_code == 404


class TestUsersTrack:
    def test_creates_and_merges_users(self, client):
        response = track(
            client,
            [
                {"email": "Ann@Example.com", "first_name": "Ann", "email_subscribe": "subscribed",
                 "signup": "2024-01-01T00:00:00+00:00", "_update_existing_only": False},
                {"external_id": "42", "email": "b@example.com", "plan": "pro"},
            ],
        )  # fmt: skip
        assert response.status_code == 201
        assert response.json() == {
            "message": "success",
            "attributes_processed": 2,
            "events_processed": 0,
            "purchases_processed": 0,
        }
        assert contact("ann@example.com").attributes == {
            "email": "Ann@Example.com",
            "first_name": "Ann",
            "email_subscribe": "subscribed",
            "signup": "2024-01-01T00:00:00+00:00",
        }
        assert contact("external_id:42").attributes["plan"] == "pro"
        track(client, [{"email": "ann@example.com", "last_name": "Lee"}])
        assert contact("ann@example.com").attributes["first_name"] == "Ann"
        assert contact("ann@example.com").attributes["last_name"] == "Lee"
        types_ = dict(SandboxFieldType.objects.values_list("name", "type"))
        assert types_["signup"] == "Date" and types_["plan"] == "String"

    def test_minor_errors_are_indexed_and_the_rest_is_processed(self, client):
        SandboxContact.objects.create(
            platform="braze", account=ACCOUNT, identifier="blocked@example.com", suppressed=True
        )
        response = track(
            client,
            [
                {"email": "ok@example.com"},
                {"first_name": "nobody"},
                {"email": "not-an-email"},
                {"email": "blocked@example.com"},
                {"email": "x@example.com", "email_subscribe": "yes"},
            ],
        )
        assert response.status_code == 201
        body = response.json()
        assert body["message"] == "success"
        assert body["attributes_processed"] == 1
        assert [(e["index"], e["input_array"]) for e in body["errors"]] == [
            (1, "attributes"), (2, "attributes"), (3, "attributes"), (4, "attributes"),
        ]  # fmt: skip
        assert "blacklisted" in body["errors"][2]["type"]
        assert contact("ok@example.com")
        assert contact("blocked@example.com").attributes == {}

    def test_update_existing_only_never_creates(self, client):
        track(client, [{"email": "new@example.com", "_update_existing_only": True}])
        assert not SandboxContact.objects.exists()

    def test_more_than_75_objects_is_fatal(self, client):
        response = track(client, [{"email": f"p{i}@example.com"} for i in range(76)])
        assert response.status_code == 400
        assert response.json()["message"] == "Max Input Length Exceeded"
        assert not SandboxContact.objects.exists()

    def test_mau_contract_takes_50_combined(self, client):
        people = [{"email": f"p{i}@example.com"} for i in range(51)]
        assert track(client, people, headers=MAU_KEY, base=MAU).status_code == 400
        assert track(client, people[:50], headers=MAU_KEY, base=MAU).status_code == 201

    def test_empty_request_is_refused(self, client):
        response = track(client, [])
        assert response.status_code == 400
        assert "Valid data" in response.json()["message"]

    def test_rate_limit_answers_429_with_reset_header(self, client, sandbox_time, monkeypatch):
        from integrations.sandbox import braze

        monkeypatch.setitem(braze.RATES, "users.track", (2, 3.0))
        for _ in range(2):
            assert track(client, [{"email": "a@example.com"}]).status_code == 201
        limited = track(client, [{"email": "a@example.com"}])
        assert limited.status_code == 429
        assert "Retry-After" not in limited.headers
        assert int(limited.headers["X-RateLimit-Reset"]) > 0
        sandbox_time.now += 3.1
        assert track(client, [{"email": "a@example.com"}]).status_code == 201


class TestReads:
    def test_custom_attributes_page_with_a_link_header(self, client, monkeypatch):
        from integrations.sandbox.braze import contacts

        monkeypatch.setattr(contacts, "ATTRIBUTES_PER_PAGE", 2)
        track(client, [{"email": "a@example.com", "first_name": "A", "a1": 1, "a2": True,
                        "a3": ["x"]}])  # fmt: skip
        first = client.get(f"{US}/custom_attributes", headers=US_KEY)
        assert [a["name"] for a in first.json()["attributes"]] == ["a1", "a2"]
        link = first.headers["Link"]
        assert link.endswith('?cursor=a2>; rel="next"')
        second = client.get(f"{US}/custom_attributes?cursor=a2", headers=US_KEY)
        assert second.json()["attributes"] == [
            {"name": "a3", "description": "", "data_type": "Array", "array_length": 25,
             "status": "Active", "tag_names": []}
        ]  # fmt: skip
        assert "Link" not in second.headers

    def test_segments_and_their_sizes(self, client):
        registry.seed("braze")
        track(
            client, [{"email": "g@example.com", "interest": "growth"}, {"email": "o@example.com"}]
        )
        listed = client.get(f"{US}/segments/list?page=0&sort_direction=desc", headers=US_KEY)
        segments = listed.json()["segments"]
        assert [s["name"] for s in segments] == [
            "All readers",
            "Dividend Income",
            "Growth Investors",
        ]
        assert all(s["analytics_tracking_enabled"] for s in segments)
        assert client.get(f"{US}/segments/list?page=1", headers=US_KEY).json()["segments"] == []
        size = client.get(
            f"{US}/segments/data_series?segment_id={segment_id(1)}&length=1", headers=US_KEY
        )
        assert size.json()["data"][0]["size"] == 1
        bad = client.get(f"{US}/segments/data_series?segment_id=nope&length=1", headers=US_KEY)
        assert bad.status_code == 400
        no_length = client.get(
            f"{US}/segments/data_series?segment_id={segment_id(1)}", headers=US_KEY
        )
        assert no_length.status_code == 400


class TestPrivacy:
    def test_export_and_delete(self, client):
        track(client, [{"email": "a@example.com", "first_name": "A", "plan": "pro"},
                       {"external_id": "42", "plan": "basic"}])  # fmt: skip
        exported = post(
            client,
            "/users/export/ids",
            {"email_address": "A@example.com", "fields_to_export": ["email", "custom_attributes"]},
        )
        assert exported.status_code == 201
        assert exported.json()["users"] == [
            {"email": "a@example.com", "custom_attributes": {"plan": "pro"}}
        ]
        missing = post(
            client, "/users/export/ids", {"external_ids": ["7"], "fields_to_export": ["email"]}
        )
        assert missing.json()["invalid_user_ids"] == ["7"]
        assert post(client, "/users/export/ids", {"external_ids": ["42"]}).status_code == 400
        # An empty id list is refused on shape, as Braze does.
        empty = post(
            client, "/users/export/ids", {"external_ids": [], "fields_to_export": ["email"]}
        )
        assert empty.status_code == 400

        no_priority = post(
            client, "/users/delete", {"email_addresses": [{"email": "a@example.com"}]}
        )
        assert no_priority.status_code == 400
        deleted = post(
            client,
            "/users/delete",
            {
                "email_addresses": [
                    {"email": "a@example.com", "prioritization": ["most_recently_updated"]}
                ]
            },
        )
        assert deleted.json() == {"message": "success", "deleted": 1}
        assert post(client, "/users/delete", {"external_ids": ["42"]}).json()["deleted"] == 1
        assert not SandboxContact.objects.exists()
        too_many = post(client, "/users/delete", {"external_ids": [str(i) for i in range(51)]})
        assert too_many.status_code == 400


class TestArrayAttributes:
    """Braze's array add/remove syntax on a stored user (fact sheet §3), as segment pushes
    write `sharpsend_segments`."""

    def test_add_and_remove_change_the_stored_array(self, client):
        track(client, [{"email": "ann@example.com", "first_name": "Ann"}])
        response = track(
            client, [{"email": "ann@example.com", "sharpsend_segments": {"add": ["a", "b"]}}]
        )
        assert response.status_code == 201
        assert contact("ann@example.com").attributes["sharpsend_segments"] == ["a", "b"]
        track(client, [{"email": "ann@example.com", "sharpsend_segments": {"add": ["b", "c"]}}])
        track(client, [{"email": "ann@example.com", "sharpsend_segments": {"remove": ["a"]}}])
        stored = contact("ann@example.com").attributes
        assert stored["sharpsend_segments"] == ["b", "c"] and stored["first_name"] == "Ann"
        # Removing a value the user does not hold changes nothing.
        track(client, [{"email": "ann@example.com", "sharpsend_segments": {"remove": ["zz"]}}])
        assert contact("ann@example.com").attributes["sharpsend_segments"] == ["b", "c"]

    def test_objects_for_one_user_apply_in_order(self, client):
        track(client, [{"email": "bo@example.com"}])
        track(
            client,
            [
                {"email": "bo@example.com", "tags": {"add": ["x"]}},
                {"email": "bo@example.com", "tags": {"remove": ["x"], "add": ["y"]}},
            ],
        )
        assert contact("bo@example.com").attributes["tags"] == ["y"]

    def test_update_existing_only_never_creates_the_user(self, client):
        response = track(
            client,
            [{"email": "new@example.com", "sharpsend_segments": {"add": ["a"]},
              "_update_existing_only": True}],
        )  # fmt: skip
        assert response.status_code == 201 and "errors" not in response.json()
        assert not SandboxContact.objects.filter(platform="braze", identifier="new@example.com")

    def test_more_than_75_objects_are_refused_whole(self, client):
        objects = [
            {"email": f"r{i}@example.com", "sharpsend_segments": {"add": ["a"]}} for i in range(76)
        ]
        response = track(client, objects)
        assert response.status_code == 400
        assert response.json()["message"] == "Max Input Length Exceeded"
        assert not SandboxContact.objects.filter(platform="braze").exists()
