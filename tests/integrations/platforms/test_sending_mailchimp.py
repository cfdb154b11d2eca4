"""Mailchimp regular campaigns against strict `responses` mocks shaped like the fact sheet
(../shared/platforms/mailchimp.md §7)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.errors import TransientError, ValidationFailed
from integrations.platforms.sending import SendSpec
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_mailchimp import AUTH, LIST, US6, make_client
from tests.integrations.platforms.test_sending_customerio import Recorder

pytestmark = pytest.mark.usefixtures("steady_retries")

SPEC = SendSpec(
    "ss-1-2-abc",
    "campaign",
    "Issue 42",
    subject="Markets",
    preview_text="Charts",
    html="<p>Hi</p>",
    plain_text="Hi",
    from_name="The Desk",
    reply_to="desk@example.com",
    segment_id="3",
)
CREATE = {
    "type": "regular",
    "recipients": {"list_id": LIST, "segment_opts": {"saved_segment_id": 3}},
    "settings": {
        "subject_line": "Markets",
        "preview_text": "Charts",
        "title": "Issue 42 [ss-1-2-abc]",
        "from_name": "The Desk",
        "reply_to": "desk@example.com",
    },
    "tracking": {"opens": True, "html_clicks": True, "text_clicks": False},
}


@pytest.fixture
def client(make_integration):
    return make_client(make_integration)


def lookup(rsps, campaigns=()):
    rsps.get(
        f"{US6}/campaigns",
        match=[
            AUTH,
            matchers.query_param_matcher(
                {
                    "list_id": LIST,
                    "count": "1000",
                    "sort_field": "create_time",
                    "sort_dir": "DESC",
                    "fields": "campaigns.id,campaigns.settings.title",
                }
            ),
        ],
        json={"campaigns": list(campaigns)},
    )


def test_create_content_checklist_send(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US6}/campaigns",
            match=[AUTH, matchers.json_params_matcher(CREATE)],
            json={"id": "c1", "status": "save"},
        )
        rsps.put(
            f"{US6}/campaigns/c1/content",
            match=[matchers.json_params_matcher({"html": "<p>Hi</p>", "plain_text": "Hi"})],
            json={"html": "<p>Hi</p>"},
        )
        rsps.get(f"{US6}/campaigns/c1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/c1/actions/send", status=204)
        result = client.send_campaign(SPEC, ledger)
    assert result.remote_id == "c1" and result.remote_state == "sent"
    assert ledger.calls == ["creating", ("created", "c1"), "sending"]


def test_schedule_on_the_quarter_hour(client):
    spec = SendSpec(**{**SPEC.__dict__, "send_at": datetime(2026, 1, 5, 14, 30, tzinfo=UTC)})
    spec = spec.resuming("c1")
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US6}/campaigns/c1",
            match=[matchers.query_param_matcher({"fields": "id,status"})],
            json={"id": "c1", "status": "save"},
        )
        rsps.put(f"{US6}/campaigns/c1/content", json={})
        rsps.get(f"{US6}/campaigns/c1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(
            f"{US6}/campaigns/c1/actions/schedule",
            match=[matchers.json_params_matcher({"schedule_time": "2026-01-05T14:30:00Z"})],
            status=204,
        )
        result = client.send_campaign(spec, Recorder())
    assert result.scheduled and result.remote_state == "scheduled"


def test_a_rerun_finds_it_sent_and_sends_nothing(client):
    with strict() as rsps:
        rsps.get(f"{US6}/campaigns/c1", json={"id": "c1", "status": "sent"})
        result = client.send_campaign(SPEC.resuming("c1"), Recorder())
    assert result.already_sent and result.remote_state == "sent"


def test_a_crash_during_create_finds_the_campaign_by_its_title(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        lookup(rsps, [{"id": "c9", "settings": {"title": "Issue 42 [ss-1-2-abc]"}}])
        rsps.get(f"{US6}/campaigns/c9", json={"id": "c9", "status": "save"})
        rsps.put(f"{US6}/campaigns/c9/content", json={})
        rsps.get(f"{US6}/campaigns/c9/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/c9/actions/send", status=204)
        interrupted = SendSpec(**{**SPEC.__dict__, "interrupted": True})
        assert client.send_campaign(interrupted, ledger).remote_id == "c9"
    assert ledger.calls == [("created", "c9"), "sending"]


def test_a_checklist_not_ready_stops_before_sending(client):
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US6}/campaigns/c1", json={"id": "c1", "status": "save"})
        rsps.put(f"{US6}/campaigns/c1/content", json={})
        rsps.get(
            f"{US6}/campaigns/c1/send-checklist",
            json={
                "is_ready": False,
                "items": [{"type": "error", "id": 0, "heading": "Reply-to", "details": "Add one"}],
            },
        )
        with pytest.raises(ValidationFailed, match="Reply-to: Add one"):
            client.send_campaign(SPEC.resuming("c1"), ledger)
    assert ledger.calls == []


def test_the_send_call_is_not_retried_after_a_5xx(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US6}/campaigns/c1", json={"id": "c1", "status": "save"})
        rsps.put(f"{US6}/campaigns/c1/content", json={})
        rsps.get(f"{US6}/campaigns/c1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/c1/actions/send", status=503, json={"title": "Down"})
        with pytest.raises(TransientError):
            client.send_campaign(SPEC.resuming("c1"), Recorder())
        assert [c.request.method for c in rsps.calls] == ["GET", "PUT", "GET", "POST"]


def test_preflight(client):
    spec = SendSpec(
        **{**SPEC.__dict__, "reply_to": "", "send_at": datetime(2026, 1, 5, 14, 7, tzinfo=UTC)}
    )
    with strict():
        assert client.preflight(spec) == ["Mailchimp needs a reply-to address to send."]
    spec = SendSpec(**{**SPEC.__dict__, "send_at": datetime(2026, 1, 5, 14, 7, tzinfo=UTC)})
    with strict() as rsps:
        rsps.get(f"{US6}/lists/{LIST}/segments/3", status=404, json={"title": "Resource Not Found"})
        assert client.preflight(spec) == [
            "Mailchimp schedules only on the quarter hour (:00, :15, :30, :45 UTC).",
            "The audience has no segment 3 any more: choose another.",
        ]


def test_the_dry_run_plan_is_the_requests(client):
    steps = client.plan_send(SPEC)
    assert [(s.kind, s.request.method, s.request.path) for s in steps] == [
        ("create", "POST", "/3.0/campaigns"),
        ("content", "PUT", "/3.0/campaigns/{remote_id}/content"),
        ("check", "GET", "/3.0/campaigns/{remote_id}/send-checklist"),
        ("send", "POST", "/3.0/campaigns/{remote_id}/actions/send"),
    ]
    assert json.loads(steps[0].request.content) == CREATE


def test_every_send_call_takes_the_shared_limit_with_priority(client, monkeypatch):
    """Sends go before bulk syncs on the same account (integrations/ratelimit.py)."""
    taken = []
    acquire = client.runtime.acquire

    def recording(key, limit, patience, priority=False):
        taken.append(priority)
        return acquire(key, limit, patience, priority=priority)

    monkeypatch.setattr(client.runtime, "acquire", recording)
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US6}/campaigns/c1", json={"id": "c1", "status": "save"})
        rsps.put(f"{US6}/campaigns/c1/content", json={})
        rsps.get(f"{US6}/campaigns/c1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/c1/actions/send", status=204)
        client.send_campaign(SPEC.resuming("c1"), Recorder())
    assert taken == [True, True, True, True]  # the state check too
    assert client.sending is False


def test_content_over_a_declared_limit_is_a_preflight_problem(client, monkeypatch):
    # No platform here documents a campaign content limit yet; the check is the base's.
    monkeypatch.setattr(type(client), "max_content_bytes", 10)
    with strict():
        assert client.preflight(SPEC) == ["The content is 11 bytes; Mailchimp takes at most 10."]


def test_a_test_send_fills_a_draft_of_its_own_sends_it_to_the_testers_and_deletes_it(client):
    from dataclasses import replace

    test = replace(SPEC, idempotency_key="test-1-9f", name="[Test] Issue 42")
    with strict(registry=OrderedRegistry) as rsps:
        create = {
            **CREATE,
            "settings": {**CREATE["settings"], "title": "[Test] Issue 42 [test-1-9f]"},
        }
        rsps.post(
            f"{US6}/campaigns",
            match=[AUTH, matchers.json_params_matcher(create)],
            json={"id": "t1", "status": "save"},
        )
        rsps.put(
            f"{US6}/campaigns/t1/content",
            match=[AUTH, matchers.json_params_matcher({"html": "<p>Hi</p>", "plain_text": "Hi"})],
            json={"html": "<p>Hi</p>"},
        )
        rsps.post(
            f"{US6}/campaigns/t1/actions/test",
            match=[
                AUTH,
                matchers.json_params_matcher(
                    {"test_emails": ["qa@example.com", "ed@example.com"], "send_type": "html"}
                ),
            ],
            status=204,
        )
        rsps.delete(f"{US6}/campaigns/t1", match=[AUTH], status=204)
        assert client.send_test(test, ["qa@example.com", "ed@example.com"]) == "t1"
    # No checklist, and never the send itself: the calls above are all there were (strict).


def test_a_refused_test_still_deletes_its_draft(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(f"{US6}/campaigns", json={"id": "t2", "status": "save"})
        rsps.put(f"{US6}/campaigns/t2/content", json={})
        rsps.post(
            f"{US6}/campaigns/t2/actions/test",
            status=400,
            json={
                "title": "Invalid Resource",
                "detail": "Test emails must be valid",
                "status": 400,
            },
        )
        rsps.delete(f"{US6}/campaigns/t2", status=204)
        with pytest.raises(ValidationFailed):
            client.send_test(SPEC, ["not-an-address"])
        assert rsps.calls[-1].request.method == "DELETE"


def test_a_test_goes_to_one_to_ten_addresses(client):
    with pytest.raises(ValidationFailed, match="1 to 10"):
        client.send_test(SPEC, [f"qa{i}@example.com" for i in range(11)])
