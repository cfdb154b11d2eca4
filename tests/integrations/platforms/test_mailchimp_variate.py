"""Mailchimp variate campaigns (the native A/B test) against strict `responses` mocks shaped
like the fact sheet (../shared/platforms/mailchimp.md §7, §8) and the Marketing API's
`variate_settings`: what fits, the create / content / checklist / send calls, a crash found
again by its title, and the result read back (combinations, sub-reports, the winner)."""

from __future__ import annotations

import pytest
from responses import matchers
from responses.registries import OrderedRegistry

from integrations.platforms.sending import NativeTest, NativeVersion, SendSpec
from integrations.platforms.types import Capability
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_mailchimp import AUTH, LIST, US6, make_client
from tests.integrations.platforms.test_sending_customerio import Recorder
from tests.integrations.platforms.test_sending_mailchimp import CREATE, SPEC, lookup

pytestmark = pytest.mark.usefixtures("steady_retries")


def version(label, subject="Markets", **fields):
    base = {"preview_text": "Charts", "from_name": "The Desk", "html": "<p>Hi</p>",
            "plain_text": "Hi"}  # fmt: skip
    return NativeVersion(label, subject, **{**base, **fields})


def native(*versions, metric="open_rate", share=0.2, hours=4, holdout=0.0):
    versions = versions or (version("A", "Markets"), version("B", "Three stocks"))
    return NativeTest(metric, share, hours, tuple(versions), holdout)


def with_test(test: NativeTest) -> SendSpec:
    return SendSpec(**{**SPEC.__dict__, "native_test": test})


@pytest.fixture
def client(make_integration):
    return make_client(make_integration)


def test_only_mailchimp_declares_it():
    from integrations.platforms.registry import all_platforms

    native_ones = [p.slug for p in all_platforms() if p.supports(Capability.NATIVE_AB_TEST)]
    assert native_ones == ["mailchimp"]


def test_subject_versions_open_rate_fit(client):
    assert client.native_test_problems(native()) == []
    three = native(version("A", "One"), version("B", "Two"), version("C", "Three"))
    assert client.native_test_problems(three) == []


@pytest.mark.parametrize(
    ("test", "says"),
    [
        (native(metric="click_to_open"), "not by the click-to-open rate."),
        (
            native(*(version(label, f"Subject {label}") for label in "ABCD")),
            "takes 2 to 3 versions of a variable; this test has 4.",
        ),
        (
            native(version("A", "One"), version("B", "Two", html="<p>Other</p>")),
            "The versions differ by subject and content: Mailchimp would test every",
        ),
        (
            native(
                version("A"),
                NativeVersion("B", "Markets", "Other preview", "The Desk", "<p>Hi</p>", "Hi"),
            ),  # fmt: skip
            "cannot vary the preview text.",
        ),
        (native(version("A"), version("B")), "do not differ by subject, from name or content."),
        (native(holdout=0.1), "has no holdout."),
        (native(share=0.05), "tests 10 % to 100 % of the recipients; this test takes 5%."),
        (native(share=0.255), "a whole percentage."),
        (native(hours=0), "at least one, to pick."),
    ],
)
def test_what_does_not_fit_says_why(client, test, says):
    problems = client.native_test_problems(test)
    assert len(problems) == 1 and problems[0].endswith(".")
    assert says in problems[0]


def test_the_preflight_adds_the_native_problems(client):
    assert client.preflight(with_test(native(metric="click_to_open"))) == [
        "Mailchimp picks a variate winner by opens, clicks, revenue or by hand in its web app, "
        "not by the click-to-open rate."
    ]


def test_a_subject_test_is_one_variate_campaign(client):
    ledger = Recorder()
    variate = {
        **CREATE,
        "type": "variate",
        "variate_settings": {
            "winner_criteria": "opens",
            "wait_time": 240,
            "test_size": 20,
            "subject_lines": ["Markets", "Three stocks"],
        },
    }
    with strict(registry=OrderedRegistry) as rsps:
        rsps.post(
            f"{US6}/campaigns",
            match=[AUTH, matchers.json_params_matcher(variate)],
            json={"id": "v1", "type": "variate", "status": "save"},
        )
        rsps.put(
            f"{US6}/campaigns/v1/content",
            match=[matchers.json_params_matcher({"html": "<p>Hi</p>", "plain_text": "Hi"})],
            json={"html": "<p>Hi</p>"},
        )
        rsps.get(f"{US6}/campaigns/v1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/v1/actions/send", status=204)
        result = client.send_campaign(with_test(native()), ledger)
    assert result.remote_id == "v1" and result.remote_state == "sent"
    assert ledger.calls == ["creating", ("created", "v1"), "sending"]


def test_from_names_go_with_as_many_reply_tos_and_contents_as_variate_contents(client):
    by_sender = native(version("A"), NativeVersion("B", "Markets", "Charts", "Ann", "<p>Hi</p>"),
                       metric="click_rate", share=0.5, hours=2)  # fmt: skip
    create, content = client.plan_send(with_test(by_sender))[:2]
    body = create.request.content
    assert b'"winner_criteria":"clicks","wait_time":120,"test_size":50' in body
    assert b'"from_names":["The Desk","Ann"]' in body
    assert b'"reply_to_addresses":["desk@example.com","desk@example.com"]' in body
    assert b"subject_lines" not in body

    by_content = native(version("A"), version("B", html="<p>Other</p>"))
    create, content = client.plan_send(with_test(by_content))[:2]
    assert b"subject_lines" not in create.request.content
    assert content.request.method == "PUT" and content.request.content == (
        b'{"variate_contents":[{"content_label":"A","html":"<p>Hi</p>","plain_text":"Hi"},'
        b'{"content_label":"B","html":"<p>Other</p>","plain_text":"Hi"}]}'
    )


def test_a_crash_during_create_finds_the_variate_campaign_by_its_title(client):
    spec = SendSpec(**{**with_test(native()).__dict__, "interrupted": True})
    ledger = Recorder()
    with strict(registry=OrderedRegistry) as rsps:
        lookup(rsps, [{"id": "v1", "settings": {"title": "Issue 42 [ss-1-2-abc]"}}])
        rsps.get(f"{US6}/campaigns/v1", json={"id": "v1", "status": "save"})
        rsps.put(f"{US6}/campaigns/v1/content", json={})
        rsps.get(f"{US6}/campaigns/v1/send-checklist", json={"is_ready": True, "items": []})
        rsps.post(f"{US6}/campaigns/v1/actions/send", status=204)
        result = client.send_campaign(spec, ledger)
    assert result.remote_id == "v1"
    assert ledger.calls == [("created", "v1"), "sending"]  # no second create


def test_a_rerun_finds_the_variate_campaign_sending_and_sends_nothing(client):
    with strict() as rsps:
        rsps.get(f"{US6}/campaigns/v1", json={"id": "v1", "status": "sending"})
        result = client.send_campaign(with_test(native()).resuming("v1"), Recorder())
    assert result.already_sent and result.remote_state == "sending"


def campaign(winner="", sent_to_rest=""):
    return {
        "id": "v1",
        "type": "variate",
        "status": "sent" if sent_to_rest else "sending",
        "variate_settings": {
            "winning_combination_id": winner,
            "winning_campaign_id": sent_to_rest,
            "winner_criteria": "opens",
            "wait_time": 240,
            "test_size": 20,
            "subject_lines": ["Markets", "Three stocks"],
            "combinations": [
                {"id": "cb0", "subject_line": 0, "recipients": 100},
                {"id": "cb1", "subject_line": 1, "recipients": 100},
            ],
        },
    }


def sub_reports():
    return {
        "reports": [
            {"id": "s0", "emails_sent": 100, "opens": {"unique_opens": 21},
             "clicks": {"unique_subscriber_clicks": 3}},
            {"id": "s1", "emails_sent": 100, "opens": {"unique_opens": 34},
             "clicks": {"unique_subscriber_clicks": 5}},
        ],
        "parent_campaign_id": "v1",
        "total_items": 2,
    }  # fmt: skip


def test_the_result_is_read_from_the_campaign_and_its_sub_reports(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(
            f"{US6}/campaigns/v1",
            match=[
                AUTH,
                matchers.query_param_matcher({"fields": "id,type,status,variate_settings"}),
            ],
            json=campaign(winner="cb1", sent_to_rest="w9"),
        )
        rsps.get(f"{US6}/reports/v1/sub-reports", match=[AUTH], json=sub_reports())
        result = client.native_test_result("v1")
    assert result.criterion == "opens" and result.status == "sent"
    assert [(c.remote_id, c.version, c.recipients, c.sent, c.opened, c.clicked)
            for c in result.combinations] == [("cb0", 0, 100, 100, 21, 3),
                                              ("cb1", 1, 100, 100, 34, 5)]  # fmt: skip
    assert result.winner.version == 1 and result.winner_campaign_id == "w9"


def test_before_it_went_out_there_is_no_report_and_no_winner(client):
    with strict(registry=OrderedRegistry) as rsps:
        rsps.get(f"{US6}/campaigns/v1", json=campaign())
        rsps.get(
            f"{US6}/reports/v1/sub-reports",
            status=404,
            json={"title": "Resource Not Found", "status": 404, "detail": "Not found."},
        )
        result = client.native_test_result("v1")
    assert result.winner is None and result.winner_campaign_id == ""
    assert [c.sent for c in result.combinations] == [0, 0]


def test_the_list_id_is_the_audiences(client):
    create = client.plan_send(with_test(native()))[0]
    assert f'"list_id":"{LIST}"'.encode() in create.request.content
