"""Admin page of segment push targets (segment × integration, with the platform's list id).

Read-only: pushes are started from a SharpSend segment's "Create/update on …" action. Each
push is a run like a sync's (kind "Segment push"): its counts and refused changes are in the
sync runs' pages ("Sync logs"), which this page links to.
"""

from __future__ import annotations

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from integrations.admin import ReadOnlyAdmin
from integrations.models import SegmentPush, SyncKind


def push_runs_url(**filters) -> str:
    """The sync runs' list, filtered to segment pushes (and to `filters`)."""
    query = {"kind__exact": SyncKind.SEGMENT, **filters}
    return reverse("admin:integrations_syncrun_changelist") + "?" + urlencode(query)


@admin.register(SegmentPush)
class SegmentPushAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "remote_id", "remote_name", "last_pushed_at", "last_error",
                    "runs_link")  # fmt: skip
    list_select_related = ("segment", "integration")
    readonly_fields = ("segment", "integration", "remote_id", "remote_name", "created_at",
                       "last_pushed_at", "last_error", "runs_link")  # fmt: skip
    fields = readonly_fields

    @admin.display(description="Runs")
    def runs_link(self, push: SegmentPush):
        if push.pk is None:
            return "—"
        return format_html(
            '<a href="{}">Push runs</a>', push_runs_url(segment_push__id__exact=push.pk)
        )
