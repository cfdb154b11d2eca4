"""An A/B test split by the console on Klaviyo over real HTTP: the list's members read in, each
variant's group pushed as a list of its own and sent as its own campaign, both campaigns' figures
read back in one values report, the better subject wins by the test, and the winner goes to the
rest as a third campaign. Every reader gets at most one message (the holdout none), however often
the steps are rerun."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.experiments.split import HOLDOUT, REST
from campaigns.models import CampaignSend, ExperimentMember, ExperimentState, SendState
from campaigns.services import ab_sending, experiments, metrics, workflow
from integrations.models import Segment
from integrations.sandbox import accounts, registry
from integrations.sandbox.klaviyo.webhooks import _audience
from integrations.sandbox.models import SandboxSend
from integrations.services import membership
from tests.e2e.test_ab_tests_e2e import READERS, worst_and_best

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
SLUG = "klaviyo"


@pytest.fixture
def klaviyo(make_integration, make_subscribers, run_sync, sandbox_url, e2e_clock):
    from integrations.services.segments import import_segments

    registry.seed(SLUG)
    integration = make_integration(SLUG, base_url=f"{sandbox_url}/{SLUG}")
    make_subscribers(READERS, unsubscribed=())
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    readers = Segment.objects.get(integration=integration, name="All readers")
    assert membership.refresh_members(readers).matched == READERS
    return integration, readers


def campaigns():
    return list(SandboxSend.objects.filter(platform=SLUG, kind="campaign").order_by("pk"))


def delivered(campaign) -> set[str]:
    """Who a campaign went to: the members of the lists its audience includes."""
    return set(_audience(accounts.demo_account(SLUG), campaign).emails)


def subject(campaign) -> str:
    return _audience(accounts.demo_account(SLUG), campaign).subject


def test_klaviyo_variants_then_the_winner_each_reader_once(
    klaviyo, make_assignment, author, approver
):
    integration, readers = klaviyo
    worst, best = worst_and_best()
    assignment = make_assignment((integration, readers.remote_id, "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": worst}, {"subject": best}],
        test_share=0.5, holdout_share=0.1, min_sample=300,
    )  # fmt: skip
    assert (
        experiment.method == "split"
    )  # Klaviyo's A/B tests are not in its API: the console splits
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)

    sends = ab_sending.launch(experiment)
    ab_sending.launch(experiment)  # a rerun pushes and sends nothing more
    assert [s.state for s in sends] == [SendState.SENT, SendState.SENT]
    a, b = (delivered(c) for c in campaigns())
    groups = dict(ExperimentMember.objects.values_list("subscriber__email", "group"))
    assert a == {e.lower() for e, g in groups.items() if g == "A"} and a
    assert b == {e.lower() for e, g in groups.items() if g == "B"} and b and not a & b
    assert {subject(c) for c in campaigns()} == {worst, best}

    # A day later both campaigns are read in one values report and the test decides.
    day_ago = timezone.now() - timedelta(hours=24)
    SandboxSend.objects.update(sent_at=day_ago)
    CampaignSend.objects.update(sent_at=day_ago)
    assert metrics.refresh_metrics().read == 2
    assert experiments.select_winners() == {"winner": 1}
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.DECIDED and experiment.decided_by == "test"
    assert experiment.winner.subject == best

    ab_sending.send_winner(experiment)
    ab_sending.send_winner(experiment)  # a rerun sends nothing more
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.WINNER_SENT
    sent = campaigns()
    assert len(sent) == 3 and subject(sent[-1]) == best
    rest = delivered(sent[-1])
    assert rest == {e.lower() for e, g in groups.items() if g == REST}
    received = [*a, *b, *rest]
    assert len(received) == len(set(received))  # nobody got two messages
    holdout = {e.lower() for e, g in groups.items() if g == HOLDOUT}
    assert holdout and not holdout & set(received)
    assert len(received) + len(holdout) == READERS
