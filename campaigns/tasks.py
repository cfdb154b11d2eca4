"""django-q2 tasks of the campaigns app (thin over the services)."""

from __future__ import annotations

from campaigns.services import sending


def send_assignment(assignment_id: int) -> str:
    assignment = sending.send_assignment(assignment_id)
    return f"{assignment}: {assignment.get_status_display().lower()}"


def refresh_metrics() -> str:
    """Housekeeping: read the metrics of every send that is due."""
    from campaigns.services import metrics

    result = metrics.refresh_metrics()
    return f"{result.read} read, {len(result.failed)} failed"


def select_ab_winners() -> str:
    """Housekeeping: decide every running A/B test."""
    from campaigns.services import experiments

    return ", ".join(f"{n} {state}" for state, n in experiments.select_winners().items()) or "none"
