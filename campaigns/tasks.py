"""django-q2 tasks of the campaigns app (thin over the services)."""

from __future__ import annotations

from campaigns.services import sending


def send_assignment(assignment_id: int) -> str:
    assignment = sending.send_assignment(assignment_id)
    return f"{assignment}: {assignment.get_status_display().lower()}"


def look_after_sends() -> str:
    """Housekeeping: resume the sends left unfinished."""
    return f"{sending.look_after_sends()} assignments queued again"


def refresh_metrics() -> str:
    """Housekeeping: read the metrics of every send that is due."""
    from campaigns.services import metrics

    result = metrics.refresh_metrics()
    return f"{result.read} read, {len(result.failed)} failed"


def select_ab_winners() -> str:
    """Housekeeping: decide every running A/B test and send each winner to the rest."""
    from campaigns.models import Experiment, ExperimentState
    from campaigns.services import ab_sending, experiments

    decided = experiments.select_winners()
    for experiment in Experiment.objects.filter(state=ExperimentState.DECIDED):
        try:
            ab_sending.send_winner(experiment)
        except ab_sending.ExperimentError as exc:  # kept on the test; the next run tries again
            experiment.decision_reason += f" Sending the winner: {exc}"
            experiment.save(update_fields=["decision_reason"])
    return ", ".join(f"{n} {state}" for state, n in decided.items()) or "none"


def run_experiment(assignment_id: int) -> str:
    """An approved assignment's A/B test: split, push and send each variant once."""
    from campaigns.models import Experiment
    from campaigns.services import ab_sending

    sends = ab_sending.launch(Experiment.objects.get(assignment_id=assignment_id))
    return f"{len(sends)} variant sends: " + ", ".join(s.state for s in sends)


def advance_demo() -> str:
    """The demo's assignments (seed_demo): one more step each minute until they are ready."""
    from campaigns import demo

    return demo.advance_demo()
