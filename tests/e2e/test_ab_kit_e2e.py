"""An A/B test split by the console on Kit over real HTTP: each variant's group pushed as a
tag and sent as its own broadcast, Kit's broadcast stats read back, and, with too few readers
for the test to separate the subjects, the no-winner rule ("the best so far") decides once the
longest wait is over; the winner goes to the rest as a third broadcast. Every reader gets at
most one message, however often the steps are rerun. (Kit counts each API request: the
audience is small so the sync stays under its 120 a minute.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.experiments.split import HOLDOUT, REST
from campaigns.models import CampaignSend, ExperimentMember, ExperimentState, SendState
from campaigns.services import ab_sending, experiments, metrics, workflow
from integrations.models import Segment
from integrations.platforms.registry import get_platform
from integrations.sandbox import registry
from integrations.sandbox.models import SandboxSegment, SandboxSend
from integrations.services import membership
from integrations.services.segments import import_segments

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
READERS = 90


@pytest.fixture
def kit(make_integration, make_subscribers, run_sync, sandbox_url, e2e_clock):
    registry.seed("kit")
    interest = ("attributes.interest", "interest", "", False)
    integration = make_integration(
        "kit", base_url=f"{sandbox_url}/kit",
        mappings=(*get_platform("kit").suggested_mappings, interest),
    )  # fmt: skip
    make_subscribers(READERS, unsubscribed=())
    assert run_sync(integration).status == "succeeded"
    import_segments(integration)
    # A tag (Kit lists the members of tags only): the readers interested in growth.
    growth = Segment.objects.get(integration=integration, name="Growth Investors")
    assert membership.refresh_members(growth).matched == READERS // 3
    return integration, growth


def recipients(send: SandboxSend) -> set[str]:
    """Who a broadcast went to: the members of the tag its subscriber filter names."""
    (group,) = send.body["subscriber_filter"][0]["all"]
    (tag_id,) = group["ids"]
    tag = SandboxSegment.objects.get(platform="kit", kind="tag", remote_id=tag_id)
    return set(tag.members().values_list("identifier", flat=True))


def broadcasts():
    return list(SandboxSend.objects.filter(platform="kit", kind="broadcast").order_by("pk"))


def test_kit_variants_then_the_best_so_far_to_the_rest_each_reader_once(
    kit, make_assignment, author, approver
):
    integration, growth = kit
    assignment = make_assignment((integration, growth.remote_id, "broadcast", ""))
    experiment = experiments.configure(
        assignment, [{"subject": "Markets this week"}, {"subject": "Three stocks to watch"}],
        test_share=0.5, holdout_share=0.1, min_sample=10, longest_wait_hours=4,
    )  # fmt: skip
    assert experiment.method == "split"  # Kit has no A/B API: the console splits
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)

    sends = ab_sending.launch(experiment)
    ab_sending.launch(experiment)  # a rerun pushes and sends nothing more
    assert [s.state for s in sends] == [SendState.SENT, SendState.SENT]
    a, b = (recipients(s) for s in broadcasts())
    groups = dict(ExperimentMember.objects.values_list("subscriber__email", "group"))
    assert a == {e.lower() for e, g in groups.items() if g == "A"} and a
    assert b == {e.lower() for e, g in groups.items() if g == "B"} and b and not a & b

    # Five hours on: Kit's stats are read; too few readers to tell, so the rule decides.
    later = timezone.now() - timedelta(hours=5)
    SandboxSend.objects.update(sent_at=later)
    CampaignSend.objects.update(sent_at=later)
    experiment.refresh_from_db()
    experiment.started_at = later
    experiment.save(update_fields=["started_at"])
    assert metrics.refresh_metrics().read == 2
    experiments.select_winners()
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.DECIDED, experiment.decision_reason
    assert experiment.decided_by == "policy" and experiment.winner is not None

    ab_sending.send_winner(experiment)
    ab_sending.send_winner(experiment)  # a rerun sends nothing more
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.WINNER_SENT
    sent = broadcasts()
    assert len(sent) == 3 and sent[-1].body["subject"] == experiment.winner.subject
    rest = recipients(sent[-1])
    assert rest == {e.lower() for e, g in groups.items() if g == REST}
    received = [*a, *b, *rest]
    assert len(received) == len(set(received))  # nobody got two messages
    holdout = {e.lower() for e, g in groups.items() if g == HOLDOUT}
    assert not holdout & set(received)
    tagged = SandboxSegment.objects.get(platform="kit", kind="tag", name="Growth Investors")
    assert len(received) + len(holdout) == tagged.members().count()
