"""Push a SharpSend segment to an integration now: `manage.py push_segment SEGMENT INTEGRATION`."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from audience.models import AudienceSegment
from integrations.models import AuditAction
from integrations.platforms.errors import UnsupportedCapability
from integrations.services import segment_push

from ._common import OPERATOR_NOTE, audited, find_integration


def find_segment(ident: str) -> AudienceSegment:
    """The SharpSend segment with this id, slug or exact name; CommandError listing them."""
    ident = ident.strip()
    segment = None
    if ident.isdigit():
        segment = AudienceSegment.objects.filter(pk=int(ident)).first()
    segment = segment or AudienceSegment.objects.filter(slug=ident).first()
    segment = segment or AudienceSegment.objects.filter(name=ident).first()
    if segment is not None:
        return segment
    known = [f"  {pk}: {name} ({slug})" for pk, name, slug in
             AudienceSegment.objects.order_by("pk").values_list("pk", "name", "slug")]  # fmt: skip
    listing = "\n".join(known) if known else "  (there are no SharpSend segments yet)"
    raise CommandError(
        f"No SharpSend segment with id, slug or name '{ident}'. Segments:\n{listing}"
    )


class Command(BaseCommand):
    help = (
        "Create or update a SharpSend segment on an integration as a static list, inline: "
        "the first push creates the list, each later one sends only the members added and "
        "removed since the last." + OPERATOR_NOTE
    )

    def add_arguments(self, parser):
        parser.add_argument("segment", help="The SharpSend segment's id, slug or exact name.")
        parser.add_argument("integration", help="The integration's id or exact name.")

    def handle(self, *args, segment: str, integration: str, **options):
        chosen = find_segment(segment)
        target = find_integration(integration)
        try:
            run, created = segment_push.push_segment(chosen, target, "command")
        except UnsupportedCapability as exc:
            raise CommandError(str(exc)) from None
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        if not created:
            raise CommandError(
                f"A push of '{chosen}' to {target} is already {run.get_status_display().lower()} "
                f"(run #{run.pk})."
            )
        run.refresh_from_db()
        push = run.segment_push
        audited(
            "push_segment",
            AuditAction.SEGMENT_PUSH_REQUESTED,
            target,
            f"Push of segment '{chosen}' (run #{run.pk}): {run.status}",
        )
        self.stdout.write(
            f"{chosen} → {target} (list {push.remote_id}{', created' if run.created_remote else ''})"
            f": {run.get_status_display()}, {run.created} added, {run.removed} removed, "
            f"{run.unchanged} unchanged, {run.failed} not accepted, {run.api_calls} API calls."
        )
        for record in run.records.all()[:20]:
            self.stdout.write(
                f"  {record.action} {record.email}: {record.get_outcome_display()} "
                f"{record.code} {record.message} {record.hint}".rstrip()
            )
        if run.status == "failed":
            raise CommandError(run.error)
