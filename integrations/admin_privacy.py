"""The privacy requests in the admin: open one, see each platform's task, retry failures.

Opening a request and retrying need `integrations.handle_privacyrequest`; reading needs the
view permission. Nothing here runs platform calls inline: the service queues the tasks.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from audience.suppression import suppression_hash
from integrations.admin import RefusedActionsAdmin
from integrations.models import (
    SETTLED_STATES,
    PrivacyKind,
    PrivacyRequest,
    PrivacyStatus,
    PrivacyTask,
)
from integrations.services import privacy

HANDLE = "integrations.handle_privacyrequest"


class OverdueFilter(admin.SimpleListFilter):
    title = "deadline"
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", "Overdue"), ("no", "Within the deadline or complete")]

    def queryset(self, request, queryset):
        late = Q(deadline__lt=timezone.now()) & ~Q(status=PrivacyStatus.COMPLETE)
        if self.value() == "yes":
            return queryset.filter(late)
        if self.value() == "no":
            return queryset.exclude(late)
        return queryset


class OpenRequestForm(forms.ModelForm):
    """The add form: the kind and the subject's email (the service does the rest)."""

    class Meta:
        model = PrivacyRequest
        fields = ["kind", "subject_email"]
        labels = {"subject_email": "Subject's email"}

    def clean_subject_email(self):
        return (self.cleaned_data["subject_email"] or "").strip().lower()


class PrivacyTaskInline(admin.TabularInline):
    model = PrivacyTask
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "integration_name",
        "platform",
        "state",
        "reason",
        "job_id",
        "platform_id",
        "platform_id_source",
        "attempts",
        "started_at",
        "finished_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PrivacyRequest)
class PrivacyRequestAdmin(RefusedActionsAdmin):
    list_display = (
        "number",
        "kind",
        "status",
        "progress",
        "received_at",
        "deadline",
        "is_overdue",
        "handled_by",
    )
    list_filter = ("kind", "status", OverdueFilter)
    list_select_related = ("handled_by",)
    search_fields = ("subject_email",)
    inlines = [PrivacyTaskInline]
    actions = ["retry_failed"]
    readonly_fields = (
        "kind",
        "status",
        "subject_email",
        "subject_hash",
        "received_at",
        "deadline",
        "is_overdue",
        "handled_by",
        "via",
        "local_done_at",
        "local_result",
        "completed_at",
        "bundle_download",
        "bundle_expires_at",
    )
    exclude = ("bundle",)

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                task_count=Count("tasks"),
                settled_count=Count("tasks", filter=Q(tasks__state__in=SETTLED_STATES)),
            )
        )

    def get_search_results(self, request, queryset, search_term):
        """A closed request keeps only the email's keyed hash: search by it too."""
        results, duplicates = super().get_search_results(request, queryset, search_term)
        if "@" in search_term:
            results |= queryset.filter(subject_hash=suppression_hash(search_term))
        return results, duplicates

    # --- forms: add = open a request; change = read only ----------------------------------

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = OpenRequestForm
        return super().get_form(request, obj, change=change, **kwargs)

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj is not None else ()

    def get_exclude(self, request, obj=None):
        return self.exclude if obj is not None else ()

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["kind", "subject_email"]
        return self.readonly_fields

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and request.user.has_perm(HANDLE)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_handle_permission(self, request) -> bool:
        return request.user.has_perm(HANDLE)

    def save_model(self, request, obj, form, change):
        opened = privacy.open_request(
            form.cleaned_data["kind"],
            form.cleaned_data["subject_email"],
            actor=request.user,
            via="admin",
        )
        privacy.advance(opened)
        obj.pk = opened.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        pass  # the service made the tasks

    # --- columns ---------------------------------------------------------------------------

    @admin.display(description="#", ordering="pk")
    def number(self, obj) -> str:
        return f"#{obj.pk}"

    @admin.display(description="platforms settled")
    def progress(self, obj) -> str:
        return f"{obj.settled_count} / {obj.task_count}"

    @admin.display(description="overdue", boolean=True)
    def is_overdue(self, obj) -> bool:
        return obj.overdue

    @admin.display(description="access bundle")
    def bundle_download(self, obj):
        if obj.kind != PrivacyKind.ACCESS:
            return "—"
        if not obj.bundle_available:
            return "not available (not complete, or expired and purged)"
        return format_html(
            '<a class="button" href="{}">Download (JSON)</a> <a href="{}">Read it here</a>',
            reverse("integrations:privacy-bundle", args=[obj.pk]),
            reverse("integrations:privacy-bundle-summary", args=[obj.pk]),
        )

    # --- actions ---------------------------------------------------------------------------

    @admin.action(description="Retry failed tasks", permissions=["handle"])
    def retry_failed(self, request, queryset):
        total = 0
        for item in queryset.exclude(status=PrivacyStatus.COMPLETE):
            total += privacy.retry_failed(item, actor=request.user, via="admin")
        level = messages.SUCCESS if total else messages.WARNING
        self.message_user(request, f"{total} failed task(s) queued again.", level)
