"""The Iterable emulator: Api-Key auth per data center, lists and sizes, fields, bulkUpdate."""

from __future__ import annotations

import types

import orjson
import pytest

from integrations.sandbox import emulation, registry
from integrations.sandbox.models import SandboxContact, SandboxFault, SandboxFieldType

pytestmark = pytest.mark.django_db

US = "/sandbox/iterable/api.iterable.com"
EU = "/sandbox/iterable/api.eu.iterable.com"
US_KEY = {"Api-Key": "sandbox-iterable-server-key-us"}
EU_KEY = {"Api-Key": "sandbox-iterable-server-key-eu"}
READ_ONLY_KEY = {"Api-Key": "sandbox-iterable-readonly-key-us"}
ACCOUNT = "sandbox-project-us"


def bulk_update(client, users, headers=US_KEY, base=US, **extra):
    return client.post(
        f"{base}/api/users/bulkUpdate",
        data=orjson.dumps({"users": users, **extra}),
        content_type="application/json",
        headers=headers,
    )


def user(email: str, **data_fields) -> dict:
    return {"email": email, "dataFields": data_fields}


def contact(identifier: str, account: str = ACCOUNT) -> SandboxContact:
    return SandboxContact.objects.get(platform="iterable", account=account, identifier=identifier)


def field_types(account: str = ACCOUNT) -> dict[str, str]:
    rows = SandboxFieldType.objects.filter(platform="iterable", account=account)
    return {row.name: row.type for row in rows}


@pytest.fixture
def sandbox_time(monkeypatch):
    """Freeze the emulators' clock (rate windows) and record their latency sleeps."""
    state = types.SimpleNamespace(now=1000.0, sleeps=[])
    fake = types.SimpleNamespace(
        monotonic=lambda: state.now, sleep=lambda seconds: state.sleeps.append(seconds)
    )
    monkeypatch.setattr(emulation, "time", fake)
    return state


# --- auth ----------------------------------------------------------------------------------


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [
            {},
            {"Api-Key": "wrong"},
            {"Authorization": "Bearer sandbox-iterable-server-key-us"},
            {"Api-Key": "sandbox-iterable-server-key-eu"},  # a key of the other data center
        ],
        ids=["none", "wrong", "bearer", "eu-key-on-us-host"],
    )
    def test_refused(self, client, headers):
        for response in (
            client.get(f"{US}/api/lists", headers=headers),
            client.get(f"{US}/api/users/getFields", headers=headers),
            bulk_update(client, [user("a@example.com")], headers=headers),
        ):
            assert response.status_code == 401
            assert response.json() == {
                "code": "BadApiKey",
                "msg": "Invalid API key",
                "params": None,
            }
        assert not SandboxContact.objects.exists()

    def test_us_key_on_eu_host_is_refused(self, client):
        assert client.get(f"{EU}/api/lists", headers=US_KEY).status_code == 401

    def test_each_key_on_its_own_data_center(self, client):
        assert client.get(f"{US}/api/lists", headers=US_KEY).status_code == 200
        assert client.get(f"{EU}/api/lists", headers=EU_KEY).status_code == 200
        response = bulk_update(client, [user("a@example.com")], headers=EU_KEY, base=EU)
        assert response.status_code == 200
        assert contact("a@example.com", account="sandbox-project-eu")
        assert not SandboxContact.objects.filter(account=ACCOUNT).exists()

    def test_read_only_key_reads_but_cannot_write(self, client):
        registry.seed("iterable")
        lists = client.get(f"{US}/api/lists", headers=READ_ONLY_KEY)
        assert lists.status_code == 200
        assert len(lists.json()["lists"]) == 3
        assert client.get(f"{US}/api/users/getFields", headers=READ_ONLY_KEY).status_code == 200
        assert client.get(f"{US}/api/lists/1/size", headers=READ_ONLY_KEY).status_code == 200
        response = bulk_update(client, [user("a@example.com")], headers=READ_ONLY_KEY)
        assert response.status_code == 401
        assert response.json()["code"] == "BadApiKey"
        assert "read-only" in response.json()["msg"]
        # Even an empty update (a connection test) is refused.
        assert bulk_update(client, [], headers=READ_ONLY_KEY).status_code == 401
        assert not SandboxContact.objects.exists()

    def test_unknown_host_is_404(self, client):
        response = client.get("/sandbox/iterable/api.example.com/api/lists", headers=US_KEY)
        assert response.status_code == 404

    def test_methods(self, client):
        assert client.get(f"{US}/api/users/bulkUpdate", headers=US_KEY).status_code == 405
        assert client.put(f"{US}/api/lists", headers=US_KEY).status_code == 405
        # POST creates a static list (segment pushes); without a name it is refused
        assert client.post(f"{US}/api/lists", headers=US_KEY).status_code == 400


# --- bulkUpdate -----------------------------------------------------------------------------


class TestBulkUpdate:
    def test_creates_users(self, client):
        response = bulk_update(
            client,
            [
                user("Ann@Example.com", firstName="Ann", signupDate="2024-01-02 03:04:05"),
                {"userId": "u-7", "dataFields": {"plan": "pro"}},
            ],
        )
        assert response.status_code == 200
        body = response.json()
        assert body["successCount"] == 2
        assert body["failCount"] == 0
        assert body["createdFields"] == ["firstName", "plan", "signupDate"]
        assert body["filteredOutFields"] == []
        assert set(body["failedUpdates"]) == {
            "conflictEmails", "conflictUserIds", "forgottenEmails", "forgottenUserIds",
            "invalidDataEmails", "invalidDataUserIds", "invalidEmails", "invalidUserIds",
            "notFoundEmails", "notFoundUserIds",
        }  # fmt: skip
        assert contact("ann@example.com").attributes == {
            "firstName": "Ann",
            "signupDate": "2024-01-02 03:04:05",
            "email": "Ann@Example.com",
        }
        assert contact("userId:u-7").attributes == {"plan": "pro"}

    def test_empty_update_is_accepted(self, client):
        response = bulk_update(client, [])
        assert response.status_code == 200
        assert response.json()["successCount"] == 0

    def test_attributes_merge_across_writes(self, client):
        bulk_update(client, [user("a@example.com", firstName="Ann", plan="free")])
        bulk_update(client, [user("A@example.com", plan="pro", lastName="Lee")])
        assert contact("a@example.com").attributes == {
            "firstName": "Ann",
            "plan": "pro",
            "lastName": "Lee",
            "email": "A@example.com",
        }
        assert SandboxContact.objects.count() == 1

    def test_null_values_are_ignored(self, client):
        bulk_update(client, [user("a@example.com", plan="free")])
        response = bulk_update(client, [user("a@example.com", plan=None)])
        assert response.json()["successCount"] == 1
        assert contact("a@example.com").attributes["plan"] == "free"
        assert "plan" in field_types()

    def test_field_types_are_fixed_by_the_first_write(self, client):
        response = bulk_update(
            client,
            [
                user(
                    "a@example.com",
                    age=40,
                    score=1.5,
                    vip=True,
                    signupDate="2024-01-02 03:04:05",
                    city="Oslo",
                    prefs={"a": 1},
                    tags=["x"],
                )
            ],
        )
        assert response.json()["successCount"] == 1
        assert field_types() == {
            "age": "long",
            "score": "double",
            "vip": "boolean",
            "signupDate": "date",
            "city": "string",
            "prefs": "object",
            "tags": "array",
        }
        fields = client.get(f"{US}/api/users/getFields", headers=US_KEY).json()["fields"]
        assert fields == {"email": "string", "userId": "string", **field_types()}

        response = bulk_update(
            client,
            [
                user("a@example.com", age="forty"),
                user("b@example.com", age=30, vip="yes"),
                user("c@example.com", age=30, signupDate="2024-02-01"),  # not the date format
                user("d@example.com", age=31, city="Bergen"),
            ],
        )
        body = response.json()
        assert response.status_code == 200
        assert body["failedUpdates"]["invalidDataEmails"] == [
            "a@example.com",
            "b@example.com",
            "c@example.com",
        ]
        assert body["successCount"] == 1
        assert body["failCount"] == 3
        assert body["createdFields"] == []
        assert contact("a@example.com").attributes["age"] == 40
        refused = ["b@example.com", "c@example.com"]
        assert not SandboxContact.objects.filter(identifier__in=refused).exists()
        assert contact("d@example.com").attributes["age"] == 31

    def test_type_fixed_by_an_earlier_user_of_the_same_request(self, client):
        response = bulk_update(
            client, [user("a@example.com", age=1), user("b@example.com", age="x")]
        )
        body = response.json()
        assert body["successCount"] == 1
        assert body["failedUpdates"]["invalidDataEmails"] == ["b@example.com"]
        assert field_types() == {"age": "long"}

    def test_type_mismatch_for_user_ids(self, client):
        bulk_update(client, [{"userId": "u1", "dataFields": {"age": 1}}])
        body = bulk_update(client, [{"userId": "u2", "dataFields": {"age": "x"}}]).json()
        assert body["failedUpdates"]["invalidDataUserIds"] == ["u2"]

    def test_create_new_fields_false_filters_unknown_fields(self, client):
        bulk_update(client, [user("a@example.com", plan="free")])
        response = bulk_update(
            client, [user("a@example.com", plan="pro", color="red")], createNewFields=False
        )
        body = response.json()
        assert body["successCount"] == 1
        assert body["filteredOutFields"] == ["color"]
        assert body["createdFields"] == []
        assert contact("a@example.com").attributes == {"plan": "pro", "email": "a@example.com"}
        assert "color" not in field_types()

    def test_identifier_problems(self, client):
        response = bulk_update(
            client,
            [
                user("ok@example.com"),
                user("not-an-email"),
                {"email": "both@example.com", "userId": "u1"},
                {"dataFields": {"a": 1}},
                "not an object",
            ],
        )
        body = response.json()
        assert response.status_code == 200
        assert body["successCount"] == 1
        assert body["failCount"] == 4
        assert body["invalidEmails"] == body["failedUpdates"]["invalidEmails"]
        assert "not-an-email" in body["invalidEmails"]
        assert "both@example.com" in body["invalidEmails"]
        identifiers = list(SandboxContact.objects.values_list("identifier", flat=True))
        assert identifiers == ["ok@example.com"]

    def test_forgotten_users_are_refused(self, client):
        SandboxContact.objects.create(
            platform="iterable",
            account=ACCOUNT,
            identifier="gone@example.com",
            attributes={"plan": "old"},
            suppressed=True,
        )
        SandboxContact.objects.create(
            platform="iterable", account=ACCOUNT, identifier="userId:u-gone", suppressed=True
        )
        response = bulk_update(
            client,
            [
                user("fine@example.com"),
                user("Gone@example.com", plan="new"),
                {"userId": "u-gone", "dataFields": {"plan": "new"}},
            ],
        )
        body = response.json()
        assert response.status_code == 200
        assert body["successCount"] == 1
        assert body["failCount"] == 2
        assert body["failedUpdates"]["forgottenEmails"] == ["gone@example.com"]
        assert body["failedUpdates"]["forgottenUserIds"] == ["u-gone"]
        assert contact("gone@example.com").attributes == {"plan": "old"}
        assert contact("userId:u-gone").attributes == {}
        assert contact("fine@example.com").attributes == {"email": "fine@example.com"}

    def test_body_over_4mb_is_refused(self, client):
        users = [user(f"p{i}@example.com", bio="x" * 100_000) for i in range(41)]
        body = orjson.dumps({"users": users})
        assert len(body) > 4_000_000
        response = bulk_update(client, users)
        assert response.status_code == 400
        assert response.json()["code"] == "BatchTooLarge"
        assert not SandboxContact.objects.exists()

    def test_body_just_under_4mb_is_accepted(self, client):
        users = [user(f"p{i}@example.com", bio="x" * 99_000) for i in range(40)]
        assert len(orjson.dumps({"users": users})) <= 4_000_000
        assert bulk_update(client, users).json()["successCount"] == 40

    @pytest.mark.parametrize(
        ("body", "code"),
        [
            (b"not json", "BadJsonBody"),
            (b"[]", "BadJsonBody"),
            (b"{}", "BadParams"),
            (b'{"users": {"email": "a@example.com"}}', "BadParams"),
        ],
        ids=["not-json", "array", "no-users", "users-object"],
    )
    def test_body_shape(self, client, body, code):
        response = client.post(
            f"{US}/api/users/bulkUpdate", data=body, content_type="application/json", headers=US_KEY
        )
        assert response.status_code == 400
        assert response.json()["code"] == code


# --- lists ----------------------------------------------------------------------------------


class TestLists:
    def test_seeded_lists(self, client):
        registry.seed("iterable")
        response = client.get(f"{US}/api/lists", headers=US_KEY)
        assert response.status_code == 200
        lists = response.json()["lists"]
        assert [(item["id"], item["name"], item["listType"]) for item in lists] == [
            (1, "Growth Investors", "Dynamic"),
            (2, "Dividend Income", "Dynamic"),
            (3, "All readers", "Standard"),
        ]
        assert set(lists[0]) == {"id", "name", "description", "createdAt", "listType"}

    def test_sizes_follow_stored_users(self, client, sandbox_time):
        registry.seed("iterable")

        def size(list_id: int) -> int:
            response = client.get(f"{US}/api/lists/{list_id}/size", headers=US_KEY)
            assert response.status_code == 200
            assert response["Content-Type"].startswith("text/plain")
            return int(response.content)

        assert [size(1), size(3)] == [0, 0]
        bulk_update(
            client,
            [
                user("g1@example.com", interest="growth"),
                user("g2@example.com", interest="growth"),
                user("d1@example.com", interest="dividends"),
                user("n1@example.com"),
            ],
        )
        assert [size(1), size(2), size(3)] == [2, 1, 4]
        sandbox_time.now += 60  # lists/size allows 5 a minute
        bulk_update(client, [user("g1@example.com", interest="dividends")])
        bulk_update(client, [user("eu@example.com", interest="growth")], headers=EU_KEY, base=EU)
        assert [size(1), size(2), size(3)] == [1, 2, 4]

    def test_unknown_list(self, client):
        registry.seed("iterable")
        response = client.get(f"{US}/api/lists/99/size", headers=US_KEY)
        assert response.status_code == 400
        assert response.json()["code"] == "BadParams"

    def test_members_are_a_text_of_emails(self, client, sandbox_time):
        registry.seed("iterable")
        bulk_update(client, [user("g1@example.com", interest="growth"), user("n1@example.com"),
                             user("g2@example.com", interest="growth")])  # fmt: skip

        def members(list_id) -> tuple[int, str, str]:
            response = client.get(f"{US}/api/lists/getUsers", {"listId": list_id}, headers=US_KEY)
            return response.status_code, response["Content-Type"], response.content.decode()

        assert members(1) == (200, "text/plain", "g1@example.com\ng2@example.com\n")
        assert members(3)[2].split() == ["g1@example.com", "g2@example.com", "n1@example.com"]
        assert members(99)[0] == members("x")[0] == 400
        sandbox_time.now += 0.1
        assert [members(1)[0], members(1)[0]] == [200, 429]  # 5 a minute


# --- rate limits and faults -----------------------------------------------------------------


class TestRateLimits:
    def test_bulk_update_allows_5_a_second(self, client, sandbox_time):
        for i in range(5):
            assert bulk_update(client, [user(f"p{i}@example.com")]).status_code == 200
        response = bulk_update(client, [user("late@example.com")])
        assert response.status_code == 429
        assert response.json()["code"] == "RateLimitExceeded"
        assert int(response.headers["Retry-After"]) >= 1
        assert not SandboxContact.objects.filter(identifier="late@example.com").exists()
        # Other endpoints and other projects keep their own windows.
        assert client.get(f"{US}/api/lists", headers=US_KEY).status_code == 200
        response = bulk_update(client, [user("eu@example.com")], headers=EU_KEY, base=EU)
        assert response.status_code == 200
        sandbox_time.now += 1.0
        assert bulk_update(client, [user("late@example.com")]).status_code == 200

    def test_list_size_allows_5_a_minute(self, client, sandbox_time):
        registry.seed("iterable")
        for _ in range(5):
            assert client.get(f"{US}/api/lists/1/size", headers=US_KEY).status_code == 200
        sandbox_time.now += 30
        response = client.get(f"{US}/api/lists/2/size", headers=US_KEY)
        assert response.status_code == 429
        retry_after = int(response.headers["Retry-After"])
        assert 30 <= retry_after <= 31
        sandbox_time.now += retry_after
        assert client.get(f"{US}/api/lists/2/size", headers=US_KEY).status_code == 200

    def test_get_fields_allows_3_a_second(self, client, sandbox_time):
        for _ in range(3):
            assert client.get(f"{US}/api/users/getFields", headers=US_KEY).status_code == 200
        assert client.get(f"{US}/api/users/getFields", headers=US_KEY).status_code == 429

    def test_lists_allow_100_a_second(self, client, sandbox_time):
        for _ in range(100):
            assert client.get(f"{US}/api/lists", headers=US_KEY).status_code == 200
        assert client.get(f"{US}/api/lists", headers=US_KEY).status_code == 429


class TestFaults:
    def test_throttle_next_counts_down(self, client):
        emulation.set_faults("iterable", throttle_next=3, retry_after=2)
        for remaining in (2, 1, 0):
            response = bulk_update(client, [user("a@example.com")])
            assert response.status_code == 429
            assert response.headers["Retry-After"] == "2"
            assert response.json()["code"] == "RateLimitExceeded"
            assert SandboxFault.objects.get(platform="iterable").throttle_next == remaining
        assert not SandboxContact.objects.exists()
        assert bulk_update(client, [user("a@example.com")]).status_code == 200

    def test_error_rate_one_answers_503(self, client):
        emulation.set_faults("iterable", error_rate=1.0)
        assert bulk_update(client, [user("a@example.com")]).status_code == 503
        assert client.get(f"{US}/api/lists", headers=US_KEY).status_code == 503
        assert not SandboxContact.objects.exists()

    def test_error_rate_zero_never_fails(self, client):
        emulation.set_faults("iterable", error_rate=0.0, latency_ms=0)
        for i in range(5):
            assert bulk_update(client, [user(f"p{i}@example.com")]).status_code == 200

    def test_faults_come_after_auth(self, client):
        emulation.set_faults("iterable", throttle_next=1)
        response = bulk_update(client, [user("a@example.com")], headers=READ_ONLY_KEY)
        assert response.status_code == 401
        assert SandboxFault.objects.get(platform="iterable").throttle_next == 1
