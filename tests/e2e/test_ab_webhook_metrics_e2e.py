"""An A/B test decided by the engagement the platform posts by webhook, over real HTTP, on
Customer.io and Iterable: neither reports one send's figures through its API (Customer.io
counts a broadcast, every trigger of it together; the console reads none back from Iterable),
so each variant's figures are counted from the signed events the emulator posts to the running
console. Each variant's group is pushed as a segment or list and sent (Customer.io: a trigger
of broadcast 1 each; Iterable: a blast each), the events flow in, the better subject wins by
the test, and the winner goes to the rest. Every reader gets at most one message (the holdout
none)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone
from django_q.conf import Conf

from campaigns.experiments.split import HOLDOUT, REST
from campaigns.models import ExperimentMember, SendState
from campaigns.services import ab_sending, event_metrics, experiments, metrics, workflow
from integrations.models import Segment, WebhookEvent, WebhookState
from integrations.sandbox import accounts, outbound
from integrations.sandbox.customerio.webhooks import _audience as customerio_audience
from integrations.sandbox.iterable.webhooks import _audience_of as iterable_audience
from integrations.sandbox.models import SandboxSend, SandboxWebhookEvent
from integrations.services import membership, webhook_events
from integrations.services.segments import import_segments
from tests.e2e.test_ab_tests_e2e import decided_by_the_test, winner_sent_once, worst_and_best
from tests.e2e.test_webhooks_e2e import _hook_up, connected  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# 1,350 readers a variant: the best and worst subjects' open rates differ by about 9.5 points,
# which the sequential test tells apart at this size.
READERS = 3000


@dataclass(frozen=True)
class Case:
    method: str
    remote_campaign: str  # the broadcast a trigger-only send fires ("" for a blast)
    kind: str  # what the emulator records for one send
    audience: object  # (account, recorded send) → outbound.SendAudience


CASES = {
    "customerio": Case("api_triggered_broadcast", "1", "trigger", customerio_audience),
    "iterable": Case("blast_campaign", "", "campaign", iterable_audience),
}


def _sent(slug: str, kind: str):
    return list(SandboxSend.objects.filter(platform=slug, kind=kind, sends=1).order_by("pk"))


def _audience(slug: str, case: Case, send) -> outbound.SendAudience:
    return case.audience(accounts.demo_account(slug), send)


def _readers_posted(slug: str, send, kind: str) -> int:
    events = SandboxWebhookEvent.objects.filter(platform=slug, send_id=send.remote_id, kind=kind)
    return events.values("email").distinct().count()


def _post_everything(slug: str, until) -> int:
    """Every event the emulator has for the sends so far, posted to the console."""
    posted = 0
    while True:
        report = outbound.post_pending(until, slug)
        assert all(d.status == 200 for d in report.deliveries), report
        if not report.deliveries:
            return posted
        posted += len(report.deliveries)


@pytest.mark.parametrize("slug", sorted(CASES))
def test_a_test_decided_by_webhook_events(
    slug,
    request,
    live_server,
    make_subscribers,
    run_sync,
    make_assignment,
    author,
    approver,
    monkeypatch,
):
    monkeypatch.setattr(Conf, "SYNC", True)  # each delivery processed as it arrives,
    monkeypatch.setattr(webhook_events, "LINGER_SECONDS", 0)  # with no pause for more
    case = CASES[slug]
    make_subscribers(READERS, unsubscribed=())
    # `connected` is taken by name (it lives in test_webhooks_e2e); `live_server` is asked for
    # above so the sandbox's hosts point at it from the start.
    integration = request.getfixturevalue("connected")(slug)
    assert run_sync(integration).status == "succeeded"
    _hook_up(integration)
    import_segments(integration)
    readers = Segment.objects.get(integration=integration, name="All readers")
    assert membership.refresh_members(readers).matched == READERS

    worst, best = worst_and_best()
    target = (integration, readers.remote_id, case.method, case.remote_campaign)
    assignment = make_assignment(target)
    experiment = experiments.configure(
        assignment, [{"subject": worst}, {"subject": best}],
        test_share=0.9, holdout_share=0.05, min_sample=300,
    )  # fmt: skip
    assert experiment.method == "split"
    workflow.submit(assignment, author)
    workflow.approve(assignment, approver, queue_send=False)
    sends = ab_sending.launch(experiment)
    assert [s.state for s in sends] == [SendState.SENT, SendState.SENT]
    a, b = (_audience(slug, case, s) for s in _sent(slug, case.kind))
    groups = dict(ExperimentMember.objects.values_list("subscriber__email", "group"))
    assert set(a.emails) == {e.lower() for e, g in groups.items() if g == "A"}
    assert set(b.emails) == {e.lower() for e, g in groups.items() if g == "B"}
    assert (a.subject, b.subject) == (worst, best) and not set(a.emails) & set(b.emails)

    # Nothing posted yet: no figures of the sends' own (never the whole broadcast's).
    metrics.refresh_metrics()
    assert experiments.select_winners() == {"collecting": 1}

    # A day of engagement posted, signed, to the console; the figures counted from it.
    assert _post_everything(slug, timezone.now() + timedelta(hours=24)) > READERS
    assert (
        not WebhookEvent.objects.filter(integration=integration)
        .exclude(state=WebhookState.PROCESSED)
        .exists()
    )
    for send in sends:
        send.refresh_from_db()
        metrics.count_from_events(send)
    counts = {c.label: c for c in experiments.variant_counts(experiment)}
    for label, recorded in zip("AB", _sent(slug, case.kind), strict=True):
        # What the emulator posted for the variant's send, reader by reader.
        assert (counts[label].sent, counts[label].opened, counts[label].clicked) == tuple(
            _readers_posted(slug, recorded, kind) for kind in ("delivered", "opened", "clicked")
        )
    assert counts["A"].opened / counts["A"].sent < counts["B"].opened / counts["B"].sent
    snapshot = metrics.latest(sends[0])
    assert snapshot.note == event_metrics.NOTE

    decided_by_the_test(experiment, best)
    winner_sent_once(experiment)
    recorded = _sent(slug, case.kind)
    assert len(recorded) == 3
    rest = _audience(slug, case, recorded[-1])
    assert rest.subject == best
    assert set(rest.emails) == {e.lower() for e, g in groups.items() if g == REST}
    received = [*a.emails, *b.emails, *rest.emails]
    assert len(received) == len(set(received))  # nobody got two messages
    holdout = {e.lower() for e, g in groups.items() if g == HOLDOUT}
    assert holdout and not holdout & set(received)
    assert len(received) + len(holdout) == READERS
