"""Keap emails to a tag's contacts against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/keap.md §6, §7), bodies validated against Keap's OpenAPI document: the
sender resolved, the tag's members paged, one `emails:send` a batch, each batch once."""

from __future__ import annotations

import base64
import dataclasses
import json
from datetime import UTC, datetime

import jsonschema
import pytest
import yaml
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.keap import KeapClient
from integrations.platforms.send_batches import BatchProgress
from integrations.platforms.sending import SendSpec
from integrations.services import oauth
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_keap import (
    ACCESS,
    AUTH,
    BASE,
    REFRESH,
    _closed,
    _request_schema,
    _resolve,
)
from tests.integrations.platforms.test_keap import (
    SPEC as OPENAPI,
)
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")
OAUTH_APP = "keap"

SPEC = SendSpec(
    "ss-3-4-abc",
    "email",
    "Issue 42",
    subject="Markets",
    html="<p>Hi — ü</p>",
    plain_text="Hi",
    segment_id="7",
)
USERINFO = {"email": "owner@example.com", "sub": "12345", "id": "123456", "is_admin": True}
USERS = {"users": [{"id": "1", "global_user_id": "123456", "given_name": "Own"}]}


class BatchRecorder(Recorder):
    def batch_sending(self, progress):
        self.calls.append(("batch_sending", progress.in_flight, progress.in_flight_count))

    def batch_done(self, progress):
        self.calls.append(("batch_done", progress.done_through, progress.sent, progress.lost))


@pytest.fixture
def client(make_integration):
    integration = make_integration("keap", credentials={})
    oauth.save_connection(
        integration, {"access_token": ACCESS, "refresh_token": REFRESH, "expires_in": 3600}
    )
    return KeapClient(integration)


@pytest.fixture(scope="module")
def spec():
    return yaml.safe_load(OPENAPI.read_text())


@pytest.fixture
def small_batches(monkeypatch):
    monkeypatch.setattr(KeapClient, "recipients_per_send", 2)


def sender(rsps):
    rsps.get(f"{BASE}/oauth/connect/userinfo", match=[AUTH], json=USERINFO)
    rsps.get(
        f"{BASE}/users",
        match=[
            AUTH,
            matchers.query_param_matcher({"filter": "email==owner@example.com", "page_size": "1"}),
        ],
        json=USERS,
    )


def tagged(rsps, *pages):
    """The tag's contacts, one `responses` page per argument (a list of ids)."""
    for number, ids in enumerate(pages):
        params = {"page_size": "1000", **({"page_token": str(number)} if number else {})}
        last = number == len(pages) - 1
        rsps.get(
            f"{BASE}/tags/7/contacts",
            match=[AUTH, matchers.query_param_matcher(params)],
            json={
                "contacts": [{"id": i, "email": f"c{i}@example.com"} for i in ids],
                "next_page_token": "" if last else str(number + 1),
            },
        )


def email_sent(rsps, contacts, status=202):
    body = {
        "contacts": contacts,
        "subject": "Markets",
        "user_id": "1",
        "html_content": base64.b64encode("<p>Hi — ü</p>".encode()).decode(),
        "plain_content": base64.b64encode(b"Hi").decode(),
    }
    return rsps.post(
        f"{BASE}/emails:send",
        match=[AUTH, matchers.json_params_matcher(body, strict_match=True)],
        status=status,
        body="" if status == 202 else json.dumps({"code": status, "message": "x"}),
    )


def test_each_batch_of_the_tags_contacts_is_one_email_send(client, small_batches):
    ledger = BatchRecorder()
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["12", "3"], ["101", "5", "3"])
        email_sent(rsps, ["3", "5"])
        email_sent(rsps, ["12", "101"])
        result = client.send_campaign(SPEC, ledger)
    assert result.progress == BatchProgress(done_through="101", sent=4, batches=2)
    assert result.remote_state == "sent" and not result.already_sent
    assert ledger.calls == [
        ("batch_sending", "5", 2),
        ("batch_done", "5", 2, 0),
        ("batch_sending", "101", 2),
        ("batch_done", "101", 4, 0),
    ]


def test_a_rerun_resumes_after_the_last_batch_done(client, small_batches):
    resumed = dataclasses.replace(SPEC, progress=BatchProgress(done_through="5", sent=2, batches=1))
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["3", "5", "12", "101"])
        email_sent(rsps, ["12", "101"])
        result = client.send_campaign(resumed, BatchRecorder())
    assert result.progress.sent == 4 and result.progress.batches == 2


def test_a_batch_left_in_flight_is_given_up_not_repeated(client, small_batches):
    ledger = BatchRecorder()
    progress = BatchProgress(in_flight="5", in_flight_count=2)
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["3", "5", "12"])
        email_sent(rsps, ["12"])
        result = client.send_campaign(dataclasses.replace(SPEC, progress=progress), ledger)
    assert ledger.calls[0] == ("batch_done", "5", 0, 2)
    assert (result.progress.sent, result.progress.lost, result.progress.lost_batches) == (1, 2, 1)
    assert "unknown" in result.remote_state


def test_the_send_call_is_not_retried_after_a_5xx(client, small_batches):
    ledger = BatchRecorder()
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["3", "5", "12"])
        email_sent(rsps, ["3", "5"], status=503)
        with pytest.raises(TransientError):
            client.send_campaign(SPEC, ledger)
        assert len(rsps.calls) == 4
    assert ledger.calls == [("batch_sending", "5", 2)]  # in flight: the rerun gives it up


def test_a_refused_batch_is_taken_off_the_flight(client, small_batches):
    ledger = BatchRecorder()
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["3", "5", "12"])
        email_sent(rsps, ["3", "5"])
        email_sent(rsps, ["12"], status=400)
        with pytest.raises(ValidationFailed):
            client.send_campaign(SPEC, ledger)
    # Refused, so not sent: a rerun sends contact 12 (it is not counted lost).
    assert ledger.calls[-2:] == [("batch_sending", "12", 1), ("batch_done", "5", 2, 0)]


def test_a_429_is_retried_after_the_wait(client, small_batches):
    with strict(registry=OrderedRegistry) as rsps:
        sender(rsps)
        tagged(rsps, ["3"])
        rsps.post(
            f"{BASE}/emails:send",
            status=429,
            headers={"Retry-After": "2"},
            json={"code": "429", "message": "Quota Exceeded", "status": "Request Throttled"},
        )
        rsps.post(f"{BASE}/emails:send", status=202, body="")
        assert client.send_campaign(SPEC, BatchRecorder()).progress.sent == 1


def test_a_user_outside_the_app_stops_before_any_send(client):
    ledger = BatchRecorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/oauth/connect/userinfo", json=USERINFO)
        rsps.get(f"{BASE}/users", json={"users": [], "next_page_token": ""})
        with pytest.raises(ValidationFailed, match="not a user of this Keap app"):
            client.send_campaign(SPEC, ledger)
    assert ledger.calls == []


def test_the_request_body_matches_the_spec(client, spec):
    steps = client.plan_send(SPEC, values={"user_id": "1", "recipients": "3\n5"})
    body = json.loads(steps[-1].request.content)
    jsonschema.Draft202012Validator(_request_schema(spec, "/rest/v2/emails:send", "post")).validate(
        body
    )
    assert base64.b64decode(body["html_content"]).decode() == SPEC.html
    assert body["contacts"] == ["3", "5"]
    assert "post" in spec["paths"]["/rest/v2/emails:send"]
    assert "202" in spec["paths"]["/rest/v2/emails:send"]["post"]["responses"]
    users = {p["name"] for p in spec["paths"]["/rest/v2/users"]["get"]["parameters"]}
    assert {"filter", "page_size"} <= users


def test_the_answers_fed_here_match_the_spec(spec):
    schemas = spec["components"]["schemas"]
    for name, example in [
        ("GetUserInfoResponse", USERINFO),
        ("ListUsersPaginatedResponse", USERS),
        ("ListTaggedContactsResponse", {"contacts": [{"id": "3", "email": "a@example.com"}]}),
    ]:
        schema = _closed(_resolve({"$ref": f"#/components/schemas/{name}"}, schemas))
        jsonschema.Draft202012Validator(schema).validate(example)


def test_preflight(client):
    local = dataclasses.replace(SPEC, segment_id="", send_at=datetime(2026, 1, 5, tzinfo=UTC))
    with strict():
        assert client.preflight(local) == [
            "No segment: choose one, or re-import segments if it is gone.",
            "A Keap email to the tag's contacts cannot be scheduled (Keap's API has no "
            "scheduled send: emails:send goes out at once): clear the scheduled time (it is sent "
            "on approval).",
        ]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{BASE}/tags/7/contacts",
            match=[matchers.query_param_matcher({"page_size": "1"})],
            status=404,
            json={"code": 404, "message": "Tag 7 not found", "status": "Not Found"},
        )
        assert client.preflight(SPEC) == ["Keap has no tag 7 any more: choose another."]
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{BASE}/tags/7/contacts", json={"contacts": [], "next_page_token": ""})
        sender(rsps)
        assert client.preflight(SPEC) == []


def test_the_dry_run_plan_is_the_requests(client):
    steps = client.plan_send(SPEC)
    assert [(s.kind, s.request.method, s.request.path) for s in steps] == [
        ("check", "GET", "/crm/rest/v2/oauth/connect/userinfo"),
        ("check", "GET", "/crm/rest/v2/users"),
        ("send", "POST", "/crm/rest/v2/emails:send"),
    ]
    body = json.loads(steps[-1].request.content)
    assert (body["contacts"], body["user_id"]) == (["{recipients}"], "{user_id}")
    assert dict(steps[1].request.params)["filter"] == "email=={user_email}"


def test_tag_members_are_listed_page_by_page(client):
    with strict(registry=OrderedRegistry) as rsps:
        tagged(rsps, ["3", "5"], ["12"])
        first = client.segment_members("7", None)
        last = client.segment_members("7", first.next_cursor)
    assert first.members == [("c3@example.com", "3"), ("c5@example.com", "5")]
    assert first.next_cursor == "1"
    assert (last.members, last.next_cursor) == ([("c12@example.com", "12")], None)
