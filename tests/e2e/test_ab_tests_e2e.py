"""An A/B test end to end over real HTTP (Mailchimp: one campaign a variant, one report each):
split, each variant's group pushed as a tag and sent once, metrics read, the better subject
wins by the test, the winner goes to the rest; every reader gets exactly one message (the
holdout none), however often the steps are rerun."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from audience.models import Subscriber
from campaigns.experiments.split import HOLDOUT, REST
from campaigns.models import CampaignSend, ExperimentMember, ExperimentState, SendState
from campaigns.services import ab_sending, experiments, metrics, workflow
from integrations.models import Segment
from integrations.sandbox import engagement, registry
from integrations.sandbox.models import SandboxSegment, SandboxSend
from integrations.services import membership, sync
from integrations.services.segments import import_segments

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
READERS = 10_000  # 2,500 a variant: the subjects differ by 9.5 points, the test needs about 4
SUBJECTS = [
    "Markets this week", "Three stocks to watch", "The Fed, explained", "Your Monday brief",
    "What moved today", "Dividends in December", "Five charts", "Growth at a fair price",
    "Income ideas", "The week ahead", "Small caps, big moves", "Bonds are back",
]  # fmt: skip


def worst_and_best() -> tuple[str, str]:
    ranked = sorted(SUBJECTS, key=engagement.subject_lift)
    return ranked[0], ranked[-1]


def decided_by_the_test(experiment, best: str) -> None:
    """The test decides now, for the better subject."""
    assert experiments.select_winners() == {"winner": 1}
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.DECIDED and experiment.decided_by == "test"
    assert experiment.winner.subject == best


def winner_sent_once(experiment) -> None:
    """The winner goes to the rest; a rerun sends nothing more."""
    ab_sending.send_winner(experiment)
    ab_sending.send_winner(experiment)
    experiment.refresh_from_db()
    assert experiment.state == ExperimentState.WINNER_SENT


@pytest.fixture
def mailchimp(make_integration, sandbox_url, e2e_clock):
    Subscriber.objects.bulk_create(Subscriber(email=f"ab{i}@example.com") for i in range(READERS))
    registry.seed("mailchimp")
    integration = make_integration("mailchimp", base_url=f"{sandbox_url}/mailchimp")
    run, _ = sync.start_sync(integration, "command")
    sync.execute_sync(run.pk)
    import_segments(integration)
    everyone = Segment.objects.get(integration=integration, name="All readers")
    assert membership.refresh_members(everyone).matched == READERS
    return integration


def recipients(send: SandboxSend) -> set[str]:
    segment_id = send.body["recipients"]["segment_opts"]["saved_segment_id"]
    tag = SandboxSegment.objects.get(
        platform="mailchimp", account=send.account, remote_id=segment_id
    )
    return set(tag.members().values_list("identifier", flat=True))


def test_variants_then_the_winner_each_reader_once(
    mailchimp, make_assignment, author, approver, admin_client
):
    worst, best = worst_and_best()
    assignment = make_assignment((mailchimp, "3", "campaign", ""))
    experiment = experiments.configure(
        assignment, [{"subject": worst}, {"subject": best}],
        test_share=0.5, holdout_share=0.1, min_sample=300,
    )  # fmt: skip
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    assert not CampaignSend.objects.exists()  # the assignment's own target sends nothing

    sends = ab_sending.launch(experiment)
    assert [s.state for s in sends] == [SendState.SENT, SendState.SENT]
    ab_sending.launch(experiment)  # a rerun: nothing pushed or sent again
    variant_sends = list(SandboxSend.objects.filter(platform="mailchimp").order_by("pk"))
    assert len(variant_sends) == 2 and all(s.sends == 1 for s in variant_sends)
    a, b = (recipients(s) for s in variant_sends)
    groups = dict(ExperimentMember.objects.values_list("subscriber__email", "group"))
    assert a == {e for e, g in groups.items() if g == "A"}
    assert b == {e for e, g in groups.items() if g == "B"} and not a & b
    assert {s.body["settings"]["subject_line"] for s in variant_sends} == {worst, best}

    # A day later the metrics are read and the test decides.
    day_ago = timezone.now() - timedelta(hours=24)
    SandboxSend.objects.update(sent_at=day_ago)
    CampaignSend.objects.update(sent_at=day_ago)
    assert metrics.refresh_metrics().read == 2
    decided_by_the_test(experiment, best)
    page = admin_client.get(f"/console/analytics/assignments/{assignment.pk}/").content.decode()
    assert "A/B test" in page and worst in page and best in page
    assert f"Winner: <strong>B: {best}</strong> (decided by test" in page

    winner_sent_once(experiment)
    rest_send = SandboxSend.objects.filter(platform="mailchimp").order_by("pk").last()
    assert SandboxSend.objects.filter(platform="mailchimp").count() == 3
    rest = recipients(rest_send)
    assert rest_send.body["settings"]["subject_line"] == best
    assert rest == {e for e, g in groups.items() if g == REST}
    received = [*a, *b, *rest]
    assert len(received) == len(set(received))  # nobody got two messages
    holdout = {e for e, g in groups.items() if g == HOLDOUT}
    assert holdout and not holdout & set(received)  # the holdout got none
    assert len(received) + len(holdout) == READERS
    assignment.refresh_from_db()
    assert assignment.status == "sent"
