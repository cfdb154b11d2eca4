"""The analytics dashboard's figures: each send's latest metrics, summed per assignment, per
platform and per segment, and how opens and clicks grew over the first 72 hours.

Each function is a fixed number of queries: the latest snapshot of every send is picked in the
database (a subquery), never by reading every snapshot.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import OuterRef, QuerySet, Subquery

from campaigns.models import Assignment, CampaignSend, MetricsSnapshot

FIGURES = ("sent", "delivered", "opened", "clicked", "bounced", "unsubscribed", "complained")
SERIES_HOURS = 72


@dataclass
class Totals:
    """Summed figures of some sends (a figure no send reported stays None)."""

    label: str = ""
    sends: int = 0
    figures: dict = field(default_factory=lambda: dict.fromkeys(FIGURES))
    assignment: Assignment | None = None  # by_assignment's rows
    send: CampaignSend | None = None  # by_target's rows

    def add(self, snapshot: MetricsSnapshot | None) -> None:
        self.sends += 1
        if snapshot is None:
            return
        for name in FIGURES:
            value = getattr(snapshot, name)
            if value is not None:
                self.figures[name] = (self.figures[name] or 0) + value

    def rate(self, name: str) -> float | None:
        base = self.figures["delivered"] or self.figures["sent"]
        value = self.figures[name]
        return value / base if base and value is not None else None

    @property
    def open_rate(self):
        return self.rate("opened")

    @property
    def click_rate(self):
        return self.rate("clicked")

    @property
    def click_to_open(self):
        opened, clicked = self.figures["opened"], self.figures["clicked"]
        return clicked / opened if opened and clicked is not None else None

    def row(self) -> dict:
        return {
            "label": self.label,
            "sends": self.sends,
            **self.figures,
            "open_rate": self.open_rate,
            "click_rate": self.click_rate,
        }


def sends_with_latest(
    sends: QuerySet[CampaignSend],
) -> list[tuple[CampaignSend, MetricsSnapshot | None]]:
    """Each send with its newest snapshot (two queries)."""
    newest = MetricsSnapshot.objects.filter(send=OuterRef("pk")).order_by("-taken_at", "-pk")
    rows = list(
        sends.select_related(
            "target__assignment", "target__integration", "target__segment", "target__variant"
        )
        .annotate(latest_id=Subquery(newest.values("pk")[:1]))
        .order_by("target__assignment_id", "target_id")
    )
    snapshots = MetricsSnapshot.objects.in_bulk([r.latest_id for r in rows if r.latest_id])
    return [(send, snapshots.get(send.latest_id)) for send in rows]


def sent_sends() -> QuerySet[CampaignSend]:
    return CampaignSend.objects.filter(sent_at__isnull=False)


def by_assignment(pairs) -> list[Totals]:
    totals: dict[int, Totals] = {}
    for send, snapshot in pairs:
        assignment = send.target.assignment
        row = totals.setdefault(
            assignment.pk, Totals(label=assignment.title, assignment=assignment)
        )
        row.add(snapshot)
    return list(totals.values())


def by_platform(pairs) -> list[Totals]:
    totals: dict[int, Totals] = {}
    for send, snapshot in pairs:
        integration = send.target.integration
        totals.setdefault(integration.pk, Totals(label=integration.name)).add(snapshot)
    return sorted(totals.values(), key=lambda t: t.label)


def by_target(pairs) -> list[Totals]:
    """One row per target: its platform and segment (the per-segment breakdown)."""
    rows = []
    for send, snapshot in pairs:
        target = send.target
        segment = target.segment.name if target.segment_id else "default audience"
        label = f"{target.integration.name} · {segment}"
        if target.variant_id:  # an A/B test's send: which variant, to which group
            group = "the rest (winner)" if target.audience_group else "its split"
            label += f" · variant {target.variant.label} to {group}"
        elif target.audience_group == "native":  # the platform's own A/B test: every variant
            label += " · A/B test run by the platform (every variant, then the winner)"
        row = Totals(label=label, send=send)
        row.add(snapshot)
        rows.append(row)
    return rows


def growth(assignment: Assignment) -> dict:
    """Opens and clicks of each target's send by hours since it went out (first 72 h)."""
    series: dict[str, list] = defaultdict(list)
    snapshots = (
        MetricsSnapshot.objects.filter(send__target__assignment=assignment)
        .select_related("send__target__integration")
        .order_by("send_id", "taken_at")
    )
    for snapshot in snapshots:
        send = snapshot.send
        hours = (snapshot.taken_at - send.sent_at) / timedelta(hours=1) if send.sent_at else None
        if hours is None or not 0 <= hours <= SERIES_HOURS:
            continue
        name = send.target.integration.name
        series[name].append(
            {"hours": round(hours, 2), "opened": snapshot.opened, "clicked": snapshot.clicked}
        )
    return dict(series)
