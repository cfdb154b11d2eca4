"""Which method an A/B test uses (Mailchimp's own variate test or the console's split) and why,
and a native test's result read back (strict `responses`, Mailchimp's shapes): the decision,
the winner recorded but never sent by the console, and what a person may not do."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from responses import matchers
from responses.registries import OrderedRegistry

from campaigns.experiments.decision import State
from campaigns.models import (
    AssignmentTarget,
    CampaignSend,
    ExperimentMethod,
    ExperimentState,
    SendState,
)
from campaigns.services import ab_sending, experiments
from tests.integrations.platforms.support import strict
from tests.integrations.platforms.test_mailchimp import KEY, LIST, US6

pytestmark = pytest.mark.usefixtures("fake_clock")
TWO = [{"subject": "Markets"}, {"subject": "Three stocks"}]


@pytest.fixture
def mailchimp(make_integration):
    return make_integration("mailchimp", credentials={"api_key": KEY, "list_id": LIST})


@pytest.fixture
def klaviyo(make_integration):
    return make_integration("klaviyo", credentials={"api_key": "pk_test_not_a_real_key"})


def test_a_subject_test_on_mailchimp_alone_is_native(mailchimp, make_assignment):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    assert experiment.method == ExperimentMethod.NATIVE
    assert experiment.method_reason.startswith(
        "Mailchimp runs the test itself (variate): it sends the test share (20%) split across "
        "the versions, picks the best unique open rate after 24 h"
    )


def test_a_from_name_test_fits_too(mailchimp, make_assignment):
    assignment = make_assignment((mailchimp, "", "campaign", ""))
    experiment = experiments.configure(assignment, [{"from_name": "Ann"}, {"from_name": "Bo"}])
    assert experiment.method == ExperimentMethod.NATIVE


@pytest.mark.parametrize(
    ("variants", "plan", "says"),
    [
        (TWO, {"metric": "click_to_open"}, "not by the click-to-open rate."),
        ([{"subject": s} for s in "ABCD"], {}, "this test has 4."),
        ([{"subject": s} for s in "ABCDE"], {}, "this test has 5."),
        (TWO, {"holdout_share": 0.1}, "has no holdout."),
        (TWO, {"no_winner": "ask"}, "is set to “wait for a person”"),
        ([{"preview_text": "x"}, {"preview_text": "y"}], {}, "cannot vary the preview text."),
        (
            [{"subject": "a", "from_name": "Ann"}, {"subject": "b", "from_name": "Bo"}],
            {},
            "differ by subject and from name",
        ),
    ],
)
def test_what_mailchimp_cannot_run_is_the_console_split_with_the_reason(
    mailchimp, make_assignment, variants, plan, says
):
    assignment = make_assignment((mailchimp, "", "campaign", ""))
    experiment = experiments.configure(assignment, variants, **plan)
    assert experiment.method == ExperimentMethod.SPLIT
    assert experiment.method_reason.startswith(
        "The console splits the test and decides it: Mailchimp's own A/B test cannot run it."
    )
    assert says in experiment.method_reason


def test_a_platform_without_a_native_test_is_the_console_split(klaviyo, make_assignment):
    experiment = experiments.configure(make_assignment((klaviyo, "", "campaign", "")), TWO)
    assert experiment.method == ExperimentMethod.SPLIT
    assert "Klaviyo has no A/B test of its own" in experiment.method_reason


def test_mailchimp_with_another_platform_is_the_console_split_on_both(
    mailchimp, klaviyo, make_assignment
):
    assignment = make_assignment((mailchimp, "", "campaign", ""), (klaviyo, "", "campaign", ""))
    experiment = experiments.configure(assignment, TWO)
    assert experiment.method == ExperimentMethod.SPLIT
    assert "it spans 2 targets" in experiment.method_reason
    assert "one decision for all of them needs one split" in experiment.method_reason


def sent_native(experiment, remote_id="v1") -> CampaignSend:
    """The native test as launched: its target and its send, as the ledger left it."""
    base = experiments.base_targets(experiment).get()
    target = AssignmentTarget.objects.create(
        assignment=base.assignment,
        integration=base.integration,
        audience_group=experiments.NATIVE_GROUP,
        method=base.method,
    )
    experiment.state = ExperimentState.TESTING
    experiment.save()
    return CampaignSend.objects.create(
        target=target, idempotency_key="ss-1", state=SendState.SENT, remote_id=remote_id
    )


def the_campaign(winner="", sent_to_rest=""):
    return {
        "id": "v1",
        "type": "variate",
        "status": "sent" if sent_to_rest else "sending",
        "variate_settings": {
            "winning_combination_id": winner,
            "winning_campaign_id": sent_to_rest,
            "winner_criteria": "opens",
            "wait_time": 1440,
            "test_size": 20,
            "subject_lines": ["Markets", "Three stocks"],
            "combinations": [
                {"id": "cb0", "subject_line": 0, "recipients": 200},
                {"id": "cb1", "subject_line": 1, "recipients": 200},
            ],
        },
    }


SUB_REPORTS = {
    "reports": [
        {"id": "s0", "emails_sent": 200, "opens": {"unique_opens": 40},
         "clicks": {"unique_subscriber_clicks": 4}},
        {"id": "s1", "emails_sent": 200, "opens": {"unique_opens": 70},
         "clicks": {"unique_subscriber_clicks": 9}},
    ],
}  # fmt: skip
FIELDS = matchers.query_param_matcher({"fields": "id,type,status,variate_settings"})


def answers(rsps, campaign):
    rsps.get(f"{US6}/campaigns/v1", match=[FIELDS], json=campaign)
    rsps.get(f"{US6}/reports/v1/sub-reports", json=SUB_REPORTS)


def test_mailchimps_choice_is_read_back_and_recorded(mailchimp, make_assignment):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    sent_native(experiment)
    with strict(registry=OrderedRegistry) as rsps:
        answers(rsps, the_campaign())
        answers(rsps, the_campaign(winner="cb1"))
        waiting = experiments.decide_now(experiment)
        assert waiting.state == State.COLLECTING
        assert waiting.reason == (
            "Mailchimp is testing (variate): it picks by opens after 24 h; so far A 40 of 200 "
            "(20.0%), B 70 of 200 (35.0%)."
        )
        decision = experiments.decide_now(experiment)
    assert (decision.state, decision.winner, decision.decided_by) == (State.WINNER, "B", "platform")
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.DECIDED and experiment.winner.label == "B"
    assert experiment.decision_reason == (
        "Mailchimp chose B: Three stocks by opens (native variate): A 40 of 200 (20.0%), "
        "B 70 of 200 (35.0%)."
    )
    counts = experiments.variant_counts(experiment)
    assert [(c.label, c.sent, c.opened, c.clicked) for c in counts] == [
        ("A", 200, 40, 4),
        ("B", 200, 70, 9),
    ]
    page = experiments.results(experiment)  # from what was read: no call
    assert page.now.reason == experiment.decision_reason
    assert [round(r.rate, 3) for r in page.variants] == [0.2, 0.35]


def test_the_console_never_sends_a_native_winner_it_records_mailchimps(mailchimp, make_assignment):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    sent_native(experiment)
    with strict(registry=OrderedRegistry) as rsps:
        answers(rsps, the_campaign(winner="cb1"))  # chosen, not sent to the rest yet
        answers(rsps, the_campaign(winner="cb1"))
        answers(rsps, the_campaign(winner="cb1", sent_to_rest="w9"))
        experiments.decide_now(experiment)
        assert ab_sending.send_winner(experiment) == []
        experiment.refresh_from_db()
        assert experiment.state == ExperimentState.DECIDED  # the next run asks again
        assert ab_sending.send_winner(experiment) == []
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.WINNER_SENT
    assert experiment.decision_reason.endswith(
        "Mailchimp sent the winner to the rest itself (its campaign w9); the console sent "
        "nothing more."
    )
    assert CampaignSend.objects.count() == 1  # only the variate campaign's


def test_a_result_mailchimp_cannot_give_keeps_the_test_running(mailchimp, make_assignment):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    sent_native(experiment)
    with strict() as rsps:
        rsps.get(
            f"{US6}/campaigns/v1",
            status=404,
            json={"title": "Resource Not Found", "status": 404, "detail": "Gone."},
        )
        decision = experiments.decide_now(experiment)
    assert decision.state == State.COLLECTING
    assert decision.reason.startswith("Mailchimp's A/B result could not be read (")
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.TESTING


def test_nobody_picks_a_native_winner_by_hand(mailchimp, make_assignment, approver):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    sent_native(experiment)
    with pytest.raises(ValidationError, match="Mailchimp picks this test's winner itself"):
        experiments.pick_winner(experiment, "A", approver)


def test_an_unsent_native_test_says_so(mailchimp, make_assignment):
    experiment = experiments.configure(make_assignment((mailchimp, "", "campaign", "")), TWO)
    send = sent_native(experiment)
    CampaignSend.objects.filter(pk=send.pk).update(state=SendState.FAILED, error="No segment.")
    decision = experiments.decide_now(experiment)
    assert decision.reason == "The Mailchimp test's send is failed: No segment."
