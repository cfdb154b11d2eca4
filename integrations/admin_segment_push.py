"""Admin pages of segment pushes: each push's runs, their counts and the refused changes
(read-only: pushes are started from a SharpSend segment's "Create/update on …" action)."""

from __future__ import annotations

from django.contrib import admin

from integrations.admin import ReadOnlyAdmin
from integrations.models import SegmentPush, SegmentPushRecord, SegmentPushRun


class _RecordInline(admin.TabularInline):
    model = SegmentPushRecord
    fields = ("action", "identifier", "outcome", "code", "message", "hint")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


@admin.register(SegmentPushRun)
class SegmentPushRunAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "added", "removed", "unchanged", "failed", "api_calls",
                    "created_at")  # fmt: skip
    list_filter = ("status", "push__integration")
    list_select_related = ("push__segment", "push__integration")
    readonly_fields = (
        "push", "trigger", "status", "created_remote", "added", "removed", "unchanged",
        "rejected_data", "rejected_compliance", "rejected_auth", "throttled", "unknown",
        "api_calls", "error", "created_at", "started_at", "heartbeat_at", "finished_at",
    )  # fmt: skip
    fields = readonly_fields
    inlines = (_RecordInline,)


@admin.register(SegmentPush)
class SegmentPushAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "remote_id", "remote_name", "last_pushed_at", "last_error")
    list_select_related = ("segment", "integration")
    readonly_fields = ("segment", "integration", "remote_id", "remote_name", "created_at",
                       "last_pushed_at", "last_error")  # fmt: skip
    fields = readonly_fields
