"""An A/B test split by the console over real HTTP on Campaign Monitor and Klaviyo (Mailchimp's
is tests/e2e/test_ab_tests_e2e.py, Kit's test_ab_kit_e2e.py): the list's members read in, each
variant's group pushed as a list of its own and sent as its own campaign, the campaigns' figures
read back (Campaign Monitor: a summary each; Klaviyo: both in one values report), the better
subject wins by the test, and the winner goes to the rest as a third campaign. Every reader gets
at most one message (the holdout none), however often the steps are rerun."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.experiments.split import HOLDOUT, REST
from campaigns.models import CampaignSend, ExperimentMember, SendState
from campaigns.services import ab_sending, experiments, metrics, workflow
from integrations.models import Segment
from integrations.sandbox import accounts, registry
from integrations.sandbox.klaviyo.webhooks import _audience
from integrations.sandbox.models import SandboxSend
from integrations.services import membership
from integrations.services.segments import import_segments
from tests.e2e.test_ab_tests_e2e import (
    READERS,
    decided_by_the_test,
    winner_sent_once,
    worst_and_best,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def _cm_readers(integration) -> Segment:
    list_id = integration.credentials["list_id"]
    return Segment.objects.get(integration=integration, remote_id=f"list:{list_id}")


def _klaviyo_audience(campaign):
    return _audience(accounts.demo_account("klaviyo"), campaign)


@dataclass(frozen=True)
class Case:
    """How a platform's emulator shows a campaign: who it went to and its subject."""

    credentials: dict
    readers: object  # integration → the segment holding every reader
    delivered: object  # campaign → the addresses it went to
    subject: object  # campaign → its subject


CASES = {
    "campaign_monitor": Case(
        {"from_email": "news@example.com"},
        _cm_readers,
        lambda c: set(c.content["delivered"]),
        lambda c: c.body["Subject"],
    ),
    "klaviyo": Case(
        {},
        lambda i: Segment.objects.get(integration=i, name="All readers"),
        lambda c: set(_klaviyo_audience(c).emails),
        lambda c: _klaviyo_audience(c).subject,
    ),
}


@pytest.fixture(params=sorted(CASES))
def platform(request, make_integration, make_subscribers, run_sync, sandbox_url, e2e_clock):
    slug, case = request.param, CASES[request.param]
    registry.seed(slug)
    credentials = {**accounts.demo_account(slug).credentials, **case.credentials}
    integration = make_integration(slug, base_url=f"{sandbox_url}/{slug}", credentials=credentials)
    make_subscribers(READERS, unsubscribed=())
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    readers = case.readers(integration)
    assert membership.refresh_members(readers).matched == READERS
    return integration, readers, case


def campaigns(slug):
    return list(SandboxSend.objects.filter(platform=slug, kind="campaign").order_by("pk"))


def test_variants_then_the_winner_each_reader_once(platform, make_assignment, author, approver):
    integration, readers, case = platform
    worst, best = worst_and_best()
    assignment = make_assignment((integration, readers.remote_id, "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": worst}, {"subject": best}],
        test_share=0.5, holdout_share=0.1, min_sample=300,
    )  # fmt: skip
    assert experiment.method == "split"  # no A/B API: the console splits
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)

    sends = ab_sending.launch(experiment)
    ab_sending.launch(experiment)  # a rerun pushes and sends nothing more
    assert [s.state for s in sends] == [SendState.SENT, SendState.SENT]
    a, b = (case.delivered(c) for c in campaigns(integration.platform))
    groups = dict(ExperimentMember.objects.values_list("subscriber__email", "group"))
    assert a == {e.lower() for e, g in groups.items() if g == "A"} and a
    assert b == {e.lower() for e, g in groups.items() if g == "B"} and b and not a & b
    assert {case.subject(c) for c in campaigns(integration.platform)} == {worst, best}

    # A day later the campaigns' figures are read and the test decides.
    day_ago = timezone.now() - timedelta(hours=24)
    SandboxSend.objects.update(sent_at=day_ago)
    CampaignSend.objects.update(sent_at=day_ago)
    assert metrics.refresh_metrics().read == 2
    decided_by_the_test(experiment, best)
    winner_sent_once(experiment)
    sent = campaigns(integration.platform)
    assert len(sent) == 3 and case.subject(sent[-1]) == best
    rest = case.delivered(sent[-1])
    assert rest == {e.lower() for e, g in groups.items() if g == REST}
    received = [*a, *b, *rest]
    assert len(received) == len(set(received))  # nobody got two messages
    holdout = {e.lower() for e, g in groups.items() if g == HOLDOUT}
    assert holdout and not holdout & set(received)
    assert len(received) + len(holdout) == READERS
