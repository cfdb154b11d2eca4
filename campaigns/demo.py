"""Two demo assignments so a first run's dashboard is not empty: one sent, one in review.

`make run` seeds the demo before the web server (and so the sandbox) is up, and the first
syncs must have put the demo readers on the emulated platforms before a segment has members.
So seed_demo only queues `advance_demo`, a repeating django-q2 schedule; each run does what is
possible now (import the targets' segments once their integration has synced, create the two
assignments, approve and send the first through the real send ledger, read its metrics) and the
schedule removes itself when everything is done. Nothing here shortcuts the real path: the sent
demo is approved by the admin user, sent over HTTP to the sandbox, and its metrics are what the
sandbox reports.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import transaction
from django_q.models import Schedule

from campaigns.models import (
    Assignment,
    AssignmentStatus,
    AssignmentTarget,
    CampaignSend,
    SendState,
)
from campaigns.services import metrics, sending, workflow
from integrations.models import Integration, Segment
from integrations.services.segments import import_segments

SCHEDULE = "campaigns: demo assignments"
EDITOR = "demo-editor"
DEMO_SEGMENT = "Growth Investors"


@dataclass(frozen=True)
class DemoTarget:
    platform: str
    method: str
    remote_campaign_id: str = ""  # a trigger-only method's broadcast (seeded in the sandbox)


@dataclass(frozen=True)
class DemoAssignment:
    title: str
    subject: str
    preview_text: str
    html: str
    send: bool  # approved and sent; otherwise left in review for the user to approve
    targets: tuple[DemoTarget, ...]


TARGETS = (
    DemoTarget("mailchimp", "campaign"),
    DemoTarget("customerio", "api_triggered_broadcast", "1"),
)
DEMOS = (
    DemoAssignment(
        title="Markets this week (demo)",
        subject="Three charts that explain this week's markets",
        preview_text="Rates, earnings and the dollar",
        html="<h1>Markets this week</h1><p>Three charts that explain the week.</p>",
        send=True,
        targets=TARGETS,
    ),
    DemoAssignment(
        title="Dividend season (demo, in review)",
        subject="The dividend calendar for December",
        preview_text="Ex-dates you should know",
        html="<h1>Dividend season</h1><p>The ex-dates of the month.</p>",
        send=False,
        targets=TARGETS,
    ),
)


def queue_demo_assignments() -> Schedule:
    """Queue the demo's assignments: tried every minute until done (then the schedule goes)."""
    schedule, _ = Schedule.objects.update_or_create(
        name=SCHEDULE,
        defaults={
            "func": "campaigns.tasks.advance_demo",
            "schedule_type": Schedule.MINUTES,
            "minutes": 1,
            "repeats": 60,  # an hour of tries: a demo whose syncs never finish stops asking
        },
    )
    return schedule


def _integration(platform: str) -> Integration | None:
    return Integration.objects.filter(platform=platform, name__endswith="(sandbox)").first()


def _segment(integration: Integration) -> Segment | None:
    """The integration's demo segment, imported once its first sync has put readers there."""
    if integration.last_success_at is None:
        return None
    segment = Segment.objects.filter(integration=integration, name=DEMO_SEGMENT).first()
    if segment is None:
        import_segments(integration)
        segment = Segment.objects.filter(integration=integration, name=DEMO_SEGMENT).first()
    return segment


def _create(demo: DemoAssignment, segments: dict[str, Segment]) -> Assignment:
    author = _editor()
    with transaction.atomic():
        assignment = Assignment.objects.create(
            title=demo.title,
            subject=demo.subject,
            preview_text=demo.preview_text,
            html=demo.html,
            plain_text=demo.preview_text,
            from_name="SharpSend Demo Desk",
            reply_to="desk@example.com",
            author=author,
        )
        for target in demo.targets:
            segment = segments[target.platform]
            AssignmentTarget.objects.create(
                assignment=assignment,
                integration=segment.integration,
                segment=segment,
                method=target.method,
                remote_template_or_campaign_id=target.remote_campaign_id,
            )
    return workflow.submit(assignment, author, "Demo assignment")


def _editor():
    """The demo's author: may write and submit assignments, not approve them."""
    editor, created = get_user_model().objects.get_or_create(
        username=EDITOR, defaults={"first_name": "Demo", "last_name": "Editor", "is_staff": True}
    )
    if created:
        editor.set_unusable_password()
        editor.save(update_fields=["password"])
        editor.user_permissions.set(
            Permission.objects.filter(
                content_type__app_label="campaigns",
                codename__in=("view_assignment", "add_assignment", "change_assignment"),
            )
        )
    return get_user_model().objects.get(pk=editor.pk)  # a fresh permission cache


def _approver():
    return get_user_model().objects.filter(is_superuser=True).order_by("pk").first()


def advance_demo() -> str:
    """Do what the demo still needs and can do now; say what stands."""
    segments = {}
    for target in TARGETS:
        integration = _integration(target.platform)
        segment = _segment(integration) if integration else None
        if segment is None:
            return f"Waiting for the first sync of the {target.platform} sandbox integration."
        segments[target.platform] = segment
    approver = _approver()
    if approver is None:
        return "Waiting for an admin user (manage.py ensure_admin) to approve the demo."
    for demo in DEMOS:
        assignment = Assignment.objects.filter(title=demo.title).first()
        if assignment is None:
            assignment = _create(demo, segments)
        if demo.send and assignment.status == AssignmentStatus.IN_REVIEW:
            workflow.approve(assignment, approver, "Demo assignment", queue_send=False)
        if demo.send and assignment.status in (AssignmentStatus.APPROVED, AssignmentStatus.SENDING):
            sending.send_assignment(assignment.pk)
    sent = CampaignSend.objects.filter(
        target__assignment__title=DEMOS[0].title, state=SendState.SENT
    ).select_related("target__integration")
    unread = [s for s in sent if metrics.source_of(s) and metrics.latest(s) is None]
    metrics.refresh_metrics(unread)
    Schedule.objects.filter(name=SCHEDULE).delete()
    first = Assignment.objects.get(title=DEMOS[0].title)
    return f"Demo assignments ready: “{first}” {first.get_status_display().lower()}."
