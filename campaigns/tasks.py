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
